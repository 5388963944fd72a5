"""Channel subscriptions: which channels get alerts and digests, with which filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import validation
from bot.errors import NotFound, ValidationError
from bot.i18n import _
from bot.models import SUBSCRIPTION_STATES, Delivery, Subscription
from bot.services.context import Scope, now_iso
from db import Store


def _list(field: str, values: Sequence[str] | str | None) -> list[str]:
    """A filter list, from a list or a comma-separated text; empty means every value."""
    if values is None:
        return []
    parts = values.split(",") if isinstance(values, str) else list(values)
    items = [v.strip() for v in parts if v and v.strip()]
    if len(items) > 25:
        raise ValidationError(field, _("at most 25 values."))
    return sorted(set(items))


async def subscribe(
    store: Store,
    scope: Scope,
    channel_id: int,
    *,
    categories: Sequence[str] | str | None = None,
    actors: Sequence[str] | str | None = None,
    regions: Sequence[str] | str | None = None,
    min_confidence: str | None = None,
    mention_role_id: int | None = None,
    mode: str | None = None,
    digest_every: str | None = None,
    digest_time: str | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> Subscription:
    """Subscribe a channel (or replace its subscription): one subscription per channel."""
    cats = [validation.enum("category", c) or "" for c in _list("categories", categories)]
    clock = validation.clock_time("digest_time", digest_time) or "08:00"
    tz = (timezone or "UTC").strip()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: `America` is a folder
        raise ValidationError(
            "timezone",
            _("'{value}' is not a time zone; use an IANA name such as Asia/Seoul or UTC.").format(
                value=tz
            ),
        ) from None
    wanted = Subscription(
        guild_id=scope.guild_id,
        channel_id=int(channel_id),
        categories=sorted(set(cats)),
        actors=_list("actors", actors),
        regions=_list("regions", regions),
        min_confidence=validation.enum("min_confidence", min_confidence) or "disputed",
        mention_role_id=mention_role_id,
        mode=validation.enum("mode", mode) or "instant",
        digest_every=validation.enum("digest_every", digest_every) or "daily",
        digest_time=clock,
        timezone=tz,
        last_digest_at=None,
        state="active",
        broken_reason=None,
        created_by=scope.user_id,
        created_at=now_iso(now),
    )
    async with store.transaction() as q:
        existing = await q.subscriptions.for_channel(int(channel_id))
        if existing is not None and existing.guild_id != scope.guild_id:
            raise ValidationError("channel", _("that channel belongs to another server."))
        stored = await q.subscriptions.get(await q.subscriptions.upsert(wanted))
    assert stored is not None
    return stored


async def _own(store: Store, scope: Scope, channel_id: int) -> Subscription:
    async with store.read() as q:
        sub = await q.subscriptions.for_channel(int(channel_id))
    if sub is None or sub.guild_id != scope.guild_id:
        raise NotFound("subscription for channel", channel_id)
    return sub


async def unsubscribe(store: Store, scope: Scope, channel_id: int) -> Subscription:
    sub = await _own(store, scope, channel_id)
    async with store.transaction() as q:
        await q.subscriptions.remove(sub.id)
    return sub


async def set_subscription_state(
    store: Store, scope: Scope, channel_id: int, state: str, reason: str | None = None
) -> Subscription:
    """Pause, resume (active) or mark broken, with the reason people will read in /alerts list."""
    if state not in SUBSCRIPTION_STATES:
        raise ValidationError(
            "state", _("use one of {values}.").format(values=", ".join(SUBSCRIPTION_STATES))
        )
    sub = await _own(store, scope, channel_id)
    async with store.transaction() as q:
        await q.subscriptions.set_state(sub.id, state, reason if state == "broken" else None)
        changed = await q.subscriptions.get(sub.id)
    assert changed is not None
    return changed


async def list_subscriptions(store: Store, scope: Scope) -> list[Subscription]:
    async with store.read() as q:
        return await q.subscriptions.of_guild(scope.guild_id)


async def queue_test_alert(
    store: Store, scope: Scope, channel_id: int, *, now: datetime | None = None
) -> Subscription:
    """Queue a sample alert to a subscribed channel, through the same outbox as real ones."""
    sub = await _own(store, scope, channel_id)
    stamp = now_iso(now)
    period = f"test:{stamp}"
    async with store.transaction() as q:
        await q.deliveries.add(
            [Delivery.new("alert", sub.id, sub.guild_id, sub.channel_id, stamp, period=period)]
        )
    return sub
