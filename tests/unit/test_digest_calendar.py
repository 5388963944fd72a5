"""The digest calendar across daylight saving: one digest per local date, every event in one.

Spring and autumn in America/New_York (clocks change at 02:00 local) and Europe/Berlin (02:00
in spring, 03:00 in autumn), at 02:30 (skipped in spring, repeated in Berlin's autumn) and
01:30 (repeated in New York's autumn).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import services
from bot.digest import DigestTrigger, last_due, next_due, period_key, period_window, queue_digest
from bot.models import Subscription
from bot.services import Scope
from db import Store

#: (zone, a day in the week the clocks go forward, a day in the week they go back)
ZONES = {
    "America/New_York": (date(2024, 3, 10), date(2024, 11, 3)),
    "Europe/Berlin": (date(2024, 3, 31), date(2024, 10, 27)),
}
CASES = [
    (zone, season, clock)
    for zone in ZONES
    for season in ("spring", "autumn")
    for clock in ("01:30", "02:30")
]


def subscription(zone: str, clock: str, every: str = "daily") -> Subscription:
    return Subscription(
        id=1, guild_id=1, channel_id=1, regions=[], categories=[], actors=[],
        min_confidence="disputed", mention_role_id=None, mode="digest", digest_every=every,
        digest_time=clock, timezone=zone, last_digest_at=None, state="active",
        broken_reason=None, created_by=None, created_at="2024-01-01T00:00:00+00:00",
    )  # fmt: skip


def fires(sub: Subscription, start: datetime, end: datetime) -> list[datetime]:
    """The instants APScheduler would run the job at, as it asks the trigger after each run."""
    trigger = DigestTrigger(sub)
    out: list[datetime] = []
    when = trigger.get_next_fire_time(None, start)
    while when is not None and when < end:
        out.append(when.astimezone(UTC))
        when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    return out


@pytest.mark.parametrize(("zone", "season", "clock"), CASES)
def test_one_digest_per_local_date_and_every_instant_in_one(
    zone: str, season: str, clock: str
) -> None:
    """Across the change, each local date gets one digest and the periods tile time exactly."""
    tz = ZoneInfo(zone)
    change = ZONES[zone][0 if season == "spring" else 1]
    start = datetime.combine(change - timedelta(days=3), datetime.min.time(), tz)
    end = datetime.combine(change + timedelta(days=4), datetime.min.time(), tz)
    sub = subscription(zone, clock)

    runs = fires(sub, start, end)
    keys = [period_key(sub, run) for run in runs]
    days = [date.fromisoformat(k.split(":")[1]) for k in keys]
    assert days == [days[0] + timedelta(days=i) for i in range(7)]  # one per date, none skipped
    windows = [period_window(sub, k) for k in keys]
    assert [w[1] for w in windows] == runs  # a digest covers the time up to its own run
    for (_, earlier_end), (later_start, _) in pairwise(windows):
        assert later_start == earlier_end  # no gap, no overlap: every event in exactly one
    # Every ten minutes of the span falls in exactly one period.
    moment = windows[0][0]
    while moment < windows[-1][1]:
        assert sum(s <= moment < e for s, e in windows) == 1, moment
        moment += timedelta(minutes=10)


@pytest.mark.parametrize(
    ("zone", "day", "clock", "local"),
    [
        ("America/New_York", date(2024, 3, 10), "02:30", "2024-03-10 03:00 EDT"),
        ("Europe/Berlin", date(2024, 3, 31), "02:30", "2024-03-31 03:00 CEST"),
        ("America/New_York", date(2024, 11, 3), "01:30", "2024-11-03 01:30 EDT"),
        ("Europe/Berlin", date(2024, 10, 27), "02:30", "2024-10-27 02:30 CEST"),
    ],
)
def test_a_skipped_time_runs_when_the_clocks_jump_and_a_repeated_one_runs_first(
    zone: str, day: date, clock: str, local: str
) -> None:
    """02:30 on a spring-forward day runs at 03:00; a repeated 01:30 or 02:30 runs once, first."""
    sub = subscription(zone, clock)
    start = datetime.combine(day, datetime.min.time(), ZoneInfo(zone))
    [run] = fires(sub, start, start + timedelta(days=1))
    assert run.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z") == local
    assert last_due(sub, run + timedelta(hours=1, minutes=1)) == run


def test_weekly_periods_are_iso_weeks_of_the_local_calendar() -> None:
    """A weekly digest runs on local Mondays and is keyed by the ISO week."""
    sub = subscription("Asia/Seoul", "00:30", every="weekly")
    run = next_due(sub, datetime(2024, 12, 28, tzinfo=UTC))
    assert run.astimezone(ZoneInfo("Asia/Seoul")).strftime("%a %Y-%m-%d %H:%M") == (
        "Mon 2024-12-30 00:30"
    )
    assert period_key(sub, run) == "weekly:2025-W01"
    assert period_window(sub, "weekly:2025-W01") == (run - timedelta(days=7), run)


async def test_the_repeated_hour_queues_one_digest(store: Store, scope: Scope) -> None:
    """Fired at both 02:30s of Berlin's autumn night, the store holds one digest for the date."""
    sub = await services.subscribe(
        store, scope, 801, mode="digest", digest_time="02:30", timezone="Europe/Berlin",
        now=datetime(2024, 10, 20, tzinfo=UTC),
    )  # fmt: skip
    fields: dict[str, Any] = {"date": "2024-10-26", "category": "srbm", "summary": "A launch."}
    await services.add_event(store, scope, fields, now=datetime(2024, 10, 26, 12, tzinfo=UTC))
    first = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)  # 02:30 CET, an hour later
    assert await queue_digest(store, sub.id, first)
    await queue_digest(store, sub.id, last_due(sub, second))
    await queue_digest(store, sub.id, second)
    async with store.read() as q:
        rows = await q.conn.fetchall("SELECT period FROM delivery WHERE kind = 'digest'")
    assert [r["period"] for r in rows] == ["daily:2024-10-27"]
