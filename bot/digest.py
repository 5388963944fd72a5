"""Digests: one message per period at the subscription's time of day, in its time zone.

APScheduler (in-memory jobs, rebuilt from the store at start-up) fires each digest on its
cron; firing writes a digest delivery (unique per subscription and period) that the
dispatcher sends like any other. Catch-up is ours: a digest missed while the bot was down
is queued at start-up when its due time is within the grace period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger

from bot import alerts
from bot.models import Delivery, Event, Reaction, Subscription
from bot.render import local_day
from bot.services.context import now_iso
from db import Store

log = logging.getLogger("launchwatch.digest")


# -- the digest calendar ---------------------------------------------------------------------
#
# A digest is due at its wall-clock time (`digest_time`, HH:MM) on each local date (daily) or
# each local Monday (weekly) of the subscription's time zone. A period is named for that local
# date (`daily:2024-02-15`, `weekly:2024-W07`) and covers the wall time from the previous due
# instant to this one, so periods tile: every event falls in exactly one digest, however long
# the local day (23 or 25 hours across daylight saving). A repeated wall time (clocks go back)
# is due once, at its first occurrence; a missing one (clocks go forward) is due at the next
# wall time that exists, the moment the clocks jump.

_SEARCH_DAYS = 9  # far enough to find the next or last due instant of a weekly digest
_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive local wall time happens in `tz` (not skipped by a clock change)."""
    back = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == wall


def due_on(sub: Subscription, day: date) -> datetime:
    """The UTC instant a digest is due on local date `day` (see the calendar above)."""
    tz = ZoneInfo(sub.timezone)
    hour, minute = (int(part) for part in sub.digest_time.split(":"))
    wall = datetime.combine(day, time(hour, minute))
    for _ in range(24 * 60):  # a gap is at most a day long
        if _exists(wall, tz):
            break
        wall += _MINUTE
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _due_days(sub: Subscription, around: datetime, step: int) -> Iterator[date]:
    """Local dates on which the digest is due, from near `around` forwards (1) or back (-1)."""
    day = around.astimezone(ZoneInfo(sub.timezone)).date() - timedelta(days=step)
    for offset in range(_SEARCH_DAYS + 2):
        candidate = day + timedelta(days=step * offset)
        if sub.digest_every != "weekly" or candidate.weekday() == 0:
            yield candidate


def next_due(sub: Subscription, after: datetime) -> datetime:
    """The first due instant strictly after `after`."""
    return next(d for d in map(partial(due_on, sub), _due_days(sub, after, 1)) if d > after)


def last_due(sub: Subscription, now: datetime) -> datetime:
    """The latest due instant at or before `now`."""
    return next(d for d in map(partial(due_on, sub), _due_days(sub, now, -1)) if d <= now)


def _local_day(sub: Subscription, due: datetime) -> date:
    """The local date a due instant belongs to (a moved-forward time can cross midnight)."""
    days = _due_days(sub, due, -1)
    return next(day for day in days if due_on(sub, day) <= due)


def period_key(sub: Subscription, due: datetime) -> str:
    """`daily:YYYY-MM-DD` or `weekly:YYYY-Www`, in the subscription's own calendar."""
    day = _local_day(sub, due)
    if sub.digest_every == "weekly":
        year, week, _ = day.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return f"daily:{day.isoformat()}"


def period_window(sub: Subscription, period: str) -> tuple[datetime, datetime]:
    """A period key as the [start, end) of UTC time it covers: previous due to this due."""
    every, _, stamp = period.partition(":")
    if "T" in stamp:  # a key written before the calendar keys: `daily:2024-02-05T08:00Z`
        end = datetime.strptime(stamp, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        return end - timedelta(days=7 if every == "weekly" else 1), end
    if every == "weekly":
        day = date.fromisocalendar(int(stamp[:4]), int(stamp[6:8]), 1)
        previous = day - timedelta(days=7)
    else:
        day = date.fromisoformat(stamp)
        previous = day - timedelta(days=1)
    return due_on(sub, previous), due_on(sub, day)


async def _contents(
    store: Store, sub: Subscription, start: datetime, end: datetime, publishers: tuple[int, ...]
) -> tuple[list[Event], list[Reaction]]:
    guilds = [sub.guild_id, *publishers]
    async with store.read() as q:
        found = await q.events.created_between(guilds, now_iso(start), now_iso(end))
        reactions = await q.reactions.created_between(guilds, now_iso(start), now_iso(end))
    events = [e for e in found if sub.matches(e)]
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
        sub = await q.subscriptions.get(sub_id)
    if sub is None or sub.state != "active" or sub.mode not in ("digest", "both"):
        return False
    period = period_key(sub, due)
    start, end = period_window(sub, period)
    events, reactions = await _contents(store, sub, start, end, publishers)
    async with store.transaction() as q:
        if events or reactions:
            await q.deliveries.add(
                [
                    Delivery.new(
                        "digest", sub.id, sub.guild_id, sub.channel_id, now_iso(), period=period
                    )
                ]
            )
        await q.subscriptions.set_last_digest(sub.id, now_iso(end))
    return bool(events or reactions)


async def render_digest(
    store: Store, sub: Subscription, period: str, publishers: tuple[int, ...] = ()
) -> alerts.Post | None:
    start, end = period_window(sub, period)
    events, reactions = await _contents(store, sub, start, end, publishers)
    if not events and not reactions:
        return None
    tz = ZoneInfo(sub.timezone)
    labels = {
        "key": period,  # the footer names it: a digest is found by it in the channel
        "label": local_day(end.astimezone(tz)),
        "since_label": local_day(start.astimezone(tz), with_time=True),
    }
    return alerts.digest(sub, events, reactions, labels)


class DigestTrigger(BaseTrigger):
    """Fires at each due instant of the digest calendar (APScheduler's CronTrigger would fire
    a repeated wall time twice and has its own rule for a missing one)."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # A due instant equal to `now` still counts (hence the second's slack); after a
        # missed fire, the next one comes from now: catch-up is DigestScheduler.rebuild's.
        after = now - _SECOND
        if previous_fire_time is not None:
            after = max(previous_fire_time, after)
        return next_due(self.sub, after)  # in UTC: a local time could lose its fold

    def __str__(self) -> str:
        return f"digest[{self.sub.digest_every} at {self.sub.digest_time} {self.sub.timezone}]"


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
            subs = await q.subscriptions.digests()
        now = now or datetime.now(UTC)
        count = 0
        for sub in subs:
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
        self.scheduler.add_job(
            self._fire,
            DigestTrigger(sub),
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
            sub = await q.subscriptions.get(sub_id)
        if sub is None:
            return
        await queue_digest(self.store, sub_id, last_due(sub, datetime.now(UTC)), self.publishers)
