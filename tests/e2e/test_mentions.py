"""Moderators' text never pings anyone: alerts, corrections, retractions, the log channel.

The bot here holds Mention Everyone, so a slip would really ping @everyone and every role.
Moderators' text mentions everyone, @here, and real roles and members of the server. Only a
subscription's own mention role is ever pinged, by its alert; every other post pings nobody,
and its `allowed_mentions` would let nobody through whatever its text held (see pings.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import services
from bot.client import LaunchWatch
from bot.sandbox import (
    ADMIN_USER_ID,
    ALERTS_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    MEMBER_USER_ID,
    MODERATOR_ROLE_ID,
    SANDBOX_GUILD_ID,
    Emulator,
)
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.records import MessageRecord, Pings
from bot.sandbox.world import ADMIN_ROLE_ID, BOT_ROLE_ID, Channel, World, new_snowflake
from bot.services import Scope
from tests.e2e.pings import could_ping, hostile, let_the_bot_ping_everyone
from tests.e2e.support import settled, until

SCOPE = Scope(SANDBOX_GUILD_ID, 1)
NOBODY = Pings()
ROLE_ONLY = Pings(roles=frozenset({MODERATOR_ROLE_ID}))


@pytest.fixture
async def bot(discord_emulator: Emulator, tmp_path: Path) -> AsyncIterator[LaunchWatch]:
    """The bot, in a world where its role may mention everyone (set before it connects)."""
    let_the_bot_ping_everyone(discord_emulator.world)
    async with running_bot(sandbox_config(tmp_path / "mentions.db"), discord_emulator) as started:
        yield started


def hostile_event(world: World) -> dict[str, Any]:
    """An event whose every free-text field mentions everyone it can, within its bound."""
    return {
        "date": "2024-02-14",
        "category": "icbm",
        "actor": hostile(world, 100),
        "name": hostile(world, 100),
        "summary": "Launch. " + hostile(world, 2000),
        "launch_site": hostile(world, 200),
        "landing_area": hostile(world, 200),
        "claimed": hostile(world, 300),
        "overseen_by": hostile(world, 200),
        "region": hostile(world, 64),
        "sources": [
            {"url": "https://example.org/a", "title": hostile(world, 300)},
            {"publisher": hostile(world, 200), "title": "Wire " + hostile(world, 250)},
        ],
    }


def assert_pings(world: World, message: MessageRecord, expected: Pings) -> None:
    """Exactly `expected` was pinged, and the message could have pinged nobody else."""
    assert message.pings == expected, message.content
    reach = could_ping(world, message)
    assert not reach.everyone and not reach.users, message.allowed_mentions
    assert reach.roles <= expected.roles, message.allowed_mentions


def add_channel(emulator: Emulator, name: str) -> int:
    guild = emulator.world.guild(SANDBOX_GUILD_ID)
    assert guild is not None
    channel_id = new_snowflake()
    guild.channels[channel_id] = Channel(channel_id, SANDBOX_GUILD_ID, name)
    return channel_id


async def test_the_world_lets_a_slip_ping_everyone(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    """The premise: in this world the bot's own text, sent with every mention allowed, pings
    @everyone, the roles nobody may mention, and members. So silence below means something."""
    channel = bot.get_partial_messageable(GENERAL_CHANNEL_ID, guild_id=SANDBOX_GUILD_ID)
    await channel.send(
        hostile(discord_emulator.world), allowed_mentions=discord.AllowedMentions.all()
    )
    [slip] = discord_emulator.messages(GENERAL_CHANNEL_ID)
    assert slip.pings.everyone
    assert {MODERATOR_ROLE_ID, ADMIN_ROLE_ID, BOT_ROLE_ID} <= slip.pings.roles
    assert {MEMBER_USER_ID, ADMIN_USER_ID} <= slip.pings.users
    assert could_ping(discord_emulator.world, slip) == slip.pings


async def test_alerts_ping_only_the_subscriptions_role(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    """An alert whose every field mentions everyone pings the subscription's mention role and
    nobody else; in a channel without a mention role it pings nobody."""
    world = discord_emulator.world
    plain = add_channel(discord_emulator, "quiet")
    await services.subscribe(bot.store, SCOPE, ALERTS_CHANNEL_ID, mention_role_id=MODERATOR_ROLE_ID)
    await services.subscribe(bot.store, SCOPE, plain)
    await services.add_event(bot.store, SCOPE, hostile_event(world))
    await settled(bot.store)
    [alert] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert alert.content.startswith(f"<@&{MODERATOR_ROLE_ID}> ")
    assert_pings(world, alert, ROLE_ONLY)
    [quiet] = discord_emulator.messages(plain)
    assert_pings(world, quiet, NOBODY)


async def test_corrections_ping_nobody(discord_emulator: Emulator, bot: LaunchWatch) -> None:
    """Corrections whose old and new values mention everyone (a claim, a source title) edit
    the alert and reply to it without pinging anyone, the mention role included."""
    world = discord_emulator.world
    await services.subscribe(bot.store, SCOPE, ALERTS_CHANNEL_ID, mention_role_id=MODERATOR_ROLE_ID)
    event = await services.add_event(bot.store, SCOPE, hostile_event(world))
    await settled(bot.store)
    await services.edit_event(bot.store, SCOPE, event.id, "claimed", "Now: " + hostile(world, 290))
    await settled(bot.store)
    await services.add_source(
        bot.store, SCOPE, event.id, {"url": "https://example.org/c", "title": hostile(world, 300)}
    )
    await settled(bot.store)
    original, *notices = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert original.edits == 2 and len(notices) == 2
    assert original.pings == ROLE_ONLY  # from when it was posted; edits ping nobody anew
    assert could_ping(world, original) == NOBODY  # the edits let nobody through
    for notice in notices:
        assert notice.content.startswith("**Correction**")
        assert "@\u200beveryone" in notice.content  # the moderators' text is there, as text
        assert_pings(world, notice, NOBODY)


async def test_retractions_ping_nobody(discord_emulator: Emulator, bot: LaunchWatch) -> None:
    """A retraction whose reason mentions everyone replies to the alert pinging nobody."""
    world = discord_emulator.world
    await services.subscribe(bot.store, SCOPE, ALERTS_CHANNEL_ID, mention_role_id=MODERATOR_ROLE_ID)
    event = await services.add_event(bot.store, SCOPE, hostile_event(world))
    await settled(bot.store)
    await services.retract_event(bot.store, SCOPE, event.id, "Wrong. " + hostile(world, 490))
    await settled(bot.store)
    original, notice = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert original.embeds[0]["title"].startswith("[RETRACTED]")
    assert could_ping(world, original) == NOBODY
    assert notice.content.startswith("**Retracted:**") and "@\u200bhere" in notice.content
    assert_pings(world, notice, NOBODY)


async def test_the_log_channel_is_told_without_pinging(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    """When a subscribed channel refuses the bot, the log channel's notice pings nobody."""
    await services.update_settings(bot.store, SANDBOX_GUILD_ID, log_channel_id=GENERAL_CHANNEL_ID)
    await services.subscribe(bot.store, SCOPE, ALERTS_CHANNEL_ID, mention_role_id=MODERATOR_ROLE_ID)
    discord_emulator.break_channel(ALERTS_CHANNEL_ID, 50013)
    await services.add_event(bot.store, SCOPE, hostile_event(discord_emulator.world))
    await until(lambda: len(discord_emulator.messages(GENERAL_CHANNEL_ID)) == 1)
    [told] = discord_emulator.messages(GENERAL_CHANNEL_ID)
    assert f"<#{ALERTS_CHANNEL_ID}>" in told.content
    assert_pings(discord_emulator.world, told, NOBODY)
