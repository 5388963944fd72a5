"""What the emulator remembers: messages as Discord holds them, every request, every bad body.

Tests read these to assert what a user would have seen (and who got pinged).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.permissions import Perm

EPHEMERAL = 1 << 6
LOADING = 1 << 7

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(frozen=True)
class Pings:
    """Who a message actually notified, computed from content and ``allowed_mentions``."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    @property
    def nobody(self) -> bool:
        return not (self.users or self.roles or self.everyone)


def compute_pings(
    content: str | None,
    allowed_mentions: dict[str, Any] | None,
    *,
    mentionable_roles: set[int],
    author_perms: int,
    replied_user_id: int | None = None,
) -> Pings:
    """Discord's rules: no ``allowed_mentions`` parses everything; otherwise only what it lists.

    Roles ping when mentionable (or the author may mention everyone); @everyone/@here need
    Mention Everyone; a reply pings its author unless ``replied_user`` is false.
    """
    text = content or ""
    users = {int(u) for u in _USER_MENTION.findall(text)}
    roles = {int(r) for r in _ROLE_MENTION.findall(text)}
    everyone = "@everyone" in text or "@here" in text
    if allowed_mentions is None:
        parse, allowed_users, allowed_roles, replied = (
            {"users", "roles", "everyone"},
            set(),
            set(),
            True,
        )
    else:
        parse = set(allowed_mentions.get("parse") or [])
        allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
        allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
        replied = bool(allowed_mentions.get("replied_user", False))
    pinged_users = users if "users" in parse else users & allowed_users
    pinged_roles = roles if "roles" in parse else roles & allowed_roles
    may_mention_all = bool(author_perms & Perm.MENTION_EVERYONE)
    if not may_mention_all:
        pinged_roles &= mentionable_roles
    if replied_user_id is not None and replied:
        pinged_users = pinged_users | {replied_user_id}
    return Pings(
        frozenset(pinged_users),
        frozenset(pinged_roles),
        everyone and "everyone" in parse and may_mention_all,
    )


@dataclass
class Attachment:
    """An uploaded file, bytes included, so a test can open an export."""

    id: int
    filename: str
    content: bytes
    content_type: str | None = None
    description: str | None = None
    url: str = ""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.content),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "description": self.description,
        }


@dataclass
class MessageRecord:
    """A message the way Discord stores it (plus who it pinged)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    message_reference: dict[str, Any] | None = None
    nonce: str | int | None = None
    allowed_mentions: dict[str, Any] | None = None
    attachments: list[Attachment] = field(default_factory=list)
    tts: bool = False
    timestamp: str = ""
    edited_timestamp: str | None = None
    pings: Pings = field(default_factory=Pings)
    webhook_id: int | None = None
    interaction: dict[str, Any] | None = None
    mentions: list[dict[str, Any]] = field(default_factory=list)
    edits: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    def fingerprint(self) -> str:
        """Same text and embeds means the same post, for duplicate detection."""
        return json.dumps([self.content, self.embeds], sort_keys=True)

    def payload(self, referenced: MessageRecord | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": 19 if self.message_reference else (20 if self.interaction else 0),
            "channel_id": str(self.channel_id),
            "author": self.author,
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "attachments": [a.payload() for a in self.attachments],
            "flags": self.flags,
            "tts": self.tts,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "mentions": self.mentions,
            "mention_roles": [str(r) for r in sorted(self.pings.roles)],
            "mention_everyone": self.pings.everyone,
            "pinned": False,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction is not None:
            data["interaction_metadata"] = self.interaction
        if self.message_reference:
            data["message_reference"] = self.message_reference
            data["referenced_message"] = referenced.payload() if referenced else None
        return data


@dataclass
class RequestRecord:
    """One REST request and how the emulator answered it."""

    method: str
    path: str
    route: str
    status: int
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    code: int | None = None
    files: list[str] = field(default_factory=list)
    time: float = field(default_factory=time.time)


@dataclass
class BodyViolation:
    """A body Discord would refuse: ``kind`` is ``"schema"`` (the contract) or ``"limit"``
    (docs); ``"uncovered"`` is a JSON body to a route the contract lacks, so went unchecked."""

    method: str
    path: str
    route: str
    kind: str
    body: Any
    errors: dict[str, Any]


class Store:
    """All channel messages (visible and ephemeral), requests and violations, with counters."""

    def __init__(self) -> None:
        self.channels: dict[int, dict[int, MessageRecord]] = {}
        self.by_id: dict[int, MessageRecord] = {}
        self.created: list[MessageRecord] = []
        self.deleted: list[MessageRecord] = []
        self.requests: list[RequestRecord] = []
        self.spec_errors: list[BodyViolation] = []
        self.nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self.extra_files: list[Attachment] = []  # attachments given as command options
        self.emulator_errors: list[str] = []  # tracebacks of the emulator's own failures

    def add(self, message: MessageRecord) -> MessageRecord:
        self.by_id[message.id] = message
        if not message.ephemeral:
            self.channels.setdefault(message.channel_id, {})[message.id] = message
            self.created.append(message)
        return message

    def publish(self, message: MessageRecord) -> None:
        """Make a (formerly deferred/ephemeral-less) message visible in its channel."""
        if not message.ephemeral and message.id not in self.channels.get(message.channel_id, {}):
            self.channels.setdefault(message.channel_id, {})[message.id] = message
            self.created.append(message)

    def delete(self, message: MessageRecord) -> None:
        self.channels.get(message.channel_id, {}).pop(message.id, None)
        self.by_id.pop(message.id, None)
        self.deleted.append(message)

    def messages(self, channel_id: int) -> list[MessageRecord]:
        """The channel's current messages, oldest first (deleted ones gone)."""
        return list(self.channels.get(channel_id, {}).values())

    def posts(self) -> list[MessageRecord]:
        """Messages the bot posted through the channel API (not interaction answers), ever."""
        return [m for m in self.created if m.webhook_id is None]

    def posts_per_channel(self) -> dict[int, int]:
        """How many posts each channel ever got (deleted ones included)."""
        return dict(Counter(m.channel_id for m in self.posts()))

    def duplicate_posts(self, channel_id: int | None = None) -> list[MessageRecord]:
        """Posts repeating an earlier post's nonce, or its content and embeds, in one channel."""
        seen_nonce: set[tuple[int, str]] = set()
        seen_body: set[tuple[int, str]] = set()
        dupes: list[MessageRecord] = []
        for msg in self.posts():
            if channel_id is not None and msg.channel_id != channel_id:
                continue
            nonce_key = (msg.channel_id, str(msg.nonce))
            body_key = (msg.channel_id, msg.fingerprint())
            if (msg.nonce is not None and nonce_key in seen_nonce) or body_key in seen_body:
                dupes.append(msg)
            if msg.nonce is not None:
                seen_nonce.add(nonce_key)
            seen_body.add(body_key)
        return dupes

    def rate_limited(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.status == 429]

    def invalid_requests(self) -> list[RequestRecord]:
        """Requests Discord counts towards its 10,000-per-10-minutes ban: 401, 403, 429."""
        return [r for r in self.requests if r.status in (401, 403, 429)]

    def schema_violations(self) -> list[BodyViolation]:
        return [v for v in self.spec_errors if v.kind == "schema"]
