"""One digest per subscription and period, held by the store itself on both backends.

The digest's nonce would make Discord (and the emulator) drop a second post, but a second
delivery row would still be sent, retried and counted; the unique key on deliveries
(subscription, period) is what keeps a period to one row, whoever queues it: a job run
twice, a catch-up at start-up and the cron, or two processes on one database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.digest import DigestScheduler, queue_digest
from bot.models import Subscription
from bot.services import Scope, add_event, subscribe
from db import Store, open_store
from tests.conftest import PUBLISHER

SUBSCRIBED = datetime(2024, 2, 1, tzinfo=UTC)
DUE = datetime(2024, 2, 15, 8, tzinfo=UTC)


@asynccontextmanager
async def another_process(store: Store) -> AsyncIterator[Store]:
    """A second store on the same database, as another bot process would open it."""
    if store.backend == "sqlite":
        other = await open_store(store.url)
    else:
        from db.postgres import PostgresStore

        other = await PostgresStore.open(store.url, schema=getattr(store, "schema", None))
    try:
        yield other
    finally:
        await other.close()


async def busy_digest(store: Store, scope: Scope) -> Subscription:
    """A daily 08:00 UTC digest subscription, with a launch in each of two periods."""
    sub = await subscribe(store, scope, 501, mode="digest", digest_time="08:00", now=SUBSCRIBED)
    fields = {"date": "2024-02-14", "category": "srbm", "summary": "A launch."}
    for day in (DUE, DUE + timedelta(days=1)):
        await add_event(store, scope, fields, alert=False, now=day - timedelta(hours=12))
    return sub


async def digest_rows(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall(
            "SELECT subscription_id, period, status FROM delivery WHERE kind = 'digest' ORDER BY id"
        )


async def test_a_period_queued_twice_is_one_delivery(store: Store, scope: Scope) -> None:
    """The same period's digest queued again, even after the first was sent, adds no row;
    the next period gets its own."""
    sub = await busy_digest(store, scope)
    assert await queue_digest(store, sub.id, DUE)
    async with store.transaction() as q:
        await q.conn.execute("UPDATE delivery SET status = 'sent' WHERE kind = 'digest'")
    await queue_digest(store, sub.id, DUE)
    await queue_digest(store, sub.id, DUE)
    assert await digest_rows(store) == [
        {"subscription_id": sub.id, "period": "daily:2024-02-15", "status": "sent"}
    ]
    await queue_digest(store, sub.id, DUE + timedelta(days=1))
    assert [r["period"] for r in await digest_rows(store)] == [
        "daily:2024-02-15",
        "daily:2024-02-16",
    ]


async def test_catch_up_in_one_process_and_cron_in_another_queue_one_digest(
    store: Store, scope: Scope
) -> None:
    """One process starting late catches the digest up while another's cron fires it, at
    once, on one database: one delivery row."""
    sub = await busy_digest(store, scope)
    async with another_process(store) as second:
        starting = DigestScheduler(
            AsyncIOScheduler(), store, publishers=(PUBLISHER,), grace=timedelta(hours=6)
        )
        await asyncio.gather(
            starting.rebuild(now=DUE + timedelta(hours=2)),
            queue_digest(second, sub.id, DUE, (PUBLISHER,)),
            queue_digest(second, sub.id, DUE, (PUBLISHER,)),
        )
    assert await digest_rows(store) == [
        {"subscription_id": sub.id, "period": "daily:2024-02-15", "status": "pending"}
    ]
