"""Claiming deliveries: each row goes to one dispatcher, and only to the shard that owns it."""

from __future__ import annotations

import asyncio

from bot import services
from bot.models import Delivery
from bot.services import Scope
from db import Store

NOW = "2030-01-01T00:00:00.000000+00:00"
LATER = "2030-01-01T00:10:00.000000+00:00"
SECOND = "2030-01-01T00:10:00.000001+00:00"  # another claim's stamp
SHARD_0_GUILD = 1200000000000000001 + (1 << 22)  # (id >> 22) % 2 == 0
SHARD_1_GUILD = 1200000000000000001  # (id >> 22) % 2 == 1


async def queue(store: Store, guild_id: int, channels: range) -> None:
    """One pending alert for each channel's subscription in the guild."""
    scope = Scope(guild_id, 1)
    for channel_id in channels:
        await services.subscribe(store, scope, channel_id)
    await services.add_event(
        store, scope, {"date": "2024-02-14", "category": "srbm", "summary": "One."}
    )


async def test_a_shard_claims_only_its_guilds(store: Store) -> None:
    """A process running shard 0 of 2 claims the deliveries of shard-0 guilds only."""
    assert (SHARD_0_GUILD >> 22) % 2 == 0 and (SHARD_1_GUILD >> 22) % 2 == 1
    await queue(store, SHARD_0_GUILD, range(100, 103))
    await queue(store, SHARD_1_GUILD, range(200, 204))
    async with store.transaction() as q:
        mine = await q.deliveries.claim(NOW, LATER, 100, shards=[0], shard_count=2)
    assert sorted(r.channel_id for r in mine) == [100, 101, 102]
    async with store.transaction() as q:
        theirs = await q.deliveries.claim(NOW, LATER, 100, shards=[1], shard_count=2)
    assert sorted(r.channel_id for r in theirs) == [200, 201, 202, 203]


async def test_a_claimed_row_is_not_claimed_again_until_released(store: Store) -> None:
    """Claimed rows are invisible to other claims; releasing them (a restart) frees them."""
    await queue(store, SHARD_1_GUILD, range(300, 305))
    async with store.transaction() as q:
        first = await q.deliveries.claim(NOW, LATER, 3)
    async with store.transaction() as q:
        second = await q.deliveries.claim(NOW, LATER, 100)
        again = await q.deliveries.claim(NOW, LATER, 100)
    assert len(first) == 3 and len(second) == 2 and again == []
    assert {r.id for r in first}.isdisjoint(r.id for r in second)
    async with store.transaction() as q:
        assert (
            await q.deliveries.next_due_at(NOW) is None
        )  # nothing unclaimed: the dispatcher may sleep
        assert await q.deliveries.release_claims() == 5
        assert len(await q.deliveries.claim(NOW, LATER, 100)) == 5


async def test_concurrent_claims_never_share_a_row(store: Store) -> None:
    """Two dispatchers claiming at the same moment split the rows between them."""
    await queue(store, SHARD_1_GUILD, range(400, 440))

    async def claim() -> set[int]:
        async with store.transaction() as q:
            return {r.id for r in await q.deliveries.claim(NOW, LATER, 25)}

    a, b = await asyncio.gather(claim(), claim())
    assert a.isdisjoint(b) and len(a | b) == 40


async def backlog(store: Store, channel_id: int, n: int, *, at: str = "2024-01-01") -> list[int]:
    """`n` pending deliveries (test alerts) to one channel, due at `at`; their ids, oldest first."""
    sub = await services.subscribe(store, Scope(SHARD_1_GUILD, 1), channel_id)
    rows = [
        {
            "subscription_id": sub.id, "guild_id": SHARD_1_GUILD, "channel_id": channel_id,
            "event_id": None, "revision": None, "period": f"test:{i}", "kind": "alert",
            "status": "pending", "attempts": 0, "next_attempt_at": at,
            "nonce": f"t{channel_id % 10**6}.{i}", "created_at": at,
        }
        for i in range(n)
    ]  # fmt: skip
    async with store.transaction() as q:
        await q.deliveries.add([Delivery(**r) for r in rows])
        found = await q.conn.fetchall(
            "SELECT id FROM delivery WHERE channel_id = ? ORDER BY id", [channel_id]
        )
    return [r["id"] for r in found]


async def test_claims_take_the_channels_in_turn(store: Store) -> None:
    """Every channel's oldest due row comes before any channel's second: a channel with a
    backlog queued first does not fill the claim."""
    busy = await backlog(store, 500, 10)
    quiet = [(await backlog(store, c, 1))[0] for c in (501, 502)]
    async with store.transaction() as q:
        rows = await q.deliveries.claim(NOW, LATER, 4)
    assert {r.id for r in rows} == {busy[0], *quiet, busy[1]}


async def test_a_channel_holds_at_most_its_share_of_claims(store: Store) -> None:
    """With `per_channel`, a channel's rows still claimed count against it: it gets more
    only as its earlier ones are settled, while other channels' rows are claimed at once."""
    busy = await backlog(store, 600, 20)
    async with store.transaction() as q:
        first = await q.deliveries.claim(NOW, LATER, 100, per_channel=5)
    assert [r.id for r in first] == busy[:5]
    [quiet] = await backlog(store, 601, 1)
    async with store.transaction() as q:
        second = await q.deliveries.claim(NOW, LATER, 100, per_channel=5)
        for delivery_id in busy[:2]:
            await q.deliveries.update(delivery_id, status="sent")
        third = await q.deliveries.claim(NOW, LATER, 100, per_channel=5)
    assert [r.id for r in second] == [quiet]
    assert [r.id for r in third] == busy[5:7]


async def test_a_row_in_back_off_holds_no_share(store: Store) -> None:
    """A row waiting out a back-off is not in flight: the channel's due rows are claimed."""
    busy = await backlog(store, 700, 4)
    async with store.transaction() as q:
        await q.deliveries.update(busy[0], next_attempt_at=LATER)
        rows = await q.deliveries.claim(NOW, LATER, 100, per_channel=3)
    assert [r.id for r in rows] == busy[1:4]


async def test_next_due_at_leaves_out_rows_already_due(store: Store) -> None:
    """The dispatcher sleeps until a row falls due after its last claim: rows that were
    due then and left unclaimed (their channel is full) must not wake it at once."""
    busy = await backlog(store, 800, 3)
    async with store.transaction() as q:
        await q.deliveries.update(busy[2], next_attempt_at=LATER)
        assert await q.deliveries.next_due_at(NOW) == LATER
        await q.deliveries.update(busy[2], next_attempt_at=NOW)
        assert await q.deliveries.next_due_at(NOW) is None


async def test_claims_are_given_back_by_row_or_by_claim(store: Store) -> None:
    """A worker gives back rows it cannot finish; a claim whose transaction failed is given
    back whole by its stamp. Rows already settled keep their outcome."""
    ids = await backlog(store, 900, 4)
    async with store.transaction() as q:
        await q.deliveries.claim(NOW, LATER, 2)
        await q.deliveries.claim(NOW, SECOND, 2)
        await q.deliveries.update(ids[3], status="sent")
        assert await q.deliveries.release(claimed_until=LATER) == 2
        assert await q.deliveries.release(ids[2:], next_attempt_at=LATER) == 1
        found = await q.conn.fetchall(
            "SELECT * FROM delivery WHERE channel_id = ? ORDER BY id", [900]
        )
    assert [r["claimed_until"] for r in found] == [None, None, None, SECOND]
    assert found[2]["next_attempt_at"] == LATER and found[3]["status"] == "sent"
