"""Two shard processes over one PostgreSQL database: every channel gets each post once.

Each process runs one of two shards, claims only its guilds' deliveries (FOR UPDATE SKIP
LOCKED), runs only its guilds' digests, and is woken by LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import services
from bot.digest import last_due
from bot.emulator.api import Channel, Emulator, Guild, Member, new_snowflake
from bot.models import Subscription
from bot.sandbox.world import SANDBOX_BOT_USER_ID, SANDBOX_GUILD_ID, sandbox_world
from bot.services import Scope
from db.postgres import PostgresStore
from tests.conftest import postgres_schema, postgres_test_url
from tests.e2e.support import until

ROOT = Path(__file__).resolve().parents[2]
OTHER_GUILD = SANDBOX_GUILD_ID + (1 << 22)  # Discord's formula puts it on the other shard
CHANNELS_PER_GUILD = 6


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The sandbox guild (shard 1 of 2) and a second guild on shard 0, with feed channels."""
    world = sandbox_world()
    other = Guild(OTHER_GUILD, "Other", owner_id=next(iter(world.guild(SANDBOX_GUILD_ID).members)))  # type: ignore[union-attr]
    other.members[SANDBOX_BOT_USER_ID] = Member(world.bot)
    world.add_guild(other)
    for guild in (world.guild(SANDBOX_GUILD_ID), other):
        assert guild is not None
        for i in range(CHANNELS_PER_GUILD):
            channel_id = new_snowflake()
            guild.channels[channel_id] = Channel(channel_id, guild.id, f"feed-{i}")
    emu = Emulator(world=world)
    emu.recommended_shards = 2
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    assert not emu.emulator_errors and not emu.spec_errors


def feeds(emu: Emulator) -> list[tuple[int, int]]:
    """(guild, channel) of every feed channel."""
    return [
        (g.id, c.id)
        for g in emu.world.guilds.values()
        for c in g.channels.values()
        if c.name.startswith("feed-")
    ]


async def start(emu: Emulator, url: str, shard: int, tmp: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.bot_process",
        "--base", emu.base_url, "--gateway", str(emu.gateway_url),
        "--db", str(tmp / f"unused-{shard}.db"), "--database-url", url,
        "--shard-ids", str(shard), "--shard-count", "2", "--publishers", str(SANDBOX_GUILD_ID),
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_two_shard_processes_post_each_alert_and_digest_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Alerts and digests for two guilds on two shards arrive exactly once in every channel."""
    async with postgres_schema() as schema:
        url = postgres_test_url(search_path=schema)
        store = await PostgresStore.open(url, schema=schema)
        await store.migrate()
        now = datetime.now(UTC)
        at = f"{(now - timedelta(hours=1)).hour:02d}:00"  # fell due within the grace period
        due = last_due(Subscription.from_row({**_SUB, "timezone": "UTC", "digest_time": at}), now)
        before = due - timedelta(hours=2)
        for guild_id, channel_id in feeds(emulator):
            scope = Scope(guild_id, 1, (SANDBOX_GUILD_ID,))
            await services.subscribe(
                store, scope, channel_id, mode="both", digest_time=at, timezone="UTC", now=before
            )
        publisher = Scope(SANDBOX_GUILD_ID, 1, (SANDBOX_GUILD_ID,))
        event = {"date": "2024-02-14", "category": "cruise_missile", "summary": "Two missiles."}
        await services.add_event(store, publisher, event, now=due - timedelta(hours=1))
        processes = [await start(emulator, url, shard, tmp_path) for shard in (0, 1)]
        try:
            channels = feeds(emulator)

            def posts(where: tuple[int, int]) -> int:
                return len(emulator.messages(where[1], where[0]))

            try:
                await until(lambda: all(posts(c) >= 2 for c in channels), timeout=40)
            except AssertionError:
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                    _, err = await process.communicate()
                    print(err.decode()[-3000:])
                print({c: posts(c) for c in channels})
                raise
            await asyncio.sleep(1.0)  # a late duplicate would show up now
            for guild_id, channel_id in channels:
                got = emulator.messages(channel_id, guild_id)
                titles = [m.embeds[0]["title"] for m in got]
                assert len(got) == 2, titles
                assert (
                    sum("digest" in t for t in titles) == 1
                    and sum("cruise missile" in t for t in titles) == 1
                )
            assert emulator.duplicate_posts() == [] and emulator.rate_limited() == []
            async with store.read() as q:
                assert await q.deliveries.count("pending") == 0
            for process in processes:  # SIGTERM closes each process cleanly, and soon
                process.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(p.wait(), 15) for p in processes]
            assert codes == [0, 0]
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
            await store.close()


_SUB = {
    "id": 0, "guild_id": 0, "channel_id": 0, "regions": [], "categories": [], "actors": [],
    "min_confidence": "disputed", "mention_role_id": None, "mode": "both", "digest_every": "daily",
    "last_digest_at": None, "state": "active", "broken_reason": None, "created_by": None,
    "created_at": "",
}  # fmt: skip
