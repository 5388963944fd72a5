"""A bot killed in the middle of a fan-out and started again leaves every channel one alert.

The cut lands between a post and the mark of its row as sent: the restarted bot sends that
row again with the same nonce (`enforce_nonce`), and Discord (here, the emulator) answers
with the message it already made instead of posting twice.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bot import services
from bot.config import Config
from bot.emulator.api import Channel, Emulator, new_snowflake
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import SANDBOX_GUILD_ID
from bot.services import Scope
from db import Store, open_store
from tests.e2e.bot_process import hold_sent_marks
from tests.e2e.support import settled, until

ROOT = Path(__file__).resolve().parents[2]
SCOPE = Scope(SANDBOX_GUILD_ID, 1)
EVENT = {
    "date": "2024-02-14",
    "category": "cruise_missile",
    "summary": "Two missiles off the west coast.",
}
POST = "POST /channels/{channel_id}/messages"
CHANNELS = 100
#: The emulator's global limit, and the bot's budget under it: 100 posts take about 5 s.
GLOBAL_LIMIT = 25
#: Requests a starting bot makes outside the dispatcher's pacing (who am I, the application,
#: the command sync, the gateway URL), in the same second as its first alerts when it starts
#: with a backlog. The budget leaves room for them, so the fan-out collects no 429 at all.
STARTUP_REQUESTS = 4
BUDGET = GLOBAL_LIMIT - STARTUP_REQUESTS - 1
#: How long each "sent" mark lags its post before the cut (a slow disk).
MARK_LAG = 0.5


def add_channels(emulator: Emulator, n: int) -> list[int]:
    guild = emulator.world.guild(SANDBOX_GUILD_ID)
    assert guild is not None
    ids = [new_snowflake() for _ in range(n)]
    for i, channel_id in enumerate(ids):
        guild.channels[channel_id] = Channel(channel_id, SANDBOX_GUILD_ID, f"feed-{i}")
    return ids


def posted(emulator: Emulator, channels: list[int]) -> int:
    """How many of the channels have their alert."""
    counts = emulator.posts_per_channel()
    return sum(1 for c in channels if counts.get(c))


def restart_later(emulator: Emulator) -> None:
    """A real restart takes longer than Discord's one-second window; here it takes
    milliseconds, and no process can know what the one before it sent in its last second."""
    emulator.reset_rate_limits()


def config_for(db: Path) -> Config:
    return sandbox_config(db).replace("delivery", "global_rate", float(BUDGET))


async def deliveries(store: Store, event_id: int) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.deliveries_for_event(event_id)


def pending_but_posted(emulator: Emulator, rows: list[dict[str, Any]]) -> set[str]:
    """Nonces of rows still pending although their channel has the alert: the cut's victims."""
    counts = emulator.posts_per_channel()
    return {r["nonce"] for r in rows if r["status"] == "pending" and counts.get(r["channel_id"])}


def resent(emulator: Emulator) -> set[str]:
    """Nonces POSTed more than once (each time with enforce_nonce) and answered 200."""
    sends = Counter(
        (r.path, r.body["nonce"])
        for r in emulator.requests
        if r.route == POST and r.status == 200 and r.body.get("enforce_nonce") is True
    )
    return {nonce for (_, nonce), n in sends.items() if n > 1}


def assert_exactly_once(
    emulator: Emulator, channels: list[int], rows: list[dict[str, Any]], victims: set[str]
) -> None:
    """One alert per channel, paced without a 429; each victim's resend got the first message
    back, by its nonce."""
    limited = emulator.rate_limited()
    assert not limited, f"{len(limited)} requests were answered 429"
    counts = emulator.posts_per_channel()
    assert [counts.get(c, 0) for c in channels] == [1] * len(channels)
    assert emulator.duplicate_posts() == []
    assert all(r["status"] == "sent" for r in rows)
    again = resent(emulator)
    assert victims and victims <= again
    for row in rows:
        if row["nonce"] in again:
            [message] = emulator.messages(row["channel_id"])
            assert message.nonce == row["nonce"] and row["message_id"] == message.id


async def test_cancelled_fan_out_resumes_with_one_alert_per_channel(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Cancelled half-way through a fan-out and restarted, the bot leaves every channel one alert."""
    discord_emulator.set_global_limit(GLOBAL_LIMIT)
    channels = add_channels(discord_emulator, CHANNELS)
    db = tmp_path / "crash.db"
    undo = hold_sent_marks(MARK_LAG)
    try:
        async with running_bot(config_for(db), discord_emulator) as first:
            assert first.dispatcher is not None
            for channel_id in channels:
                await services.subscribe(first.store, SCOPE, channel_id)
            event = await services.add_event(first.store, SCOPE, EVENT)
            await until(lambda: posted(discord_emulator, channels) >= CHANNELS // 2)
            await first.dispatcher.stop()  # cancels the dispatcher's runner and every worker
            victims = pending_but_posted(discord_emulator, await deliveries(first.store, event.id))
            assert posted(discord_emulator, channels) < CHANNELS
    finally:
        undo()
    restart_later(discord_emulator)
    async with running_bot(config_for(db), discord_emulator) as second:
        await settled(second.store)
        rows = await deliveries(second.store, event.id)
    assert_exactly_once(discord_emulator, channels, rows, victims)


async def spawn(emulator: Emulator, db: Path, *options: str) -> asyncio.subprocess.Process:
    """The bot in a process of its own (its output goes to pytest's capture)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.bot_process",
        "--base",
        emulator.base_url,
        "--gateway",
        emulator.gateway_url,
        "--db",
        str(db),
        "--global-rate",
        str(BUDGET),
        *options,
        cwd=ROOT,
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL if it does not end in time."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_killed_process_restarts_with_one_alert_per_channel(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """SIGKILLed half-way through a fan-out and started again, the bot leaves every channel one alert."""
    discord_emulator.set_global_limit(GLOBAL_LIMIT)
    channels = add_channels(discord_emulator, CHANNELS)
    db = tmp_path / "crash.db"
    store = await open_store(f"sqlite:///{db}")
    try:
        for channel_id in channels:
            await services.subscribe(store, SCOPE, channel_id)
        event = await services.add_event(store, SCOPE, EVENT)  # queued; no dispatcher here
        first = await spawn(discord_emulator, db, "--hold-marks", str(MARK_LAG))
        try:
            await until(lambda: posted(discord_emulator, channels) >= CHANNELS // 2, 30)
        finally:
            first.kill()
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        victims = pending_but_posted(discord_emulator, await deliveries(store, event.id))
        assert posted(discord_emulator, channels) < CHANNELS
        restart_later(discord_emulator)
        second = await spawn(discord_emulator, db)
        try:
            await settled(store, 30)
        finally:
            await stop(second)
        rows = await deliveries(store, event.id)
    finally:
        await store.close()
    assert_exactly_once(discord_emulator, channels, rows, victims)
