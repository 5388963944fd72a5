"""The synced command tree, as Discord keeps it, and turning a test's call into interaction data.

A test says ``"tag add", {"name": "faq"}``; this finds the synced top-level command,
walks its subcommand group and subcommand, checks and converts every option the way the Discord
client would before sending, and builds the ``resolved`` block for users, channels and roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .permissions import permission_names
from .records import Attachment
from .world import Channel, Guild, Member, World, new_snowflake

SUB_COMMAND, SUB_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)


class CommandRefused(Exception):
    """Discord itself refused: the member lacks the command's default permission."""


class CommandNotSynced(LookupError):
    """The test invoked a command Discord does not know (never synced, or a typo)."""


class BadOption(ValueError):
    """An option the Discord client itself would not let a user send."""


@dataclass
class ResolvedCommand:
    """A synced command path: the top-level command and the subcommand that runs."""

    top: dict[str, Any]
    leaf: dict[str, Any]
    path: list[str]
    guild_scoped: bool

    @property
    def name(self) -> str:
        return self.top["name"]

    @property
    def required_permissions(self) -> int | None:
        value = self.top.get("default_member_permissions")
        return None if value is None else int(value)


@dataclass
class BuiltOptions:
    """The ``options`` tree and ``resolved`` block of an APPLICATION_COMMAND interaction."""

    options: list[dict[str, Any]]
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


class CommandRegistry:
    """Commands PUT by the bot, global and per guild, with stable ids across re-syncs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.global_commands: dict[str, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[str, dict[str, Any]]] = {}
        self.sync_count = 0

    def put(self, guild_id: int | None, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite, answered the way Discord answers it."""
        store = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, {})
        fresh: dict[str, dict[str, Any]] = {}
        for command in body:
            key = _key(command["name"], command.get("type") or 1)  # a name may repeat per type
            old = store.get(key)
            perms = command.get("default_member_permissions")
            saved = {
                **command,
                "id": old["id"] if old else str(new_snowflake()),
                "application_id": str(self.world.application_id),
                "version": str(new_snowflake()),
                "type": command.get("type") or 1,
                "description": command.get("description") or "",
                "default_member_permissions": None if perms is None else str(perms),
                "options": command.get("options") or [],
            }
            if guild_id is not None:
                saved["guild_id"] = str(guild_id)
            fresh[key] = saved
        if guild_id is None:
            self.global_commands = fresh
        else:
            self.guild_commands[guild_id] = fresh
        self.sync_count += 1
        return list(fresh.values())

    def get(self, guild_id: int | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return list(self.global_commands.values())
        return list(self.guild_commands.get(guild_id, {}).values())

    def resolve(self, command: str, guild_id: int) -> ResolvedCommand:
        """``"tag add"`` -> the synced command, group and subcommand (guild first)."""
        names = command.strip().lstrip("/").split()
        if not names:
            raise CommandNotSynced("empty command")
        top = self.guild_commands.get(guild_id, {}).get(_key(names[0]))
        guild_scoped = top is not None
        top = top or self.global_commands.get(_key(names[0]))
        if top is None:
            raise CommandNotSynced(f"/{names[0]} was not synced")
        leaf = top
        for name in names[1:]:
            subs = [o for o in leaf.get("options") or [] if o["type"] in (SUB_COMMAND, SUB_GROUP)]
            match = next((o for o in subs if o["name"] == name), None)
            if match is None:
                raise CommandNotSynced(f"/{' '.join(names)}: no subcommand {name!r}")
            leaf = match
        if any(o["type"] in (SUB_COMMAND, SUB_GROUP) for o in leaf.get("options") or []):
            raise CommandNotSynced(f"/{' '.join(names)} is a group; name a subcommand")
        return ResolvedCommand(top, leaf, names, guild_scoped)

    def build(
        self,
        command: ResolvedCommand,
        values: dict[str, Any],
        guild: Guild,
        *,
        invoker_id: int,
        focused: str | None = None,
        attachment_url: Callable[[int, str], str] = lambda i, n: "",
    ) -> BuiltOptions:
        """Check and convert ``values`` against the synced options; nest them under the path."""
        declared = {o["name"]: o for o in command.leaf.get("options") or []}
        unknown = set(values) - set(declared)
        if unknown:
            raise BadOption(f"/{' '.join(command.path)} has no option(s) {sorted(unknown)}")
        missing = [n for n, o in declared.items() if o.get("required") and n not in values]
        if missing and focused is None:
            raise BadOption(f"/{' '.join(command.path)} needs {missing}")
        built = BuiltOptions([])
        for name, value in values.items():
            option = declared[name]
            if name == focused:
                built.options.append(
                    {"name": name, "type": option["type"], "value": str(value), "focused": True}
                )
                continue
            converted = self._convert(option, value, guild, built, invoker_id, attachment_url)
            built.options.append({"name": name, "type": option["type"], "value": converted})
        if focused is not None:
            built.resolved = {}
        for sub in reversed(command.path[1:]):
            node = _find(command.top, command.path, sub)
            built.options = [{"name": sub, "type": node["type"], "options": built.options}]
        return built

    def prepare(
        self,
        command: str,
        values: dict[str, Any],
        guild: Guild,
        channel: Channel,
        member: Member,
        *,
        focused: str | None = None,
        attachment_url: Callable[[int, str], str] = lambda i, n: "",
    ) -> tuple[dict[str, Any], str, list[Attachment]]:
        """Interaction ``data`` for a command, after Discord's permission gate.

        Raises :class:`CommandRefused` when the member lacks the command's default permission
        and holds no Integrations override.
        """
        resolved = self.resolve(command, guild.id)
        uid = member.user.id
        required = resolved.required_permissions
        if not self.world.may_use_command(guild.id, resolved.name, uid, required, channel):
            needs = "administrators" if required == 0 else permission_names(required or 0)
            raise CommandRefused(
                f"Discord refused /{' '.join(resolved.path)} for {member.user.username} in "
                f"#{channel.name}: it needs {needs} (or an Integrations override), and "
                "Use Application Commands in the channel"
            )
        built = self.build(
            resolved, values, guild, invoker_id=uid, focused=focused, attachment_url=attachment_url
        )
        data: dict[str, Any] = {
            "id": resolved.top["id"],
            "name": resolved.name,
            "type": 1,
            "options": built.options,
        }
        if built.resolved:
            data["resolved"] = built.resolved
        if resolved.guild_scoped:
            data["guild_id"] = str(guild.id)  # discord.py looks guild commands up by this
        return data, " ".join(resolved.path), built.attachments

    def _convert(
        self,
        option: dict[str, Any],
        value: Any,
        guild: Guild,
        built: BuiltOptions,
        invoker_id: int,
        attachment_url: Callable[[int, str], str],
    ) -> Any:
        kind, name = option["type"], option["name"]
        if kind == STRING:
            text = _choice(option, str(value))
            lo, hi = option.get("min_length"), option.get("max_length")
            if (lo is not None and len(text) < lo) or (hi is not None and len(text) > hi):
                raise BadOption(f"{name}: length must be within {lo}..{hi}")
            return text
        if kind in (INTEGER, NUMBER):
            if isinstance(value, bool):
                raise BadOption(f"{name}: expected a number, got {value!r}")
            try:
                number: int | float = int(value) if kind == INTEGER else float(value)
            except (TypeError, ValueError) as exc:
                raise BadOption(f"{name}: expected a number, got {value!r}") from exc
            if kind == INTEGER and number != float(value):
                raise BadOption(f"{name}: expected an integer, got {value!r}")
            number = _choice(option, number)
            lo, hi = option.get("min_value"), option.get("max_value")
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                raise BadOption(f"{name}: must be within {lo}..{hi}")
            return number
        if kind == BOOLEAN:
            if isinstance(value, str):
                return value.strip().lower() in ("true", "yes", "1", "on")
            return bool(value)
        if kind in (USER, MENTIONABLE):
            try:
                member = self.world.find_member(_strip_mention(value), guild.id)
            except KeyError:
                if kind == USER:
                    raise BadOption(f"{name}: no member {value!r}") from None
            else:
                perms = self.world.guild_permissions(guild, member.user.id)
                res = built.resolved
                res.setdefault("users", {})[str(member.user.id)] = member.user.payload()
                res.setdefault("members", {})[str(member.user.id)] = member.payload(
                    permissions=perms, with_user=False
                )
                return str(member.user.id)
        if kind in (ROLE, MENTIONABLE):
            try:
                role = self.world.find_role(_strip_mention(value), guild.id)
            except KeyError:
                raise BadOption(f"{name}: no role {value!r}") from None
            built.resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            return str(role.id)
        if kind == CHANNEL:
            try:
                channel = self.world.find_channel(_strip_mention(value), guild.id)
            except KeyError:
                raise BadOption(f"{name}: no channel {value!r}") from None
            types = option.get("channel_types")
            if types and channel.type not in types:
                raise BadOption(f"{name}: channel type {channel.type} not in {types}")
            data = channel.payload()
            data["permissions"] = str(self.world.channel_permissions(channel, invoker_id))
            built.resolved.setdefault("channels", {})[str(channel.id)] = data
            return str(channel.id)
        if kind == ATTACHMENT:
            filename, content = value
            att = Attachment(new_snowflake(), filename, bytes(content), "application/octet-stream")
            att.url = attachment_url(att.id, filename)
            built.attachments.append(att)
            built.resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
            return str(att.id)
        raise BadOption(f"{name}: unsupported option type {kind}")


def _key(name: str, kind: int = 1) -> str:
    return name if kind == 1 else f"{name}:{kind}"


def _find(top: dict[str, Any], path: list[str], name: str) -> dict[str, Any]:
    node = top
    for part in path[1:]:
        node = next(o for o in node.get("options") or [] if o["name"] == part)
        if part == name:
            return node
    raise KeyError(name)


def _choice(option: dict[str, Any], value: Any) -> Any:
    """With declared choices, the client only sends a choice's value (its name maps to it)."""
    choices = option.get("choices")
    if not choices:
        return value
    for choice in choices:
        if value == choice["value"] or value == choice["name"]:
            return choice["value"]
    raise BadOption(f"{option['name']}: {value!r} is not one of {[c['value'] for c in choices]}")


def _strip_mention(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        for prefix in ("<@&", "<@!", "<@", "<#"):
            if text.startswith(prefix) and text.endswith(">"):
                return int(text[len(prefix) : -1])
        return text
    return value
