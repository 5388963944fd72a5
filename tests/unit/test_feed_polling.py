"""The feed jobs (bot/polling.py): one per active feed of the guilds this process owns,
first at the feed's stored next poll, kept in step with the store, moved by the back-off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.feeds import Fetcher
from bot.feeds.models import PollReport
from bot.polling import FeedPoller
from bot.services import Scope
from bot.services.feeds import add_feed, set_feed_state
from db import Store
from tests.conftest import GUILD, OTHER_GUILD

NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    s = AsyncIOScheduler(timezone=UTC)
    s.start(paused=True)  # jobs get their run times; none runs
    yield s
    s.shutdown(wait=False)


async def never(feed_id: int) -> None:
    raise AssertionError("a paused scheduler runs nothing")


def poller(scheduler: AsyncIOScheduler, store: Store) -> FeedPoller:
    return FeedPoller(scheduler, store, Fetcher(), poll=never, owns=lambda g: g == GUILD)


async def test_rebuild_schedules_owned_active_feeds_at_their_next_poll(
    store: Store, scope: Scope, scheduler: AsyncIOScheduler
) -> None:
    later = NOW + timedelta(minutes=10)
    due = await add_feed(store, scope, "https://a.example/rss", now=NOW - timedelta(hours=1))
    waiting = await add_feed(store, scope, "https://b.example/rss", now=later)
    paused = await add_feed(store, scope, "https://c.example/rss", now=NOW)
    await set_feed_state(store, scope, paused.id, "paused")
    await add_feed(store, Scope(OTHER_GUILD), "https://d.example/rss", now=NOW)  # not ours

    jobs = poller(scheduler, store)
    assert await jobs.rebuild(now=NOW) == 2
    assert jobs.next_run(due.id) == NOW  # missed while down: at once
    assert jobs.next_run(waiting.id) == later
    assert jobs.next_run(paused.id) is None
    assert sorted(j.id for j in scheduler.get_jobs()) == [f"feed:{due.id}", f"feed:{waiting.id}"]
    trigger = scheduler.get_job(f"feed:{due.id}").trigger
    assert trigger.interval == timedelta(minutes=15) and trigger.jitter == 60


async def test_rebuild_drops_jobs_of_feeds_no_longer_active(
    store: Store, scope: Scope, scheduler: AsyncIOScheduler
) -> None:
    feed = await add_feed(store, scope, "https://a.example/rss", now=NOW)
    jobs = poller(scheduler, store)
    await jobs.rebuild(now=NOW)
    await set_feed_state(store, scope, feed.id, "paused")  # by another process
    await jobs.rebuild(now=NOW)
    assert jobs.next_run(feed.id) is None


async def test_after_a_failure_the_next_run_waits_for_the_back_off(
    store: Store, scope: Scope, scheduler: AsyncIOScheduler
) -> None:
    feed = await add_feed(store, scope, "https://a.example/rss", now=NOW)
    jobs = poller(scheduler, store)
    await jobs.rebuild(now=NOW)
    jobs.after(PollReport(feed, "failed", retry_in=1800), now=NOW)
    assert jobs.next_run(feed.id) == NOW + timedelta(seconds=1800)
    jobs.after(PollReport(feed, "broken"), now=NOW)
    assert jobs.next_run(feed.id) is None
