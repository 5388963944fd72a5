"""Digests: one message per period at the subscription's hour, in its time zone.

APScheduler (in-memory jobs, rebuilt from the store at start-up) fires each digest on its
cron; firing writes a digest delivery (unique per subscription and period) that the
dispatcher sends like any other. Catch-up is ours: a digest missed while the bot was down
is queued at start-up when its due time is within the grace period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import alerts
from bot.models import Event, Reaction, Subscription
from bot.services.context import delivery_nonce, now_iso
from db import Store

log = logging.getLogger("launchwatch.digest")


def period_length(sub: Subscription) -> timedelta:
    return timedelta(days=7 if sub.digest_every == "weekly" else 1)


def last_due(sub: Subscription, now: datetime) -> datetime:
    """The latest due time at or before `now`: the hour in the subscription's zone (Mondays when weekly)."""
    tz = ZoneInfo(sub.timezone)
    local = now.astimezone(tz)
    due = local.replace(hour=sub.digest_hour, minute=0, second=0, microsecond=0)
    if due > local:
        due -= timedelta(days=1)
    if sub.digest_every == "weekly":
        due -= timedelta(days=due.weekday())
    return due.astimezone(UTC)


def period_key(sub: Subscription, due: datetime) -> str:
    return f"{sub.digest_every}:{due.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"


def _window(period: str) -> tuple[datetime, datetime]:
    """A period key (`daily:2024-02-05T08:00Z`) as the [start, end) it covers."""
    every, _, stamp = period.partition(":")
    end = datetime.strptime(stamp, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    return end - timedelta(days=7 if every == "weekly" else 1), end


async def _contents(
    store: Store, sub: Subscription, start: datetime, end: datetime, publishers: tuple[int, ...]
) -> tuple[list[Event], list[Reaction]]:
    guilds = [sub.guild_id, *publishers]
    async with store.read() as q:
        rows = await q.events_created_between(guilds, now_iso(start), now_iso(end))
        srcs = await q.sources_for("event", [r["id"] for r in rows])
        events = [e for e in (Event.from_row(r, srcs[r["id"]]) for r in rows) if sub.matches(e)]
        rrows = await q.reactions_created_between(guilds, now_iso(start), now_iso(end))
        rsrcs = await q.sources_for("reaction", [r["id"] for r in rrows])
    reactions = [Reaction.from_row(r, rsrcs[r["id"]]) for r in rrows]
    if sub.actors:
        reactions = [
            r for r in reactions if r.event_id is None or r.event_id in {e.id for e in events}
        ]
    return events, reactions


async def queue_digest(
    store: Store, sub_id: int, due: datetime, publishers: tuple[int, ...] = ()
) -> bool:
    """Queue the digest due at `due`, once; a period with nothing in it sends nothing."""
    async with store.read() as q:
        row = await q.get_subscription(sub_id)
    if row is None or row["state"] != "active" or row["mode"] not in ("digest", "both"):
        return False
    sub = Subscription.from_row(row)
    end = due.astimezone(UTC)
    events, reactions = await _contents(store, sub, end - period_length(sub), end, publishers)
    period = period_key(sub, end)
    async with store.transaction() as q:
        if events or reactions:
            stamp = now_iso()
            await q.insert_deliveries([{
                "subscription_id": sub.id, "guild_id": sub.guild_id, "channel_id": sub.channel_id,
                "event_id": None, "revision": None, "period": period, "kind": "digest",
                "status": "pending", "attempts": 0, "next_attempt_at": stamp,
                "nonce": delivery_nonce(sub.id, "digest", None, None, period), "created_at": stamp,
            }])  # fmt: skip
        await q.set_last_digest(sub.id, now_iso(end))
    return bool(events or reactions)


async def render_digest(
    store: Store, sub: Subscription, period: str, publishers: tuple[int, ...] = ()
) -> alerts.Post | None:
    start, end = _window(period)
    events, reactions = await _contents(store, sub, start, end, publishers)
    if not events and not reactions:
        return None
    tz = ZoneInfo(sub.timezone)
    labels = {
        "key": period,  # the footer names it: a digest is found by it in the channel
        "label": end.astimezone(tz).strftime("%a %d %b %Y"),
        "since_label": start.astimezone(tz).strftime("%a %d %b %H:%M"),
    }
    return alerts.digest(sub, events, reactions, labels)


class DigestScheduler:
    """One cron job per digest subscription, in APScheduler's in-memory job store."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        store: Store,
        *,
        publishers: tuple[int, ...],
        grace: timedelta,
        owns: Callable[[int], bool] = lambda guild_id: True,
    ) -> None:
        self.scheduler = scheduler
        self.store = store
        self.publishers = publishers
        self.grace = grace
        self.owns = owns

    async def rebuild(self, now: datetime | None = None) -> int:
        """Schedule every digest subscription this process owns; catch up missed ones."""
        async with self.store.read() as q:
            rows = await q.digest_subscriptions()
        now = now or datetime.now(UTC)
        count = 0
        for row in rows:
            sub = Subscription.from_row(row)
            if not self.owns(sub.guild_id):
                continue
            self.schedule(sub)
            count += 1
            due = last_due(sub, now)
            done = sub.last_digest_at or sub.created_at
            if datetime.fromisoformat(done) < due and now - due <= self.grace:
                log.info("catching up the digest of subscription %s due %s", sub.id, due)
                await queue_digest(self.store, sub.id, due, self.publishers)
        return count

    def schedule(self, sub: Subscription) -> None:
        """(Re)schedule one subscription's job; unschedule it when it no longer digests."""
        job_id = f"digest:{sub.id}"
        if self.scheduler.get_job(job_id):
            self.scheduler.remove_job(job_id)
        if sub.state != "active" or sub.mode not in ("digest", "both"):
            return
        trigger = CronTrigger(
            hour=sub.digest_hour,
            minute=0,
            day_of_week="mon" if sub.digest_every == "weekly" else "*",
            timezone=ZoneInfo(sub.timezone),
        )
        self.scheduler.add_job(
            self._fire,
            trigger,
            args=[sub.id],
            id=job_id,
            misfire_grace_time=60,
            coalesce=True,
            replace_existing=True,
        )

    def unschedule(self, subscription_id: int) -> None:
        job_id = f"digest:{subscription_id}"
        if self.scheduler.get_job(job_id):
            self.scheduler.remove_job(job_id)

    async def _fire(self, sub_id: int, **_: Any) -> None:
        async with self.store.read() as q:
            row = await q.get_subscription(sub_id)
        if row is None:
            return
        sub = Subscription.from_row(row)
        await queue_digest(self.store, sub_id, last_due(sub, datetime.now(UTC)), self.publishers)
