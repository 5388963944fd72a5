"""Launch maps in alerts and in /launch: drawn in the worker, sent as an upload its embed
shows, never holding an alert up, never added later."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, MessageRecord
from bot.emulator.permissions import Perm
from bot.emulator.world import Overwrite
from bot.models import Event
from bot.pictures import Picture, Renderer
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID, add_feed_channels
from bot.services import Scope
from bot.services.pictures import ALERT_WAIT
from tests.e2e.pictures import Worker, pictures_of
from tests.e2e.support import settled, until

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
#: A launch from a site the gazetteer knows, without coordinates: the map finds it there.
KIM_CHAEK = {
    "date": "2024-02-02",
    "category": "cruise_missile",
    "summary": "Cruise missiles from the Kim Chaek area; they flew about 150 km.",
    "launch_site": "Kim Chaek",
    "distance_km": 150,
}


@dataclass
class Running:
    bot: LaunchWatch
    worker: Worker
    channels: list[int]


@pytest.fixture
async def running(
    discord_emulator: Emulator, tmp_path: Path, picture_pool: ProcessPoolExecutor
) -> AsyncIterator[Running]:
    """The bot with three subscribed channels, its pictures drawn behind a `Worker` the
    test can hold or break."""
    channels = add_feed_channels(discord_emulator.world, 3)  # before the bot sees the guild
    worker = Worker(picture_pool)
    config = sandbox_config(tmp_path / "maps.db")
    async with running_bot(config, discord_emulator, renderer=Renderer(executor=worker)) as bot:
        try:
            for channel_id in channels:
                await services.subscribe(bot.store, MOD, channel_id)
            # A map is drawn in well under a second, but a busy test machine is no measure:
            # the tests that hold the worker show what a slow map does at the real wait.
            bot.pictures.alert_wait = 60.0
            yield Running(bot, worker, channels)
        finally:
            worker.release()  # closing the bot waits for the renders under way
    worker.shutdown()


async def record(bot: LaunchWatch, **fields: Any) -> Event:
    return await services.add_event(bot.store, MOD, {**KIM_CHAEK, **fields})


def alert_in(emulator: Emulator, channel_id: int) -> MessageRecord:
    """The channel's alert (a correction notice replies to it)."""
    [message] = [m for m in emulator.messages(channel_id) if not m.message_reference]
    return message


async def test_an_alert_carries_its_map_drawn_once_for_every_channel(
    discord_emulator: Emulator, running: Running
) -> None:
    """Each channel's alert uploads the map and its embed shows it; three channels, one
    drawing. The site's position comes from the gazetteer, named in the description."""
    event = await record(running.bot)
    await settled(running.bot.store)
    described = set()
    for channel_id in running.channels:
        message = alert_in(discord_emulator, channel_id)
        [(name, _, description)] = pictures_of(message)
        assert name == "map.png"
        described.add(description)
    assert described == {
        "Map of DPRK · cruise missile · 2 Feb 2024: the cruise missile launch site Kim Chaek "
        "at 40.7°N 129.2°E, with a ring 150 km around it for the reported range."
    }
    assert running.worker.drawn == 1
    assert (
        f"event #{event.id}"
        in alert_in(discord_emulator, running.channels[0]).embeds[0]["footer"]["text"]
    )


async def test_a_slow_map_holds_no_alert_up_and_is_never_added_later(
    discord_emulator: Emulator, running: Running
) -> None:
    """While the map is still being drawn, every channel gets its alert without it. Once
    drawn, /launch shows it, but the alerts are not edited to add it: not even by a
    correction, which edits each alert in place."""
    running.bot.pictures.alert_wait = ALERT_WAIT
    running.worker.hold()
    event = await record(running.bot)
    await until(lambda: all(discord_emulator.messages(c) for c in running.channels))
    await settled(running.bot.store)
    assert running.worker.waiting == 1  # the map was on its way all along
    for channel_id in running.channels:
        message = alert_in(discord_emulator, channel_id)
        assert message.attachments == [] and not message.embeds[0].get("image")
    running.worker.release()
    cached = running.bot.pictures.renderer.maps
    await until(lambda: cached.get(("event", event.id, event.revision)) is not None)
    shown = await discord_emulator.invoke("launch", {"event": str(event.id)})
    assert [name for name, _, _ in pictures_of(shown.message)] == ["map.png"]
    await services.edit_event(running.bot.store, MOD, event.id, "summary", "Two missiles.")
    await until(lambda: all(alert_in(discord_emulator, c).edits for c in running.channels))
    await settled(running.bot.store)
    for channel_id in running.channels:
        message = alert_in(discord_emulator, channel_id)
        assert "Two missiles." in message.embeds[0]["description"]
        assert message.attachments == [] and not message.embeds[0].get("image")


async def test_a_failed_map_leaves_the_alert_without_it_and_the_log_says_why(
    discord_emulator: Emulator, running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    running.worker.fail()
    with caplog.at_level(logging.WARNING, logger="launchwatch"):
        event = await record(running.bot)
        await settled(running.bot.store)
    for channel_id in running.channels:
        message = alert_in(discord_emulator, channel_id)
        assert message.attachments == [] and not message.embeds[0].get("image")
    assert f"could not draw map ('event', {event.id}, 1)" in caplog.text
    assert (
        f"alerts of event {event.id} revision 1 go without its map: drawing it failed"
        in caplog.text
    )


async def test_a_correction_takes_the_first_map_off_the_alert(
    discord_emulator: Emulator, running: Running
) -> None:
    """The map showed the site as first reported; the corrected alert carries none (it
    would show the old site), and /launch draws the new one."""
    event = await record(running.bot)
    await settled(running.bot.store)
    assert pictures_of(alert_in(discord_emulator, running.channels[0]))
    await services.edit_event(running.bot.store, MOD, event.id, "launch_site", "Sinpo")
    await until(lambda: all(alert_in(discord_emulator, c).edits for c in running.channels))
    await settled(running.bot.store)
    for channel_id in running.channels:
        message = alert_in(discord_emulator, channel_id)
        assert message.attachments == [] and not message.embeds[0].get("image")
    shown = await discord_emulator.invoke("launch", {"event": str(event.id)})
    [(_, _, description)] = pictures_of(shown.message)
    assert "launch site Sinpo at 40.0°N 128.2°E" in description


async def test_no_map_where_the_bot_may_not_upload_files(
    discord_emulator: Emulator, tmp_path: Path, picture_pool: ProcessPoolExecutor
) -> None:
    """A channel that denies the bot Attach Files gets the alert without the map (Discord
    would refuse the whole message), and its subscription stays active."""
    [channel_id] = add_feed_channels(discord_emulator.world, 1)
    channel = discord_emulator.world.channel(channel_id)
    assert channel is not None
    channel.overwrites.append(
        Overwrite(discord_emulator.world.bot.id, type=1, deny=Perm.ATTACH_FILES)
    )
    config = sandbox_config(tmp_path / "noattach.db")
    renderer = Renderer(executor=picture_pool)
    async with running_bot(config, discord_emulator, renderer=renderer) as bot:
        bot.pictures.alert_wait = 60.0  # the map would be ready: the channel decides
        await services.subscribe(bot.store, MOD, channel_id)
        await services.add_event(bot.store, MOD, KIM_CHAEK)
        await settled(bot.store)
        [message] = discord_emulator.messages(channel_id)
        assert message.attachments == [] and "Kim Chaek area" in message.embeds[0]["description"]
        [sub] = await services.list_subscriptions(bot.store, MOD)
        assert sub.state == "active"


async def test_launch_shows_the_map_of_a_known_site(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """/launch of the seed's Kim Chaek launch: its facts and, below them, its map."""
    [event] = await services.search_events(seeded.store, MOD, "kim chaek", limit=1)
    result = await discord_emulator.invoke("launch", {"event": str(event.id)})
    assert result.deferred and not result.ephemeral
    assert result.embeds[0]["title"].startswith("DPRK · cruise missile · from Kim Chaek")
    [(_, png, description)] = pictures_of(result.message)
    picture = seeded.pictures.renderer.maps.get(("event", event.id, event.revision))
    assert isinstance(picture, Picture) and picture.png == png
    assert "launch site Kim Chaek" in (description or "")


async def test_launch_without_a_known_site_has_no_map(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    [event] = await services.search_events(seeded.store, MOD, "jan 29", limit=1)
    result = await discord_emulator.invoke("launch", {"event": str(event.id)})
    assert result.embeds and result.message is not None
    assert result.message.attachments == [] and not result.embeds[0].get("image")
