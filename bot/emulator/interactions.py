"""Interactions: INTERACTION_CREATE payloads, their 3-second deadline, callbacks and follow-ups.

Discord's rules kept here: the first answer is due within the deadline (a late one gets 404
10062 and is recorded), an interaction is acknowledged once (40060), follow-ups need that first
answer (10015), the first follow-up after a deferral fills the "thinking" message, and the token
works for 15 minutes.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    ALREADY_ACKNOWLEDGED,
    INVALID_FORM_BODY,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    DiscordError,
    field_error,
)
from .messages import Body, MessageFactory
from .records import EPHEMERAL, LOADING, MessageRecord, Recorder
from .waiting import Changes
from .world import Channel, Guild, Member, World, new_snowflake

APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
# Callback types each interaction type may answer with.
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {4, 5, 9},
    COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}


class InteractionNotAnswered(Exception):
    """The bot never answered the interaction (not even late)."""


@dataclass
class LateAnswer:
    """A callback that came after the deadline; Discord showed "The application did not respond"."""

    interaction_id: int
    name: str
    late_by: float
    response_type: int


@dataclass
class InvokeResult:
    """What the invoking user saw: the response, its edits and follow-ups."""

    interaction_id: int = 0
    token: str = ""
    kind: int = APPLICATION_COMMAND
    name: str = ""
    response_type: int | None = None
    status: int | None = None
    refused: bool = False
    refusal: str = ""
    late: bool = False
    original: MessageRecord | None = None
    followups: list[MessageRecord] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    changes: Changes = field(default_factory=Changes, repr=False, compare=False)

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def message(self) -> MessageRecord | None:
        """The visible result: the original response (after edits), else the last follow-up."""
        if self.original is not None and not self.original.loading:
            return self.original
        return self.followups[-1] if self.followups else self.original

    @property
    def content(self) -> str | None:
        return self.message.content if self.message else None

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components if self.message else []

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message.ephemeral)

    async def wait_for(self, predicate: Callable[[InvokeResult], bool], timeout: float) -> None:
        """Wait until ``predicate(self)`` holds (after edits/follow-ups arrive)."""
        await self.changes.wait_until(lambda: predicate(self), timeout, f"/{self.name}")

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[MessageRecord]:
        await self.wait_for(lambda r: len(r.followups) >= count, timeout)
        return self.followups

    async def wait_settled(self, timeout: float = 5.0) -> MessageRecord | None:
        """After a deferral: until the "thinking" message is filled or a follow-up arrives."""
        await self.wait_for(lambda r: not (r.original and r.original.loading), timeout)
        return self.message


@dataclass
class Pending:
    """An interaction in flight."""

    id: int
    token: str
    kind: int
    guild_id: int
    channel: Channel
    user_id: int
    created: float
    deadline: float
    expires: float
    result: InvokeResult
    target: MessageRecord | None = None
    acknowledged: bool = False
    answered: asyncio.Event = field(default_factory=asyncio.Event)


class InteractionHub:
    """Creates interactions and serves their callback and webhook routes."""

    def __init__(
        self,
        world: World,
        store: Recorder,
        factory: MessageFactory,
        *,
        deadline: float = 3.0,
        token_ttl: float = 900.0,
    ) -> None:
        self.world = world
        self.store = store
        self.factory = factory
        self.deadline = deadline
        self.token_ttl = token_ttl
        self.by_id: dict[int, Pending] = {}
        self.by_token: dict[str, Pending] = {}
        self.late: list[LateAnswer] = []

    def is_interaction_token(self, token: str) -> bool:
        return token in self.by_token

    def create(
        self,
        kind: int,
        guild: Guild,
        channel: Channel,
        member: Member,
        data: dict[str, Any],
        *,
        name: str,
        target: MessageRecord | None = None,
    ) -> tuple[Pending, dict[str, Any]]:
        """Register an interaction and build its INTERACTION_CREATE payload."""
        now = time.monotonic()
        iid, token = new_snowflake(), "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        result = InvokeResult(interaction_id=iid, token=token, kind=kind, name=name)
        pending = Pending(
            iid, token, kind, guild.id, channel, member.user.id, now, now + self.deadline,
            now + self.token_ttl, result, target,
        )  # fmt: skip
        self.by_id[iid] = self.by_token[token] = pending
        perms = self.world.channel_permissions(channel, member.user.id)
        channel_data = channel.payload() | {"permissions": str(perms)}
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.world.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel_data,
            "member": member.payload(permissions=perms),
            "token": token,
            "version": 1,
            "app_permissions": str(self.world.channel_permissions(channel, self.world.bot.id)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if target is not None:
            payload["message"] = self._payload(target)
        return pending, payload

    async def wait_answer(self, pending: Pending, timeout: float) -> InvokeResult:
        try:
            await asyncio.wait_for(pending.answered.wait(), timeout)
        except TimeoutError:
            raise InteractionNotAnswered(
                f"{pending.result.name!r} got no answer within {timeout:.1f}s"
            ) from None
        return pending.result

    # -- POST /interactions/{id}/{token}/callback ------------------------------------------

    def callback(self, interaction_id: int, token: str, body: Body) -> dict[str, Any]:
        pending = self.by_id.get(interaction_id)
        if pending is None or pending.token != token:
            raise DiscordError(404, UNKNOWN_INTERACTION)
        data = body.json if isinstance(body.json, dict) else {}
        kind = int(data.get("type", 0))
        result = pending.result
        if pending.acknowledged:
            raise DiscordError(400, ALREADY_ACKNOWLEDGED)
        now = time.monotonic()
        if now > pending.deadline:
            pending.acknowledged = True
            result.late, result.response_type, result.status = True, kind, 404
            self.late.append(LateAnswer(pending.id, result.name, now - pending.deadline, kind))
            pending.answered.set()
            result.changes.bump()
            raise DiscordError(404, UNKNOWN_INTERACTION)
        if kind not in ALLOWED_CALLBACKS[pending.kind]:
            msg = f"Interaction callback type {kind} is not valid for interaction {pending.kind}."
            raise DiscordError(
                400, INVALID_FORM_BODY, field_error(["type"], "BASE_TYPE_CHOICES", msg)
            )
        inner = Body(data.get("data") or {}, body.uploads)
        resource: dict[str, Any] = {"type": kind}
        if kind == 4:
            result.original = self._respond(pending, inner, 0)
        elif kind == 5:
            hidden = EPHEMERAL if int(inner.json.get("flags") or 0) & EPHEMERAL else 0
            result.original = self._respond(pending, Body({}), LOADING | hidden)
        elif kind in (6, 7):
            result.original = pending.target
            if kind == 7 and pending.target is not None:
                self.factory.edit(pending.target, inner, pending.channel)
        elif kind == 8:
            result.choices = list(inner.json.get("choices") or [])
        elif kind == 9:
            result.modal = inner.json
        if result.original is not None and kind in (4, 5, 7):
            resource["message"] = self._payload(result.original)
        pending.acknowledged = True
        result.response_type, result.status = kind, 200
        pending.answered.set()
        result.changes.bump()
        original = result.original
        info: dict[str, Any] = {"id": str(pending.id), "type": pending.kind}
        if original is not None and kind in (4, 5, 7):
            info["response_message_id"] = str(original.id)
            info["response_message_loading"] = original.loading
            info["response_message_ephemeral"] = original.ephemeral
        return {"interaction": info, "resource": resource}

    def _respond(self, pending: Pending, body: Body, extra_flags: int) -> MessageRecord:
        meta = {
            "id": str(pending.id),
            "type": pending.kind,
            "user": self.world.user(pending.user_id).payload(),  # type: ignore[union-attr]
            "authorizing_integration_owners": {"0": str(pending.guild_id)},
            "name": pending.result.name,
        }
        if pending.target is not None:
            meta["interacted_message_id"] = str(pending.target.id)
        message = self.factory.create(
            pending.channel,
            body,
            webhook_id=self.world.application_id,
            interaction=meta,
            extra_flags=extra_flags,
        )
        return self.store.add(message)

    # -- /webhooks/{application_id}/{token}[/messages/...] -------------------------------------

    def _pending_for(self, application_id: int, token: str) -> Pending:
        pending = self.by_token.get(token)
        if (
            pending is None
            or application_id != self.world.application_id
            or time.monotonic() > pending.expires
        ):
            raise DiscordError(404, UNKNOWN_WEBHOOK)
        return pending

    def followup(self, application_id: int, token: str, body: Body) -> MessageRecord:
        pending = self._pending_for(application_id, token)
        if not pending.acknowledged or pending.result.late:
            raise DiscordError(404, UNKNOWN_WEBHOOK)
        result = pending.result
        original = result.original
        if original is not None and original.loading and result.response_type == 5:
            self.factory.edit(original, body, pending.channel)  # fills the "thinking" message
            message = original
        else:
            message = self._respond(pending, body, 0)
        result.followups.append(message)
        result.changes.bump()
        return message

    def find_message(self, application_id: int, token: str, message_id: str) -> MessageRecord:
        pending = self._pending_for(application_id, token)
        result = pending.result
        if message_id == "@original":
            message = result.original
        else:
            wanted = int(message_id) if message_id.isdigit() else -1
            candidates = [result.original, *result.followups]
            message = next((m for m in candidates if m is not None and m.id == wanted), None)
        if message is None or message.id not in self.store.by_id:
            raise DiscordError(404, UNKNOWN_MESSAGE)
        return message

    def edit_message(
        self, application_id: int, token: str, message_id: str, body: Body
    ) -> MessageRecord:
        message = self.find_message(application_id, token, message_id)
        pending = self.by_token[token]
        self.factory.edit(message, body, pending.channel)
        pending.result.changes.bump()
        return message

    def delete_message(self, application_id: int, token: str, message_id: str) -> None:
        message = self.find_message(application_id, token, message_id)
        self.store.delete(message)
        self.by_token[token].result.changes.bump()

    def _payload(self, message: MessageRecord) -> dict[str, Any]:
        ref = message.message_reference
        referenced = self.store.by_id.get(int(ref["message_id"])) if ref else None
        return message.payload(referenced)
