"""The emulator's world: guilds, channels, roles, members and Discord's permission maths.

Plain data, free of aiohttp and discord.py, so an application can describe its own test world
(ids, people, roles) in a module that is cheap to import.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .permissions import Perm

DISCORD_EPOCH_MS = 1420070400000


_counter = itertools.count()


def new_snowflake(at: float | None = None) -> int:
    """A fresh, time-ordered snowflake (so discord.py's ``created_at`` is meaningful)."""
    ms = int((time.time() if at is None else at) * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) % (1 << 22))


def snowflake_time(snowflake: int) -> float:
    """Unix time (seconds) at which a snowflake was made."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def iso_now() -> str:
    """The current time as Discord writes timestamps."""
    return datetime.now(UTC).isoformat()


@dataclass
class User:
    """A Discord user (a person or the bot)."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Role:
    """A guild role; ``id == guild.id`` is @everyone."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    color: int = 0
    hoist: bool = False
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Overwrite:
    """A channel permission overwrite: ``type`` 0 is a role, 1 a member."""

    id: int
    type: int = 0
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    """A guild channel (type 0 is a text channel)."""

    id: int
    guild_id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "topic": self.topic,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "permission_overwrites": [o.payload() for o in self.overwrites],
        }


@dataclass
class Member:
    """A user's membership of one guild."""

    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    def payload(self, *, permissions: int | None = None, with_user: bool = True) -> dict:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Guild:
    """A guild with its roles, channels, members and Integrations command overrides."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    # command name -> {("role"|"user", id)}: Server Settings -> Integrations overrides.
    command_overrides: dict[str, set[tuple[str, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.id not in self.roles:
            self.roles[self.id] = Role(self.id, "@everyone", Perm.EVERYONE_DEFAULT)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def payload(self, *, bot_id: int, all_members: bool = True) -> dict[str, Any]:
        """The GUILD_CREATE payload as the bot sees it."""
        members = [m.payload() for uid, m in self.members.items() if all_members or uid == bot_id]
        bot = self.members.get(bot_id)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": bot.joined_at if bot else iso_now(),
            "preferred_locale": "en-US",
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_id": None,
            "roles": [r.payload() for r in self.roles.values()],
            "channels": [c.payload() for c in self.channels.values()],
            "members": members,
            "emojis": [],
            "stickers": [],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


class World:
    """Everything the emulated Discord knows about: the bot, its application and its guilds."""

    def __init__(
        self, *, bot: User, application_id: int, token: str, guilds: list[Guild] | None = None
    ) -> None:
        self.bot = bot
        self.application_id = application_id
        self.token = token
        self.guilds: dict[int, Guild] = {g.id: g for g in guilds or []}

    def add_guild(self, guild: Guild) -> Guild:
        self.guilds[guild.id] = guild
        return guild

    def guild(self, guild_id: int) -> Guild | None:
        return self.guilds.get(guild_id)

    def channel(self, channel_id: int) -> Channel | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        return None

    def user(self, user_id: int) -> User | None:
        if user_id == self.bot.id:
            return self.bot
        for guild in self.guilds.values():
            if user_id in guild.members:
                return guild.members[user_id].user
        return None

    def default_guild(self) -> Guild:
        return next(iter(self.guilds.values()))

    def find_channel(self, ref: int | str, guild_id: int | None = None) -> Channel:
        """A channel by id, ``name`` or ``#name`` (in one guild, or any)."""
        guilds = [self.guilds[guild_id]] if guild_id else list(self.guilds.values())
        name = ref.lstrip("#") if isinstance(ref, str) else None
        for guild in guilds:
            for channel in guild.channels.values():
                if channel.id == ref or channel.name == name or str(channel.id) == ref:
                    return channel
        raise KeyError(f"no channel {ref!r}")

    def find_member(self, ref: int | str, guild_id: int) -> Member:
        """A member by user id, username or nick."""
        guild = self.guilds[guild_id]
        for member in guild.members.values():
            user = member.user
            if ref in (user.id, str(user.id), user.username, member.nick):
                return member
        raise KeyError(f"no member {ref!r} in guild {guild_id}")

    def find_role(self, ref: int | str, guild_id: int) -> Role:
        for role in self.guilds[guild_id].roles.values():
            if ref in (role.id, str(role.id), role.name, f"@{role.name}"):
                return role
        raise KeyError(f"no role {ref!r} in guild {guild_id}")

    # -- permissions, computed the way Discord documents it --------------------------------

    def guild_permissions(self, guild: Guild, user_id: int) -> int:
        """Base permissions: @everyone | member roles; owner and Administrator get all."""
        if user_id == guild.owner_id:
            return Perm.ALL
        member = guild.members.get(user_id)
        perms = guild.everyone.permissions
        for role_id in member.roles if member else []:
            role = guild.roles.get(role_id)
            if role:
                perms |= role.permissions
        return Perm.ALL if perms & Perm.ADMINISTRATOR else perms

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        """Base permissions, then overwrites: @everyone, roles (together), then the member."""
        guild = self.guilds[channel.guild_id]
        perms = self.guild_permissions(guild, user_id)
        if perms & Perm.ADMINISTRATOR:
            return Perm.ALL
        member = guild.members.get(user_id)
        roles = set(member.roles) if member else set()
        by_id = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_id.get((0, guild.id))
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for overwrite in channel.overwrites:
            if overwrite.type == 0 and overwrite.id in roles:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        own = by_id.get((1, user_id))
        if own:
            perms = (perms & ~own.deny) | own.allow
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        return perms

    # -- Discord's gate for application commands ---------------------------------------------

    def allow_command(
        self, guild_id: int, command: str, *, role_id: int | None = None, user_id: int | None = None
    ) -> None:
        """Grant a top-level command to a role or user (Server Settings -> Integrations)."""
        grants = self.guilds[guild_id].command_overrides.setdefault(command, set())
        if role_id is not None:
            grants.add(("role", role_id))
        if user_id is not None:
            grants.add(("user", user_id))

    def may_use_command(
        self, guild_id: int, command: str, user_id: int, required: int | None, channel: Channel
    ) -> bool:
        """Whether Discord lets this member invoke a top-level command at all."""
        guild = self.guilds[guild_id]
        perms = self.channel_permissions(channel, user_id)
        if perms & Perm.ADMINISTRATOR or user_id == guild.owner_id:
            return True
        if not perms & Perm.USE_APPLICATION_COMMANDS:
            return False
        member = guild.members.get(user_id)
        grants = guild.command_overrides.get(command, set())
        if ("user", user_id) in grants:
            return True
        if member and any(("role", r) in grants for r in member.roles):
            return True
        if required is None:
            return True
        return required != 0 and perms & required == required
