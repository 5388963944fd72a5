"""Turning a message body (JSON or multipart) into the message Discord would store, and edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import EPHEMERAL, LOADING, Attachment, MessageRecord, compute_pings
from .world import Channel, World, iso_now, new_snowflake

# Flags a sender may set: SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
SETTABLE_FLAGS = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 15)


@dataclass
class Upload:
    """A file part of a multipart request (``files[n]``)."""

    index: int
    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class Body:
    """A parsed request body: the JSON (or ``payload_json``) plus any uploaded files."""

    json: Any = None
    uploads: list[Upload] = field(default_factory=list)


class MessageFactory:
    """Builds and edits :class:`MessageRecord` objects with Discord's mention rules."""

    def __init__(self, world: World, attachment_url: Callable[[int, int, str], str]) -> None:
        self.world = world
        self.attachment_url = attachment_url

    def create(
        self,
        channel: Channel,
        body: Body,
        *,
        referenced: MessageRecord | None = None,
        webhook_id: int | None = None,
        interaction: dict[str, Any] | None = None,
        extra_flags: int = 0,
    ) -> MessageRecord:
        data = body.json if isinstance(body.json, dict) else {}
        author = self.world.bot.payload()
        flags = (int(data.get("flags") or 0) & SETTABLE_FLAGS) | extra_flags
        if webhook_id is None:
            flags &= ~EPHEMERAL  # only interaction responses can be ephemeral
        message = MessageRecord(
            id=new_snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            flags=flags,
            tts=bool(data.get("tts")),
            timestamp=iso_now(),
            webhook_id=webhook_id,
            interaction=interaction,
            nonce=data.get("nonce"),
            allowed_mentions=data.get("allowed_mentions"),
        )
        self._apply(message, data, body.uploads, channel)
        if data.get("message_reference") and referenced is not None:
            message.message_reference = {
                "type": 0,
                "message_id": str(referenced.id),
                "channel_id": str(referenced.channel_id),
                "guild_id": str(channel.guild_id),
            }
        self._ping(message, channel, referenced)
        return message

    def edit(self, message: MessageRecord, body: Body, channel: Channel) -> MessageRecord:
        """PATCH semantics: only the fields present change; edits never ping anew."""
        data = body.json if isinstance(body.json, dict) else {}
        was_loading = message.loading
        self._apply(message, data, body.uploads, channel, editing=True)
        if "flags" in data and data["flags"] is not None:
            fixed = message.flags & (~SETTABLE_FLAGS | EPHEMERAL)  # an edit cannot (un)hide it
            message.flags = fixed | (int(data["flags"]) & SETTABLE_FLAGS & ~EPHEMERAL)
        if "allowed_mentions" in data:
            message.allowed_mentions = data["allowed_mentions"]
        message.flags &= ~LOADING  # a deferred "thinking" message stops loading once edited
        if was_loading:  # filling a deferred "thinking" message notifies like a new one
            self._ping(message, channel, None)
        else:
            message.edited_timestamp = iso_now()
        message.edits += 1
        return message

    def _ping(
        self, message: MessageRecord, channel: Channel, referenced: MessageRecord | None
    ) -> None:
        guild = self.world.guilds[channel.guild_id]
        bot = self.world.bot
        replied = referenced.author.get("id") if referenced else None
        mentionable = {r.id for r in guild.roles.values() if r.mentionable}
        message.pings = compute_pings(
            message.content,
            message.allowed_mentions,
            mentionable_roles=mentionable,
            author_perms=self.world.channel_permissions(channel, bot.id),
            replied_user_id=int(replied) if replied and int(replied) != bot.id else None,
        )
        message.mentions = [self._user(u) for u in sorted(message.pings.users)]

    def _apply(
        self,
        message: MessageRecord,
        data: dict[str, Any],
        uploads: list[Upload],
        channel: Channel,
        *,
        editing: bool = False,
    ) -> None:
        if "content" in data or not editing:
            message.content = data.get("content") or ""
        if "embeds" in data or not editing:
            message.embeds = list(data.get("embeds") or [])
        if "components" in data or not editing:
            message.components = list(data.get("components") or [])
        if "attachments" in data or uploads or not editing:
            message.attachments = self._attachments(message, data, uploads, channel)

    def _attachments(
        self, message: MessageRecord, data: dict[str, Any], uploads: list[Upload], channel: Channel
    ) -> list[Attachment]:
        by_index = {u.index: u for u in uploads}
        kept = {a.id: a for a in message.attachments}
        result: list[Attachment] = []
        listed = data.get("attachments")
        if listed is None:
            listed = [{"id": u.index} for u in uploads]
        for entry in listed or []:
            ref = int(entry.get("id", -1))
            if ref in kept:
                result.append(kept[ref])
                continue
            upload = by_index.pop(ref, None)
            if upload is None:
                continue
            att_id = new_snowflake()
            result.append(
                Attachment(
                    id=att_id,
                    filename=entry.get("filename") or upload.filename,
                    content=upload.content,
                    content_type=upload.content_type,
                    description=entry.get("description"),
                    url=self.attachment_url(channel.id, att_id, upload.filename),
                )
            )
        return result

    def _user(self, user_id: int) -> dict[str, Any]:
        user = self.world.user(user_id)
        if user is not None:
            return user.payload()
        return {
            "id": str(user_id),
            "username": f"user{user_id}",
            "discriminator": "0",
            "avatar": None,
        }
