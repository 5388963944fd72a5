"""Alerts reach subscribed channels once, paced, and corrections follow them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import dispatch, services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import MODERATOR_ROLE_ID, SANDBOX_GUILD_ID, add_feed_channels
from bot.services import Scope
from db import Store, open_store
from tests.e2e.support import settled, until

SCOPE = Scope(SANDBOX_GUILD_ID, 1)
POST = "POST /channels/{channel_id}/messages"
#: Requests a starting bot makes outside the dispatcher's pacing (who am I, the application,
#: the command sync, the gateway URL); a fan-out's budget leaves room for them.
STARTUP_REQUESTS = 4
EVENT = {
    "date": "2024-02-14",
    "category": "cruise_missile",
    "summary": "Two missiles off the west coast.",
}


async def deliveries(store: Store, event_id: int) -> list[dict[str, Any]]:
    async with store.read() as q:
        return [asdict(d) for d in await q.deliveries.for_event(event_id)]


def limited(emulator: Emulator) -> int:
    """How many requests Discord answered 429 (each one counts towards a ban)."""
    return len(emulator.rate_limited())


async def test_alert_reaches_a_subscribed_channel_once(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Adding an event posts one alert embed to the subscribed channel, pinging nobody."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await until(lambda: len(discord_emulator.messages("alerts")) == 1)
    await settled(launchwatch.store)
    [message] = discord_emulator.messages("alerts")
    assert message.nonce and message.embeds[0]["footer"]["text"].startswith(
        f"LaunchWatch · event #{event.id}"
    )
    assert "Two missiles off the west coast" in message.embeds[0]["description"]
    assert message.pings.nobody
    assert discord_emulator.messages("general") == []
    assert any(
        c["custom_id"] == f"lw:reactions:{event.id}"
        for row in message.components
        for c in row["components"]
    )


async def test_fan_out_respects_filters_and_modes(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Each matching channel gets exactly one alert; filtered, paused and digest-only ones get none."""
    channels = add_feed_channels(discord_emulator.world, 30)
    for channel_id in channels[:20]:
        await services.subscribe(launchwatch.store, SCOPE, channel_id)
    await services.subscribe(launchwatch.store, SCOPE, channels[20], categories=["icbm"])
    await services.subscribe(launchwatch.store, SCOPE, channels[21], mode="digest")
    await services.subscribe(launchwatch.store, SCOPE, channels[22], min_confidence="confirmed")
    await services.subscribe(launchwatch.store, SCOPE, channels[23])
    await services.set_subscription_state(launchwatch.store, SCOPE, channels[23], "paused")
    await services.subscribe(launchwatch.store, SCOPE, channels[24], mode="both", actors=["DPRK"])
    await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    counts = {c: discord_emulator.count_posts(c) for c in channels}
    assert all(counts[c] == 1 for c in [*channels[:20], channels[24]])
    assert all(counts[c] == 0 for c in channels[20:24])
    assert discord_emulator.duplicate_posts() == [] and discord_emulator.rate_limited() == []


async def test_mention_role_pings_only_itself(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A subscription's mention role is pinged; an @everyone in the summary pings nobody."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id, mention_role_id=MODERATOR_ROLE_ID)
    await services.add_event(
        launchwatch.store, SCOPE, {**EVENT, "summary": "@everyone <@&123> <@456> look"}
    )
    await until(lambda: len(discord_emulator.messages("alerts")) == 1)
    [message] = discord_emulator.messages("alerts")
    assert message.pings.roles == {MODERATOR_ROLE_ID} or list(message.pings.roles) == [
        MODERATOR_ROLE_ID
    ]
    assert not message.pings.everyone and not message.pings.users


async def test_corrections_reach_exactly_the_channels_that_got_the_original(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """An edit of fact edits each original in place and replies with what changed; late subscribers get nothing."""
    first, second, late = add_feed_channels(discord_emulator.world, 3)
    for channel_id in (first, second):
        await services.subscribe(launchwatch.store, SCOPE, channel_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    await services.subscribe(launchwatch.store, SCOPE, late)
    await services.edit_event(launchwatch.store, SCOPE, event.id, "count", "3")
    await settled(launchwatch.store)
    for channel_id in (first, second):
        original, notice = discord_emulator.messages(channel_id)
        assert original.edited_timestamp is not None
        assert "[UPDATED]" in original.embeds[0]["title"] and "3 × " in original.embeds[0]["title"]
        assert notice.message_reference["message_id"] == str(original.id)
        assert "Count: — → 3" in notice.content
        assert notice.pings.nobody
    assert discord_emulator.messages(late) == []


async def test_summary_only_edit_updates_without_notice(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Rewording the summary edits the alert but posts no correction notice."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    await services.edit_event(
        launchwatch.store, SCOPE, event.id, "summary", "Two cruise missiles, west coast."
    )
    await settled(launchwatch.store)
    [original] = discord_emulator.messages("alerts")
    assert "Two cruise missiles, west coast." in original.embeds[0]["description"]


async def test_a_distance_reads_as_people_write_it(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """The alert's Flight field starts with the distance when no landing area is known, and
    the correction names the field and its unit: `Distance: — → 380 km`, not `distance km:
    — → 380.0`."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    await services.edit_event(launchwatch.store, SCOPE, event.id, "distance_km", "380")
    await settled(launchwatch.store)
    original, notice = discord_emulator.messages("alerts")
    flight = {f["name"]: f["value"] for f in original.embeds[0]["fields"]}["Flight"]
    assert flight == "380 km"
    assert notice.content.splitlines()[1] == "• Distance: — → 380 km"


async def test_retraction_edits_and_replies(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A retraction marks the original retracted and replies with the reason."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    await services.retract_event(
        launchwatch.store, SCOPE, event.id, "Misidentified artillery fire."
    )
    await settled(launchwatch.store)
    original, notice = discord_emulator.messages("alerts")
    assert original.embeds[0]["title"].startswith("[RETRACTED]")
    assert original.components == []
    assert "Misidentified artillery fire." in notice.content


async def test_deleted_original_gets_the_correction_fresh(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """When the original alert was deleted, the corrected alert is posted anew."""
    alerts_id = discord_emulator.channel_id("alerts")
    await services.subscribe(launchwatch.store, SCOPE, alerts_id)
    event = await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    [original] = discord_emulator.messages("alerts")
    discord_emulator.store.delete(original)  # a moderator deleted the alert
    await services.edit_event(launchwatch.store, SCOPE, event.id, "distance_km", "600")
    await settled(launchwatch.store)
    [fresh] = discord_emulator.messages("alerts")
    assert fresh.id != original.id and "[UPDATED]" in fresh.embeds[0]["title"]
    assert "600 km" in str(fresh.embeds[0])


@pytest.mark.parametrize("code", [50001, 50013, 10003])
async def test_refusing_channel_breaks_the_subscription_after_one_request(
    discord_emulator: Emulator, launchwatch: LaunchWatch, code: int
) -> None:
    """A 403/404 by error code marks the subscription broken with a reason; that channel gets one request."""
    [channel_id] = add_feed_channels(discord_emulator.world, 1)
    await services.subscribe(launchwatch.store, SCOPE, channel_id)
    discord_emulator.break_channel(channel_id, code)
    await services.add_event(launchwatch.store, SCOPE, EVENT)
    await services.add_event(launchwatch.store, SCOPE, {**EVENT, "date": "2024-02-15"})
    await settled(launchwatch.store)
    [sub] = await services.list_subscriptions(launchwatch.store, SCOPE)
    assert sub.state == "broken" and str(code) in (sub.broken_reason or "")
    requests = [r for r in discord_emulator.requests if str(channel_id) in r.path]
    assert len(requests) == 1


async def test_server_errors_are_retried_until_delivered(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """With a share of 500s injected, every channel still gets its alert exactly once."""
    channels = add_feed_channels(discord_emulator.world, 10)
    for channel_id in channels:
        await services.subscribe(launchwatch.store, SCOPE, channel_id)
    discord_emulator.make_flaky(
        0.3, mode="500", seed=7, routes=["POST /channels/{channel_id}/messages"]
    )
    await services.add_event(launchwatch.store, SCOPE, EVENT)
    await settled(launchwatch.store)
    assert [discord_emulator.count_posts(c) for c in channels] == [1] * 10
    assert any(r.status == 500 for r in discord_emulator.requests)
    assert limited(discord_emulator) == 0


async def test_a_fan_out_beyond_a_seconds_budget_collects_no_429(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Forty-five channels at a budget of 15 a second under Discord's 20: every channel gets
    its alert and Discord never answers 429 (the fan-out is paced, not retried)."""
    global_limit = 20
    budget = global_limit - STARTUP_REQUESTS - 1
    discord_emulator.set_global_limit(global_limit)
    channels = add_feed_channels(discord_emulator.world, 45)
    config = sandbox_config(tmp_path / "pace.db").replace("delivery", "global_rate", float(budget))
    async with running_bot(config, discord_emulator) as bot:
        for channel_id in channels:
            await services.subscribe(bot.store, SCOPE, channel_id)
        await services.add_event(bot.store, SCOPE, EVENT)
        await settled(bot.store)
    assert [discord_emulator.count_posts(c) for c in channels] == [1] * 45
    assert limited(discord_emulator) == 0


async def test_an_event_retracted_before_its_alerts_went_out_posts_nothing(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Added and retracted while no dispatcher runs (the bot is down), an event leaves the
    subscribed channels empty when the bot starts: no alert and no retraction notice."""
    db = tmp_path / "retracted.db"
    first, second = add_feed_channels(discord_emulator.world, 2)
    store = await open_store(f"sqlite:///{db}")
    try:
        for channel_id in (first, second):
            await services.subscribe(store, SCOPE, channel_id)
        event = await services.add_event(store, SCOPE, EVENT)
        await services.retract_event(store, SCOPE, event.id, "Misidentified artillery fire.")
        kinds = sorted(r["kind"] for r in await deliveries(store, event.id))
        assert kinds == ["alert", "alert", "retraction", "retraction"]  # all queued, none sent
    finally:
        await store.close()
    async with running_bot(sandbox_config(db), discord_emulator) as bot:
        await settled(bot.store)
        rows = await deliveries(bot.store, event.id)
    assert discord_emulator.messages(first) == [] and discord_emulator.messages(second) == []
    assert discord_emulator.store.posts() == []
    assert {r["status"] for r in rows} == {"failed"}


async def test_an_event_retracted_while_its_alert_waits_in_a_backlog_posts_nothing(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """A channel paced to one message per three seconds gets two alerts; the second event is
    retracted while its alert waits its turn: only the first alert is ever posted."""
    alerts_id = discord_emulator.channel_id("alerts")
    config = sandbox_config(tmp_path / "backlog.db")
    config = config.replace("delivery", "channel_rate", 1 / 3).replace(
        "delivery", "channel_burst", 1
    )
    async with running_bot(config, discord_emulator) as bot:
        await services.subscribe(bot.store, SCOPE, alerts_id)
        shown = await services.add_event(bot.store, SCOPE, EVENT)
        waiting = await services.add_event(bot.store, SCOPE, {**EVENT, "date": "2024-02-15"})
        await until(lambda: len(discord_emulator.messages(alerts_id)) == 1)
        [row] = [r for r in await deliveries(bot.store, waiting.id) if r["kind"] == "alert"]
        assert row["status"] == "pending"  # still waiting for the channel's window
        await services.retract_event(bot.store, SCOPE, waiting.id, "A duplicate report.")
        await settled(bot.store)
    [message] = discord_emulator.messages(alerts_id)
    assert f"event #{shown.id} " in message.embeds[0]["footer"]["text"]
    assert discord_emulator.count_posts(alerts_id) == 1


async def settled_or(store: Store, give_up: Callable[[], bool], timeout: float = 30.0) -> None:
    """Until the outbox has nothing pending, or `give_up` holds (a failure already seen)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not give_up():
        async with store.read() as q:
            if not await q.deliveries.count("pending"):
                return
        assert asyncio.get_running_loop().time() < deadline, "deliveries still pending"
        await asyncio.sleep(0.02)


async def test_a_channel_failing_past_the_nonce_window_never_gets_a_second_copy(
    discord_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every post to the channel is carried out but answered 500 (the answer lost), for longer
    than Discord remembers a nonce: the bot keeps retrying only while a retry would be
    recognised by its nonce, so the channel shows the alert once, never twice."""
    alerts_id = discord_emulator.channel_id("alerts")
    discord_emulator.routes.nonce_window = 3.0  # Discord's few minutes, shortened
    monkeypatch.setattr(dispatch, "NONCE_WINDOW", timedelta(seconds=2))  # the bot's margin
    config = sandbox_config(tmp_path / "nonce.db")
    config = config.replace("delivery", "send_timeout", 0.5).replace(
        "delivery", "max_attempts", 100
    )
    async with running_bot(config, discord_emulator) as bot:
        assert bot.dispatcher is not None
        bot.dispatcher.backoff_cap = 0.5  # retries come quickly, so many fit in the window
        await services.subscribe(bot.store, SCOPE, alerts_id)
        discord_emulator.make_flaky(1.0, mode="lost", routes=[POST])
        await services.add_event(bot.store, SCOPE, EVENT)
        await settled_or(bot.store, lambda: bool(discord_emulator.duplicate_posts()))
        discord_emulator.faults.clear()
    assert discord_emulator.duplicate_posts() == []
    assert discord_emulator.count_posts(alerts_id) == 1
    assert sum(1 for r in discord_emulator.requests if r.route == POST) >= 2  # it did retry
