"""The REST resources the bot uses: login, gateway info, commands, channels, messages, guilds.

Each handler takes a :class:`Call` and returns ``(status, json)``; Discord's refusals are
raised as :class:`DiscordError` (403 50001/50013, 404 10003/10008, ...), checked against the
bot's computed permissions in the channel.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

from .errors import (
    INVALID_FORM_BODY,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    DiscordError,
    field_error,
)
from .interactions import InteractionHub
from .messages import Body, MessageFactory
from .permissions import Perm
from .records import MessageRecord
from .records import Recorder as Store  # its name before the move, kept in this file
from .registry import CommandRegistry
from .waiting import Changes
from .world import Channel, Guild, World

Reply = tuple[int, Any]


@dataclass
class Call:
    """One REST call as a handler sees it."""

    params: dict[str, str]
    body: Body
    query: MultiMapping[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def int(self, name: str) -> int:
        value = self.params[name]
        if not value.isdigit():
            error = field_error([name], "NUMBER_TYPE_COERCE", f"Value {value!r} is not snowflake.")
            raise DiscordError(400, INVALID_FORM_BODY, error)
        return int(value)


Handler = Callable[[Call], Awaitable[Reply]]


class Routes:
    """Handlers over the shared world and store."""

    def __init__(
        self,
        world: World,
        store: Store,
        registry: CommandRegistry,
        hub: InteractionHub,
        factory: MessageFactory,
        *,
        gateway_url: Callable[[], str],
        recommended_shards: int = 1,
        nonce_window: float = 300.0,
    ) -> None:
        self.world = world
        self.store = store
        self.registry = registry
        self.hub = hub
        self.factory = factory
        self.gateway_url = gateway_url
        self.recommended_shards = recommended_shards
        self.nonce_window = nonce_window
        self.synced = Changes()

    def table(self) -> list[tuple[str, str, Handler, bool]]:
        """(method, template, handler, needs the bot token). Templates are the spec's own."""
        app, guild_cmds = "/applications/{application_id}", "/guilds/{guild_id}/commands"
        hook = "/webhooks/{webhook_id}/{webhook_token}"
        msg = "/channels/{channel_id}/messages/{message_id}"
        return [
            ("GET", "/users/@me", self.me, True),
            ("GET", "/oauth2/applications/@me", self.application, True),
            ("GET", "/applications/@me", self.application, True),
            ("GET", "/gateway", self.gateway, False),
            ("GET", "/gateway/bot", self.gateway_bot, True),
            ("GET", f"{app}/commands", self.get_commands, True),
            ("PUT", f"{app}/commands", self.put_commands, True),
            ("GET", f"{app}{guild_cmds}", self.get_commands, True),
            ("PUT", f"{app}{guild_cmds}", self.put_commands, True),
            ("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
             self.callback, False),
            ("POST", hook, self.followup, False),
            ("GET", f"{hook}/messages/@original", self.hook_get, False),
            ("PATCH", f"{hook}/messages/@original", self.hook_edit, False),
            ("DELETE", f"{hook}/messages/@original", self.hook_delete, False),
            ("GET", f"{hook}/messages/{{message_id}}", self.hook_get, False),
            ("PATCH", f"{hook}/messages/{{message_id}}", self.hook_edit, False),
            ("DELETE", f"{hook}/messages/{{message_id}}", self.hook_delete, False),
            ("GET", "/channels/{channel_id}", self.get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self.list_messages, True),
            ("POST", "/channels/{channel_id}/messages", self.create_message, True),
            ("POST", "/channels/{channel_id}/typing", self.typing, True),
            ("GET", msg, self.get_message, True),
            ("PATCH", msg, self.edit_message, True),
            ("DELETE", msg, self.delete_message, True),
            ("GET", "/guilds/{guild_id}", self.get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self.guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self.guild_roles, True),
            ("GET", "/guilds/{guild_id}/members", self.guild_members, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.guild_member, True),
            ("GET", "/users/{user_id}", self.get_user, True),
        ]  # fmt: skip

    # -- login and gateway --------------------------------------------------------------------

    async def me(self, call: Call) -> Reply:
        extra = {"verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"}
        return 200, self.world.bot.payload() | extra

    async def application(self, call: Call) -> Reply:
        owner = self.world.user(self.world.default_guild().owner_id) or self.world.bot
        return 200, {
            "id": str(self.world.application_id),
            "name": self.world.bot.username,
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "bot": self.world.bot.payload(),
            "approximate_guild_count": len(self.world.guilds),
        }

    async def gateway(self, call: Call) -> Reply:
        return 200, {"url": self.gateway_url()}

    async def gateway_bot(self, call: Call) -> Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return 200, {
            "url": self.gateway_url(),
            "shards": self.recommended_shards,
            "session_start_limit": limit,
        }

    # -- application commands -----------------------------------------------------------------

    def _check_app(self, call: Call) -> int | None:
        if call.int("application_id") != self.world.application_id:
            raise DiscordError(403, MISSING_ACCESS)
        if "guild_id" not in call.params:
            return None
        guild_id = call.int("guild_id")
        if self.world.guild(guild_id) is None:
            raise DiscordError(403, MISSING_ACCESS)
        return guild_id

    async def get_commands(self, call: Call) -> Reply:
        return 200, self.registry.get(self._check_app(call))

    async def put_commands(self, call: Call) -> Reply:
        guild_id = self._check_app(call)
        saved = self.registry.put(guild_id, call.body.json or [])
        self.synced.bump()
        return 200, saved

    # -- interactions and their webhooks -------------------------------------------------------

    async def callback(self, call: Call) -> Reply:
        answer = self.hub.callback(
            call.int("interaction_id"), call.params["interaction_token"], call.body
        )
        if call.query.get("with_response", "false").lower() not in ("true", "1"):
            return 204, None  # discord.py always asks for the response; others get 204
        return 200, answer

    async def followup(self, call: Call) -> Reply:
        message = self.hub.followup(call.int("webhook_id"), call.params["webhook_token"], call.body)
        if call.query.get("wait", "false").lower() not in ("true", "1"):
            return 204, None
        return 200, self._payload(message)

    def _hook_ref(self, call: Call) -> tuple[int, str, str]:
        mid = call.params.get("message_id", "@original")
        return call.int("webhook_id"), call.params["webhook_token"], mid

    async def hook_get(self, call: Call) -> Reply:
        return 200, self._payload(self.hub.find_message(*self._hook_ref(call)))

    async def hook_edit(self, call: Call) -> Reply:
        return 200, self._payload(self.hub.edit_message(*self._hook_ref(call), call.body))

    async def hook_delete(self, call: Call) -> Reply:
        self.hub.delete_message(*self._hook_ref(call))
        return 204, None

    # -- channels and messages ----------------------------------------------------------------

    def _channel(self, call: Call, need: int = Perm.VIEW_CHANNEL) -> tuple[Channel, int]:
        channel = self.world.channel(call.int("channel_id"))
        if channel is None:
            raise DiscordError(404, UNKNOWN_CHANNEL)
        perms = self.world.channel_permissions(channel, self.world.bot.id)
        if not perms & Perm.VIEW_CHANNEL:
            raise DiscordError(403, MISSING_ACCESS)
        if perms & need != need:
            raise DiscordError(403, MISSING_PERMISSIONS)
        return channel, perms

    def _message(self, channel: Channel, call: Call) -> MessageRecord:
        try:
            message_id = int(call.params["message_id"])
        except ValueError:
            raise DiscordError(404, UNKNOWN_MESSAGE) from None
        message = self.store.channels.get(channel.id, {}).get(message_id)
        if message is None:
            raise DiscordError(404, UNKNOWN_MESSAGE)
        return message

    def _payload(self, message: MessageRecord, *, nonce: bool = False) -> dict[str, Any]:
        """The message as Discord answers with it. Discord does not store a nonce: only
        the answer to the POST that carried it shows it (and the gateway's MESSAGE_CREATE),
        never a message read back later."""
        ref = message.message_reference
        referenced = self.store.by_id.get(int(ref["message_id"])) if ref else None
        data = message.payload(referenced)
        if not nonce:
            data.pop("nonce", None)
        if data.get("referenced_message"):
            data["referenced_message"].pop("nonce", None)
        return data

    async def get_channel(self, call: Call) -> Reply:
        channel, _ = self._channel(call)
        return 200, channel.payload()

    async def typing(self, call: Call) -> Reply:
        self._channel(call, Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
        return 204, None

    async def list_messages(self, call: Call) -> Reply:
        channel, perms = self._channel(call)
        if not perms & Perm.READ_MESSAGE_HISTORY:
            return 200, []
        newest_first = list(reversed(self.store.messages(channel.id)))
        number = {k: int(v) for k, v in call.query.items() if v.isdigit()}
        limit = max(1, min(100, number.get("limit", 50)))
        if "before" in number:
            newest_first = [m for m in newest_first if m.id < number["before"]]
        if "after" in number:
            newest_first = [m for m in newest_first if m.id > number["after"]][-limit:]
        return 200, [self._payload(m) for m in newest_first[:limit]]

    async def get_message(self, call: Call) -> Reply:
        channel, _ = self._channel(call, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
        return 200, self._payload(self._message(channel, call))

    async def create_message(self, call: Call) -> Reply:
        channel, perms = self._channel(call, Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
        data = call.body.json if isinstance(call.body.json, dict) else {}
        if data.get("embeds") and not perms & Perm.EMBED_LINKS:
            raise DiscordError(403, MISSING_PERMISSIONS)
        if call.body.uploads and not perms & Perm.ATTACH_FILES:
            raise DiscordError(403, MISSING_PERMISSIONS)
        parts = ("content", "embeds", "components", "sticker_ids", "poll")
        if not any(data.get(k) for k in parts) and not call.body.uploads:
            raise DiscordError(400, 50006)
        referenced = self._referenced(channel, perms, data.get("message_reference"))
        nonce_key = None
        if data.get("enforce_nonce") and data.get("nonce") is not None:
            nonce_key = (channel.id, str(data["nonce"]))
            hit = self.store.nonces.get(nonce_key)
            if hit and time.monotonic() - hit[1] < self.nonce_window and hit[0] in self.store.by_id:
                return 200, self._payload(self.store.by_id[hit[0]], nonce=True)
        message = self.store.add(self.factory.create(channel, call.body, referenced=referenced))
        if nonce_key is not None:
            self.store.nonces[nonce_key] = (message.id, time.monotonic())
        return 200, self._payload(message, nonce=True)

    def _referenced(
        self, channel: Channel, perms: int, ref: dict[str, Any] | None
    ) -> MessageRecord | None:
        if not ref:
            return None
        if not perms & Perm.READ_MESSAGE_HISTORY:
            raise DiscordError(403, MISSING_PERMISSIONS)
        where = int(ref.get("channel_id") or channel.id)
        found = self.store.channels.get(where, {}).get(int(ref["message_id"]))
        if found is None and ref.get("fail_if_not_exists", True) is not False:
            error = field_error(
                ["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
            )
            raise DiscordError(400, INVALID_FORM_BODY, error)
        return found

    async def edit_message(self, call: Call) -> Reply:
        channel, perms = self._channel(call)
        message = self._message(channel, call)
        if int(message.author["id"]) != self.world.bot.id:
            raise DiscordError(403, 50005)
        data = call.body.json if isinstance(call.body.json, dict) else {}
        if data.get("embeds") and not perms & Perm.EMBED_LINKS:
            raise DiscordError(403, MISSING_PERMISSIONS)
        self.factory.edit(message, call.body, channel)
        return 200, self._payload(message)

    async def delete_message(self, call: Call) -> Reply:
        channel, perms = self._channel(call)
        message = self._message(channel, call)
        own = int(message.author["id"]) == self.world.bot.id
        if not own and not perms & Perm.MANAGE_MESSAGES:
            raise DiscordError(403, MISSING_PERMISSIONS)
        self.store.delete(message)
        return 204, None

    # -- guilds and users -----------------------------------------------------------------------

    def _guild(self, call: Call) -> Guild:
        guild = self.world.guild(call.int("guild_id"))
        if guild is None:
            raise DiscordError(404, 10004)
        return guild

    async def get_guild(self, call: Call) -> Reply:
        data = self._guild(call).payload(bot_id=self.world.bot.id)
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            data.pop(key, None)
        return 200, data

    async def guild_channels(self, call: Call) -> Reply:
        return 200, [c.payload() for c in self._guild(call).channels.values()]

    async def guild_roles(self, call: Call) -> Reply:
        return 200, [r.payload() for r in self._guild(call).roles.values()]

    async def guild_members(self, call: Call) -> Reply:
        limit = int(call.query.get("limit", 1))
        members = list(self._guild(call).members.values())[:limit]
        return 200, [m.payload() for m in members]

    async def guild_member(self, call: Call) -> Reply:
        member = self._guild(call).members.get(call.int("user_id"))
        if member is None:
            raise DiscordError(404, 10007)
        return 200, member.payload()

    async def get_user(self, call: Call) -> Reply:
        user = self.world.user(call.int("user_id"))
        if user is None:
            raise DiscordError(404, 10013)
        return 200, user.payload()
