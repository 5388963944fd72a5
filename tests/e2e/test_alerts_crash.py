"""A bot stopped in the middle of a fan-out and started again leaves every channel one alert.

The cut lands between a post and the mark of its row as sent. Started again within
Discord's nonce window, the bot sends that row again with the same nonce
(`enforce_nonce`), and Discord (here, the emulator) answers with the message it already
made instead of posting twice. Started later than that, it reconciles first: it lists its
own messages in the channel and settles the row on the one that is its post (Discord keeps
no nonce on a stored message, so the match is by what the message shows). Either way the
row records the revision the message shows, so a change made while the bot was down is
still sent as a correction.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import services
from bot.config import Config
from bot.digest import next_due, queue_digest
from bot.emulator.api import Emulator, Overwrite, Perm
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import SANDBOX_GUILD_ID, add_feed_channels
from bot.services import Scope
from bot.services.context import now_iso
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
        return [asdict(d) for d in await q.deliveries.for_event(event_id)]


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
    channels = add_feed_channels(discord_emulator.world, CHANNELS)
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
    channels = add_feed_channels(discord_emulator.world, CHANNELS)
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


# -- past the nonce window, and changes made while the bot was down -----------------------

#: Channels in the tests below: half a fan-out is posted before the cut, about a dozen of
#: them (MARK_LAG at BUDGET a second) posted but not marked.
FEW = 50


async def age(store: Store, emulator: Emulator, minutes: float) -> None:
    """Let `minutes` pass for the outbox and for Discord's nonce memory: every first try
    moves that far back, and the emulator forgets nonces that much sooner."""
    async with store.transaction() as q:
        for row in await q.conn.fetchall(
            "SELECT id, first_attempt_at FROM delivery WHERE first_attempt_at IS NOT NULL"
        ):
            earlier = datetime.fromisoformat(row["first_attempt_at"]) - timedelta(minutes=minutes)
            await q.deliveries.update(row["id"], first_attempt_at=now_iso(earlier))
    nonces = emulator.routes.store.nonces
    for key, (message_id, at) in list(nonces.items()):
        nonces[key] = (message_id, at - minutes * 60)


def posts_of(emulator: Emulator, nonce: str) -> int:
    """How many POSTs carried this nonce."""
    return sum(
        1
        for r in emulator.requests
        if r.route == POST and isinstance(r.body, dict) and r.body.get("nonce") == nonce
    )


async def cut_mid_fan_out(
    emulator: Emulator, db: Path, channels: list[int]
) -> tuple[int, set[str]]:
    """Subscribe, add the event, stop the bot between posts and their marks half-way;
    return the event id and the nonces of the rows posted but still pending."""
    undo = hold_sent_marks(MARK_LAG)
    try:
        async with running_bot(config_for(db), emulator) as first:
            assert first.dispatcher is not None
            for channel_id in channels:
                await services.subscribe(first.store, SCOPE, channel_id)
            event = await services.add_event(first.store, SCOPE, EVENT)
            await until(lambda: posted(emulator, channels) >= len(channels) // 2)
            await first.dispatcher.stop()
            victims = pending_but_posted(emulator, await deliveries(first.store, event.id))
    finally:
        undo()
    assert victims and posted(emulator, channels) < len(channels)
    return event.id, victims


async def test_a_bot_down_past_the_nonce_window_reconciles_instead_of_resending(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Down longer than Discord keeps nonces, the bot finds its earlier posts in the
    channels (by their footers) and settles those rows on them: no channel gets a second."""
    discord_emulator.set_global_limit(GLOBAL_LIMIT)
    channels = add_feed_channels(discord_emulator.world, FEW)
    db = tmp_path / "late.db"
    event_id, victims = await cut_mid_fan_out(discord_emulator, db, channels)
    store = await open_store(f"sqlite:///{db}")
    try:
        await age(store, discord_emulator, 6)
    finally:
        await store.close()
    async with running_bot(config_for(db), discord_emulator) as second:
        await settled(second.store)
        rows = await deliveries(second.store, event_id)
    counts = discord_emulator.posts_per_channel()
    assert [counts.get(c, 0) for c in channels] == [1] * FEW
    assert discord_emulator.duplicate_posts() == []
    for row in rows:
        [message] = discord_emulator.messages(row["channel_id"])
        assert row["status"] == "sent" and row["message_id"] == message.id
        assert row["revision"] == 1
        if row["nonce"] in victims:
            assert posts_of(discord_emulator, row["nonce"]) == 1  # reconciled, not resent
    listed = {r.path for r in discord_emulator.requests if r.method == "GET" and r.path.endswith("/messages")}  # fmt: skip
    assert {f"/channels/{r['channel_id']}/messages" for r in rows if r["nonce"] in victims} <= listed  # fmt: skip


async def test_without_read_message_history_an_unsure_row_is_dead_not_resent(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Where the bot cannot read the channel's history, a row whose nonce Discord may have
    forgotten is marked dead with the reason: never resent on a guess."""
    discord_emulator.set_global_limit(GLOBAL_LIMIT)
    channels = add_feed_channels(discord_emulator.world, FEW)
    db = tmp_path / "blind.db"
    event_id, victims = await cut_mid_fan_out(discord_emulator, db, channels)
    store = await open_store(f"sqlite:///{db}")
    try:
        rows = await deliveries(store, event_id)
        await age(store, discord_emulator, 6)
    finally:
        await store.close()
    blind = next(r for r in rows if r["nonce"] in victims)
    channel = discord_emulator.world.channel(blind["channel_id"])
    assert channel is not None
    bot_id = discord_emulator.world.bot.id
    channel.overwrites.append(Overwrite(bot_id, type=1, deny=Perm.READ_MESSAGE_HISTORY))
    async with running_bot(config_for(db), discord_emulator) as second:
        await settled(second.store)
        after = {r["id"]: r for r in await deliveries(second.store, event_id)}
    assert after[blind["id"]]["status"] == "dead"
    assert "Read Message History" in after[blind["id"]]["last_error"]
    assert posts_of(discord_emulator, blind["nonce"]) == 1
    counts = discord_emulator.posts_per_channel()
    assert [counts.get(c, 0) for c in channels] == [1] * FEW
    assert [r["status"] for i, r in after.items() if i != blind["id"]] == ["sent"] * (FEW - 1)


@pytest.mark.parametrize("change", ["edit", "retract"])
async def test_a_change_made_while_the_bot_was_down_reaches_every_channel(
    discord_emulator: Emulator, tmp_path: Path, change: str
) -> None:
    """SIGKILLed between posts and their marks, the event corrected (or retracted) while
    the bot is down, started again: every channel shows the event as it stands now, and
    each that had the old alert got exactly one notice."""
    discord_emulator.set_global_limit(GLOBAL_LIMIT)
    channels = add_feed_channels(discord_emulator.world, FEW)
    db = tmp_path / "crash.db"
    store = await open_store(f"sqlite:///{db}")
    try:
        for channel_id in channels:
            await services.subscribe(store, SCOPE, channel_id)
        event = await services.add_event(store, SCOPE, EVENT)
        first = await spawn(discord_emulator, db, "--hold-marks", str(MARK_LAG))
        try:
            await until(lambda: posted(discord_emulator, channels) >= FEW // 2, 30)
        finally:
            first.kill()
            await first.wait()
        had_old = {c for c in channels if discord_emulator.messages(c)}
        assert pending_but_posted(discord_emulator, await deliveries(store, event.id))
        if change == "edit":
            await services.edit_event(store, SCOPE, event.id, "count", "3")
        else:
            await services.retract_event(store, SCOPE, event.id, "Misidentified artillery fire.")
        second = await spawn(discord_emulator, db)
        try:
            await settled(store, 30)
        finally:
            await stop(second)
    finally:
        await store.close()
    assert discord_emulator.duplicate_posts() == []
    for channel_id in channels:
        messages = discord_emulator.messages(channel_id)
        shown = [m for m in messages if m.message_reference is None]
        notices = [m for m in messages if m.message_reference is not None]
        if change == "retract" and channel_id not in had_old:
            assert messages == []  # retracted before it reached this channel: nothing
            continue
        [alert] = shown
        title = alert.embeds[0]["title"]
        if change == "edit":
            assert "3 × " in title, f"channel {channel_id} still shows the old facts"
        else:
            assert title.startswith("[RETRACTED]")
        if channel_id in had_old:
            [notice] = notices
            assert notice.message_reference is not None
            assert notice.message_reference["message_id"] == str(alert.id)
            assert ("Count: — → 3" if change == "edit" else "Misidentified") in notice.content
        else:
            assert notices == [] and "[UPDATED]" not in title


async def test_a_message_read_back_carries_no_nonce(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """As on Discord, only the answer to the POST shows the nonce: the reconciler cannot
    look for it in a channel's messages."""
    [channel_id] = add_feed_channels(discord_emulator.world, 1)
    async with running_bot(config_for(tmp_path / "nonce.db"), discord_emulator) as bot:
        await services.subscribe(bot.store, SCOPE, channel_id)
        await services.add_event(bot.store, SCOPE, EVENT)
        await settled(bot.store)
        [stored] = discord_emulator.messages(channel_id)
        channel = bot.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        fetched = await channel.fetch_message(stored.id)
        listed = [m async for m in channel.history(limit=10)]
    assert stored.nonce and fetched.nonce is None
    assert [m.id for m in listed] == [stored.id] and listed[0].nonce is None


async def test_notices_and_digests_past_the_nonce_window_are_found_not_resent(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A correction notice, a retraction notice (each a reply to its alert naming the
    revision or the retraction) and a digest (its footer names the period), posted but
    not marked before a stop, and Discord's nonces forgotten: the restarted bot finds each
    in its channel and settles it, posting nothing again."""
    fixed, withdrawn, digests = add_feed_channels(discord_emulator.world, 3)
    db = tmp_path / "notices.db"
    cruise = {**EVENT, "category": "cruise_missile"}
    srbm = {**EVENT, "category": "srbm", "summary": "One short-range missile."}
    async with running_bot(config_for(db), discord_emulator) as first:
        assert first.dispatcher is not None
        store = first.store
        await services.subscribe(store, SCOPE, fixed, categories=["cruise_missile"])
        await services.subscribe(store, SCOPE, withdrawn, categories=["srbm"])
        digest_sub = await services.subscribe(store, SCOPE, digests, mode="digest")
        corrected = await services.add_event(store, SCOPE, cruise)
        retracted = await services.add_event(store, SCOPE, srbm)
        await settled(store)
        undo = hold_sent_marks(60)
        try:
            await services.edit_event(store, SCOPE, corrected.id, "count", "3")
            await services.retract_event(store, SCOPE, retracted.id, "It was artillery.")
            # The period that ends at the next due time holds the events just added.
            await queue_digest(store, digest_sub.id, next_due(digest_sub, datetime.now(UTC)))
            await until(
                lambda: (
                    len(discord_emulator.messages(fixed)) == 2
                    and len(discord_emulator.messages(withdrawn)) == 2
                    and len(discord_emulator.messages(digests)) == 1
                )
            )
            await first.dispatcher.stop()
        finally:
            undo()
        async with store.read() as q:
            assert await q.deliveries.count("pending") == 3
        await age(store, discord_emulator, 6)
    posts = discord_emulator.posts_per_channel()
    async with running_bot(config_for(db), discord_emulator) as second:
        await settled(second.store)
        rows = await deliveries(second.store, corrected.id) + await deliveries(
            second.store, retracted.id
        )
        async with second.store.read() as q:
            rows += await q.conn.fetchall("SELECT * FROM delivery WHERE kind = 'digest'")
    assert discord_emulator.posts_per_channel() == posts
    assert discord_emulator.duplicate_posts() == []
    by_kind = {r["kind"]: r for r in rows}
    assert {r["status"] for r in rows} == {"sent"}
    for kind, channel_id in (("correction", fixed), ("retraction", withdrawn), ("digest", digests)):
        assert by_kind[kind]["message_id"] == discord_emulator.messages(channel_id)[-1].id
    alerts = {r["channel_id"]: r for r in rows if r["kind"] == "alert"}
    assert alerts[fixed]["revision"] == 2  # what the edited alert shows, from the notice
