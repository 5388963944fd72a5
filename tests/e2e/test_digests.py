"""Digests: one message per period, at the subscription's hour in its own time zone.

How these tests move time. APScheduler computes a job's next fire time from `datetime.now()`
when the job is added (at start-up, in `DigestScheduler.rebuild`) and arms one timer with
`loop.call_later`, which runs on the monotonic clock that time-machine leaves alone. So each
test travels *before* it starts the bot, an hour or more before the due time, so the job's
next fire time is the one under test and its timer cannot go off during the test; then it
moves the travelled clock to the hour and calls `scheduler.wakeup()`, which makes APScheduler
compare its jobs with `datetime.now()` at once (no real sleeping to the hour). The travel
ticks, so the bot, the dispatcher and the emulator all live in the travelled time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, MessageRecord, Pings
from bot.models import Event, Reaction, Subscription
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import (
    ALERTS_CHANNEL_ID,
    MODERATOR_ROLE_ID,
    MODERATOR_USER_ID,
    SANDBOX_GUILD_ID,
)
from bot.services import Scope
from db import Store, open_store
from tests.e2e.pings import could_ping, hostile, let_the_bot_ping_everyone
from tests.e2e.support import until

SCOPE = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")
#: Long before any due time below: subscriptions made then have every period to catch up.
SUBSCRIBED = datetime(2024, 2, 1, tzinfo=UTC)


@asynccontextmanager
async def opened(db: Path) -> AsyncIterator[Store]:
    """The store alone, as the CLI or a bot that is down would open it."""
    store = await open_store(f"sqlite:///{db}")
    try:
        yield store
    finally:
        await store.close()


async def subscribe(store: Store, **options: Any) -> Subscription:
    return await services.subscribe(store, SCOPE, ALERTS_CHANNEL_ID, now=SUBSCRIBED, **options)


async def launch(store: Store, day: str, at: datetime) -> Event:
    """An event recorded at `at` (what decides its digest period)."""
    fields = {"date": day, "category": "srbm", "summary": f"A launch on {day}."}
    return await services.add_event(store, SCOPE, fields, now=at)


async def react(store: Store, event: Event, actor: str, at: datetime) -> Reaction:
    fields = {
        "actor": actor,
        "stance": "condemns",
        "summary": f"{actor} condemned the launch.",
        "event_id": event.id,
    }
    return await services.add_reaction(store, SCOPE, fields, now=at)


async def fire_due_jobs(bot: LaunchWatch) -> None:
    """Have APScheduler check its jobs against the travelled clock now, not at its timer."""
    bot.scheduler.wakeup()  # queued with call_soon_threadsafe; due jobs start when it runs
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon_threadsafe(done.set_result, None)  # queued behind the wakeup
    await done


def next_run(bot: LaunchWatch, sub: Subscription) -> datetime:
    job = bot.scheduler.get_job(f"digest:{sub.id}")
    assert job is not None, "the digest job is not scheduled"
    when: datetime = job.next_run_time
    return when


def digests(emulator: Emulator) -> list[MessageRecord]:
    return [
        m
        for m in emulator.messages(ALERTS_CHANNEL_ID)
        if m.embeds
        and m.embeds[0].get("footer", {}).get("text", "").startswith("LaunchWatch digest")
    ]


def text(message: MessageRecord) -> str:
    return json.dumps(message.embeds, ensure_ascii=False)


async def digest_rows(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall("SELECT * FROM delivery WHERE kind = 'digest'")


async def last_digest_at(store: Store, sub: Subscription) -> str | None:
    async with store.read() as q:
        row = await q.subscriptions.get(sub.id)
    assert row is not None
    value: str | None = row.last_digest_at
    return value


async def test_daily_digest_arrives_at_the_hour_in_its_time_zone(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A daily digest at 09:00 Seoul time posts once at that hour, with the day's events and reactions."""
    db = tmp_path / "digest.db"
    due = datetime(2024, 2, 15, 9, tzinfo=SEOUL)  # 00:00 UTC
    async with opened(db) as store:
        sub = await subscribe(
            store, mode="digest", digest_every="daily", digest_time="09:00", timezone="Asia/Seoul"
        )
        older = await launch(store, "2024-02-13", datetime(2024, 2, 13, 12, tzinfo=UTC))
        recent = await launch(store, "2024-02-14", datetime(2024, 2, 14, 3, tzinfo=UTC))
        await react(store, recent, "Japan", datetime(2024, 2, 14, 10, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 15, 8, tzinfo=SEOUL), tick=True) as traveller:
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            assert next_run(bot, sub) == due
            traveller.move_to(datetime(2024, 2, 15, 8, 59, 59, tzinfo=SEOUL))
            await fire_due_jobs(bot)
            assert next_run(bot, sub) == due  # not due yet: the job did not run
            traveller.move_to(datetime(2024, 2, 15, 9, 0, 1, tzinfo=SEOUL))
            await fire_due_jobs(bot)
            await until(lambda: len(digests(discord_emulator)) == 1)
            assert next_run(bot, sub) == datetime(2024, 2, 16, 9, tzinfo=SEOUL)
    [digest] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    embed = digest.embeds[0]
    assert embed["title"] == "Daily launch digest · Thu 15 Feb 2024"
    assert "1 new event and 1 new reaction" in embed["description"]
    assert f"#{recent.id}`" in text(digest) and f"#{older.id}`" not in text(digest)
    assert "Japan condemned the launch." in text(digest)
    assert digest.pings.nobody


async def test_weekly_digest_arrives_on_monday_with_the_weeks_events(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A weekly digest (mode both) posts once, Monday 08:00 Berlin time, covering the week; Sunday gets none."""
    db = tmp_path / "digest.db"
    monday = datetime(2024, 2, 19, 8, tzinfo=BERLIN)
    async with opened(db) as store:
        sub = await subscribe(
            store, mode="both", digest_every="weekly", digest_time="08:00", timezone="Europe/Berlin"
        )
        before = await launch(store, "2024-02-11", datetime(2024, 2, 11, 9, tzinfo=UTC))
        tuesday = await launch(store, "2024-02-13", datetime(2024, 2, 13, 9, tzinfo=UTC))
        saturday = await launch(store, "2024-02-17", datetime(2024, 2, 17, 9, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 18, 7, tzinfo=BERLIN), tick=True) as traveller:
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            assert next_run(bot, sub) == monday
            traveller.move_to(datetime(2024, 2, 18, 8, 0, 1, tzinfo=BERLIN))  # Sunday
            await fire_due_jobs(bot)
            assert next_run(bot, sub) == monday
            traveller.move_to(datetime(2024, 2, 19, 8, 0, 1, tzinfo=BERLIN))
            await fire_due_jobs(bot)
            await until(lambda: len(digests(discord_emulator)) == 1)
            assert next_run(bot, sub) == datetime(2024, 2, 26, 8, tzinfo=BERLIN)
    assert len(discord_emulator.messages(ALERTS_CHANNEL_ID)) == 4  # three alerts, one digest
    [digest] = digests(discord_emulator)
    assert digest.embeds[0]["title"] == "Weekly launch digest · Mon 19 Feb 2024"
    assert f"#{tuesday.id}`" in text(digest) and f"#{saturday.id}`" in text(digest)
    assert f"#{before.id}`" not in text(digest)


async def test_quiet_period_posts_no_digest(discord_emulator: Emulator, tmp_path: Path) -> None:
    """A day with no new events or reactions sends no digest at all."""
    db = tmp_path / "digest.db"
    due = datetime(2024, 2, 15, 8, tzinfo=UTC)
    async with opened(db) as store:
        sub = await subscribe(store, mode="digest", digest_time="08:00", timezone="UTC")
        await launch(store, "2024-02-12", datetime(2024, 2, 12, 9, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 15, 7, tzinfo=UTC), tick=True) as traveller:
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            ran = asyncio.Event()  # set when the job has run (and found nothing)
            bot.scheduler.add_listener(
                lambda e: e.job_id == f"digest:{sub.id}" and ran.set(),
                EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
            )
            traveller.move_to(datetime(2024, 2, 15, 8, 0, 1, tzinfo=UTC))
            await fire_due_jobs(bot)
            await until(ran.is_set)
            assert datetime.fromisoformat(await last_digest_at(bot.store, sub) or "") == due
            assert await digest_rows(bot.store) == []
    assert discord_emulator.messages(ALERTS_CHANNEL_ID) == []


async def test_digest_jobs_are_rebuilt_from_the_store_at_start_up(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A digest subscribed with /alerts subscribe still arrives after the bot restarts."""
    db = tmp_path / "digest.db"
    due = datetime(2024, 2, 15, 8, tzinfo=UTC)
    options = {"channel": "alerts", "mode": "digest", "digest_time": "08:00", "timezone": "UTC"}
    with time_machine.travel(datetime(2024, 2, 15, 6, tzinfo=UTC), tick=True) as traveller:
        async with running_bot(sandbox_config(db), discord_emulator) as first:
            result = await discord_emulator.invoke("alerts subscribe", options, user="moderator")
            assert not result.refused
            [sub] = await services.list_subscriptions(first.store, SCOPE)
            assert next_run(first, sub) == due
            await launch(first.store, "2024-02-15", datetime(2024, 2, 15, 6, tzinfo=UTC))
        async with running_bot(sandbox_config(db), discord_emulator) as second:
            assert next_run(second, sub) == due
            traveller.move_to(datetime(2024, 2, 15, 8, 0, 1, tzinfo=UTC))
            await fire_due_jobs(second)
            await until(lambda: len(digests(discord_emulator)) == 1)


async def test_missed_digest_is_caught_up_within_the_grace_period(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A digest due while the bot was down arrives when it starts two hours late (grace: six)."""
    db = tmp_path / "digest.db"
    async with opened(db) as store:
        await subscribe(store, mode="digest", digest_time="08:00", timezone="UTC")
        event = await launch(store, "2024-02-14", datetime(2024, 2, 14, 20, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 15, 10, tzinfo=UTC), tick=True):
        async with running_bot(sandbox_config(db), discord_emulator):
            await until(lambda: len(digests(discord_emulator)) == 1)
    [digest] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert digest.embeds[0]["title"] == "Daily launch digest · Thu 15 Feb 2024"
    assert f"#{event.id}`" in text(digest)


async def test_missed_digest_is_dropped_past_the_grace_period(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A digest due seven hours before the bot starts (grace: six) is not sent late."""
    db = tmp_path / "digest.db"
    async with opened(db) as store:
        sub = await subscribe(store, mode="digest", digest_time="08:00", timezone="UTC")
        await launch(store, "2024-02-14", datetime(2024, 2, 14, 20, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 15, 15, tzinfo=UTC), tick=True):
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            # The catch-up is decided in setup_hook, which is over once the bot is running.
            assert await digest_rows(bot.store) == []
            assert await last_digest_at(bot.store, sub) is None
            assert next_run(bot, sub) == datetime(2024, 2, 16, 8, tzinfo=UTC)
    assert discord_emulator.messages(ALERTS_CHANNEL_ID) == []


async def test_firing_again_in_the_same_period_posts_one_digest(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """The job run twice at once, then again, and a restart, still leave one digest for the day."""
    db = tmp_path / "digest.db"
    async with opened(db) as store:
        sub = await subscribe(store, mode="digest", digest_time="08:00", timezone="UTC")
        await launch(store, "2024-02-14", datetime(2024, 2, 14, 20, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 2, 15, 8, 0, 1, tzinfo=UTC), tick=True):
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            job = bot.scheduler.get_job(f"digest:{sub.id}")
            assert job is not None
            await asyncio.gather(job.func(*job.args), job.func(*job.args))
            await job.func(*job.args)
            await until(lambda: len(digests(discord_emulator)) == 1)
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            [row] = await digest_rows(bot.store)
            assert row["status"] == "sent"
    assert len(discord_emulator.messages(ALERTS_CHANNEL_ID)) == 1


async def test_a_digest_pings_nobody(discord_emulator: Emulator, tmp_path: Path) -> None:
    """A digest whose events and reactions mention @everyone, @here and real roles and members
    pings nobody, not even the subscription's mention role, though the bot may mention
    everyone; and its allowed_mentions would let nobody through (see tests/e2e/pings.py)."""
    world = discord_emulator.world
    let_the_bot_ping_everyone(world)
    db = tmp_path / "digest.db"
    at = datetime(2024, 2, 14, 20, tzinfo=UTC)
    async with opened(db) as store:
        await subscribe(
            store,
            mode="digest",
            digest_time="08:00",
            timezone="UTC",
            mention_role_id=MODERATOR_ROLE_ID,
        )
        fields = {
            "date": "2024-02-14",
            "category": "srbm",
            "name": hostile(world, 100),
            "launch_site": hostile(world, 200),
            "summary": hostile(world, 2000),
            "sources": [{"url": "https://example.org/d", "title": hostile(world, 300)}],
        }
        event = await services.add_event(store, SCOPE, fields, now=at)
        reaction = {
            "actor": hostile(world, 100),
            "stance": "condemns",
            "summary": hostile(world, 2000),
            "quote": hostile(world, 1500),
            "event_id": event.id,
        }
        await services.add_reaction(store, SCOPE, reaction, now=at)
    with time_machine.travel(datetime(2024, 2, 15, 10, tzinfo=UTC), tick=True):
        async with running_bot(sandbox_config(db), discord_emulator):
            await until(lambda: len(digests(discord_emulator)) == 1)
    [digest] = digests(discord_emulator)
    assert "@\u200beveryone" in text(digest)  # the moderators' text is there, as text
    assert digest.pings == Pings()
    assert could_ping(world, digest) == Pings()


async def test_the_repeated_hour_of_an_autumn_night_posts_one_digest(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """02:30 happens twice in Berlin on 27 Oct 2024: one digest that day, the next on the 28th."""
    db = tmp_path / "digest.db"
    first = datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second = datetime(2024, 10, 27, 1, 30, tzinfo=UTC)  # 02:30 CET
    async with opened(db) as store:
        sub = await subscribe(store, mode="digest", digest_time="02:30", timezone="Europe/Berlin")
        event = await launch(store, "2024-10-26", datetime(2024, 10, 26, 12, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 10, 26, 22, tzinfo=UTC), tick=True) as traveller:
        async with running_bot(sandbox_config(db), discord_emulator) as bot:
            assert next_run(bot, sub) == first
            traveller.move_to(first + timedelta(seconds=1))
            await fire_due_jobs(bot)
            await until(lambda: len(digests(discord_emulator)) == 1)
            assert next_run(bot, sub) == datetime(2024, 10, 28, 2, 30, tzinfo=BERLIN)
            traveller.move_to(second + timedelta(seconds=1))
            await fire_due_jobs(bot)
            job = bot.scheduler.get_job(f"digest:{sub.id}")
            assert job is not None
            await job.func(*job.args)  # as APScheduler's CronTrigger would: fire at both
            async with bot.store.read() as q:
                assert await q.deliveries.count("pending") == 0
    [digest] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert digest.embeds[0]["title"] == "Daily launch digest · Sun 27 Oct 2024"
    assert f"#{event.id}`" in text(digest)
