"""/alerts as moderators use it: subscribe, list, pause, resume, test, preview."""

from __future__ import annotations

import asyncio

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Channel, Emulator, Overwrite, new_snowflake
from bot.sandbox.world import MODERATOR_ROLE_ID, SANDBOX_GUILD_ID
from bot.services import Scope
from tests.e2e.support import until

SCOPE = Scope(SANDBOX_GUILD_ID, 1)


async def test_moderator_subscribes_a_channel(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A moderator subscribes #alerts with filters; the answer restates them and the store has them."""
    result = await discord_emulator.invoke(
        "alerts subscribe",
        {"channel": "alerts", "categories": "icbm,slbm", "min_confidence": "reported"},
        user="moderator",
    )
    assert (
        result.ephemeral
        and "now gets instant alerts" in result.content
        and "icbm, slbm" in result.content
    )
    [sub] = await services.list_subscriptions(launchwatch.store, SCOPE)
    assert sub.channel_id == discord_emulator.channel_id("alerts")
    assert sub.categories == ["icbm", "slbm"] and sub.min_confidence == "reported"


async def test_member_cannot_subscribe(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A plain member is refused by Discord's gate and nothing is stored."""
    result = await discord_emulator.invoke("alerts subscribe", {"channel": "alerts"}, user="member")
    assert result.refused
    assert await services.list_subscriptions(launchwatch.store, SCOPE) == []


async def test_stale_grant_is_refused_by_the_bot(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """If Discord lets a member through, the bot's own check refuses, naming Manage Channels."""
    discord_emulator.world.allow_command(
        SANDBOX_GUILD_ID,
        "alerts",
        user_id=discord_emulator.world.find_member("member", SANDBOX_GUILD_ID).user.id,
    )
    result = await discord_emulator.invoke("alerts subscribe", {"channel": "alerts"}, user="member")
    assert not result.refused and result.ephemeral
    assert "Manage Channels" in result.content
    assert await services.list_subscriptions(launchwatch.store, SCOPE) == []


@pytest.fixture
def locked_channel(discord_emulator: Emulator) -> int:
    """A #locked channel where @everyone (the bot included) is denied Embed Links, made before the bot connects."""
    guild = discord_emulator.world.guild(SANDBOX_GUILD_ID)
    assert guild is not None
    channel_id = new_snowflake()
    deny_embeds = Overwrite(SANDBOX_GUILD_ID, 0, 0, 1 << 14)
    guild.channels[channel_id] = Channel(
        channel_id, SANDBOX_GUILD_ID, "locked", overwrites=[deny_embeds]
    )
    return channel_id


async def test_subscribe_refuses_a_channel_the_bot_cannot_post_in(
    discord_emulator: Emulator, locked_channel: int, launchwatch: LaunchWatch
) -> None:
    """Without Embed Links in the channel, subscribing names the missing permission and stores nothing."""
    result = await discord_emulator.invoke(
        "alerts subscribe", {"channel": "locked"}, user="moderator"
    )
    assert result.ephemeral and "Embed Links" in result.content and "#locked" in result.content
    assert await services.list_subscriptions(launchwatch.store, SCOPE) == []


async def test_unmentionable_role_is_refused(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A mention role the bot cannot ping is refused with the fix."""
    role = discord_emulator.world.find_role(MODERATOR_ROLE_ID, SANDBOX_GUILD_ID)
    role.mentionable = False  # as the interaction's resolved role will say
    result = await discord_emulator.invoke(
        "alerts subscribe",
        {"channel": "alerts", "mention_role": MODERATOR_ROLE_ID},
        user="moderator",
    )
    assert "Mention Everyone" in result.content
    assert await services.list_subscriptions(launchwatch.store, SCOPE) == []


async def test_list_shows_state_and_broken_reason(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """/alerts list shows each subscription with its filters, mode and, when broken, why."""
    await services.subscribe(
        launchwatch.store,
        SCOPE,
        discord_emulator.channel_id("alerts"),
        mode="both",
        digest_every="weekly",
    )
    await services.set_subscription_state(
        launchwatch.store,
        SCOPE,
        discord_emulator.channel_id("alerts"),
        "broken",
        "Missing Access (50001)",
    )
    result = await discord_emulator.invoke("alerts list", {}, user="moderator")
    text = str(result.embeds[0])
    assert (
        "broken" in text
        and "Missing Access" in text
        and "weekly digest" in text
        and "every event" in text
    )


async def test_pause_and_resume(discord_emulator: Emulator, launchwatch: LaunchWatch) -> None:
    """Pausing stops alerts to the channel; resuming starts them again."""
    await discord_emulator.invoke("alerts subscribe", {"channel": "alerts"}, user="moderator")
    paused = await discord_emulator.invoke("alerts pause", {"channel": "alerts"}, user="moderator")
    assert "paused" in paused.content
    await services.add_event(
        launchwatch.store, SCOPE, {"date": "2024-02-14", "category": "srbm", "summary": "One."}
    )
    await asyncio.sleep(0.3)
    assert discord_emulator.messages("alerts") == []
    resumed = await discord_emulator.invoke(
        "alerts resume", {"channel": "alerts"}, user="moderator"
    )
    assert "back on" in resumed.content
    await services.add_event(
        launchwatch.store, SCOPE, {"date": "2024-02-15", "category": "srbm", "summary": "Two."}
    )
    await until(lambda: len(discord_emulator.messages("alerts")) == 1)


async def test_test_alert_goes_through_the_pipeline(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """/alerts test posts a sample alert in the subscribed channel, with a nonce like real ones."""
    await discord_emulator.invoke("alerts subscribe", {"channel": "alerts"}, user="moderator")
    result = await discord_emulator.invoke("alerts test", {"channel": "alerts"}, user="moderator")
    assert "on its way" in result.content
    await until(lambda: len(discord_emulator.messages("alerts")) == 1)
    [message] = discord_emulator.messages("alerts")
    assert "Test alert" in message.embeds[0]["title"] and message.nonce


async def test_test_alert_needs_a_subscription(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """/alerts test in an unsubscribed channel says to subscribe first."""
    result = await discord_emulator.invoke("alerts test", {"channel": "general"}, user="moderator")
    assert result.ephemeral and "subscription" in result.content.lower()
    assert discord_emulator.messages("general") == []


async def test_preview_shows_the_alert_privately(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """/alerts preview shows the alert for an event only to the asker, posting nothing."""
    result = await discord_emulator.invoke("alerts preview", {"event": "1"}, user="moderator")
    assert result.ephemeral and "cruise missile" in result.embeds[0]["title"]
    assert discord_emulator.messages("alerts") == [] and discord_emulator.messages("general") == []
