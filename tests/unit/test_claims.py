"""Claiming deliveries: each row goes to one dispatcher, and only to the shard that owns it."""

from __future__ import annotations

import asyncio

from bot import services
from bot.services import Scope
from db import Store

NOW = "2030-01-01T00:00:00.000000+00:00"
LATER = "2030-01-01T00:10:00.000000+00:00"
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
        mine = await q.claim_deliveries(NOW, LATER, 100, shards=[0], shard_count=2)
    assert sorted(r["channel_id"] for r in mine) == [100, 101, 102]
    async with store.transaction() as q:
        theirs = await q.claim_deliveries(NOW, LATER, 100, shards=[1], shard_count=2)
    assert sorted(r["channel_id"] for r in theirs) == [200, 201, 202, 203]


async def test_a_claimed_row_is_not_claimed_again_until_released(store: Store) -> None:
    """Claimed rows are invisible to other claims; releasing them (a restart) frees them."""
    await queue(store, SHARD_1_GUILD, range(300, 305))
    async with store.transaction() as q:
        first = await q.claim_deliveries(NOW, LATER, 3)
    async with store.transaction() as q:
        second = await q.claim_deliveries(NOW, LATER, 100)
        again = await q.claim_deliveries(NOW, LATER, 100)
    assert len(first) == 3 and len(second) == 2 and again == []
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in second)
    async with store.transaction() as q:
        assert await q.next_due_at(NOW) is None  # nothing unclaimed: the dispatcher may sleep
        assert await q.release_claims() == 5
        assert len(await q.claim_deliveries(NOW, LATER, 100)) == 5


async def test_concurrent_claims_never_share_a_row(store: Store) -> None:
    """Two dispatchers claiming at the same moment split the rows between them."""
    await queue(store, SHARD_1_GUILD, range(400, 440))

    async def claim() -> set[int]:
        async with store.transaction() as q:
            return {r["id"] for r in await q.claim_deliveries(NOW, LATER, 25)}

    a, b = await asyncio.gather(claim(), claim())
    assert a.isdisjoint(b) and len(a | b) == 40
