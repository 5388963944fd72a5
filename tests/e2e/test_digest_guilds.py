"""Digests per server, end to end: the bot in two servers plus a publisher's feed posts each
server's digest to its own channel, holding that server's news and the publisher's only.

Time moves as in tests/e2e/test_digests.py (whose helpers these are): travel to before the
due hour, start the bot, move to the hour and wake the scheduler.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import time_machine

from bot import services
from bot.sandbox import ADMIN_USER_ID, ALERTS_CHANNEL_ID, SANDBOX_GUILD_ID, Emulator
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.records import MessageRecord
from bot.sandbox.world import BOT_PERMISSIONS, Channel, Guild, Member, Role
from bot.services import Scope
from db import Store
from tests.e2e.support import settled, until
from tests.e2e.test_digests import SUBSCRIBED, fire_due_jobs, opened

STRANGER = SANDBOX_GUILD_ID + 200
STRANGER_ALERTS = STRANGER + 1
PUBLISHER = SANDBOX_GUILD_ID + 100  # a feed only: its events are in the store, not a server here
DUE = datetime(2024, 2, 15, 8, tzinfo=UTC)
RECORDED = datetime(2024, 2, 14, 20, tzinfo=UTC)


def add_stranger(emulator: Emulator) -> None:
    """A second server the bot is in, with an #alerts channel it may post in."""
    world = emulator.world
    guild = Guild(STRANGER, "Elsewhere", owner_id=ADMIN_USER_ID)
    guild.roles[STRANGER + 2] = Role(STRANGER + 2, "LaunchWatch", BOT_PERMISSIONS, managed=True)
    guild.channels[STRANGER_ALERTS] = Channel(STRANGER_ALERTS, STRANGER, "alerts")
    for user_id, roles in ((world.bot.id, [STRANGER + 2]), (ADMIN_USER_ID, [])):
        user = world.user(user_id)
        assert user is not None
        guild.members[user_id] = Member(user, roles)
    world.add_guild(guild)


async def record(store: Store, guild_id: int, name: str) -> tuple[str, str]:
    """A launch and a reaction to it, recorded in `guild_id` the day before the digest."""
    scope = Scope(guild_id, ADMIN_USER_ID, (PUBLISHER,))
    fields = {"date": "2024-02-14", "category": "srbm", "summary": f"{name} saw a launch."}
    event = await services.add_event(store, scope, fields, now=RECORDED)
    said = {"actor": name, "stance": "condemns", "summary": f"{name} condemned it."}
    await services.add_reaction(store, scope, {**said, "event_id": event.id}, now=RECORDED)
    return f"#{event.id}`", said["summary"]


def digest(emulator: Emulator, guild_id: int, channel_id: int) -> list[MessageRecord]:
    return [
        m
        for m in emulator.messages(channel_id, guild_id)
        if m.embeds
        and m.embeds[0].get("footer", {}).get("text", "").startswith("LaunchWatch digest")
    ]


def only_digest(emulator: Emulator, guild_id: int, channel_id: int) -> str:
    """The channel's one digest, as JSON text."""
    [message] = digest(emulator, guild_id, channel_id)
    return json.dumps(message.embeds, ensure_ascii=False)


async def test_each_server_gets_its_own_digest(discord_emulator: Emulator, tmp_path: Path) -> None:
    """At 08:00 the sandbox's #alerts and the other server's #alerts each get one digest:
    their own launch and reaction and the publisher's, never each other's."""
    add_stranger(discord_emulator)
    db = tmp_path / "digest.db"
    async with opened(db) as store:
        for guild_id, channel_id in (
            (SANDBOX_GUILD_ID, ALERTS_CHANNEL_ID),
            (STRANGER, STRANGER_ALERTS),
        ):
            scope = Scope(guild_id, ADMIN_USER_ID, (PUBLISHER,))
            await services.subscribe(
                store, scope, channel_id, mode="digest", digest_time="08:00", now=SUBSCRIBED
            )
        here = await record(store, SANDBOX_GUILD_ID, "Japan")
        there = await record(store, STRANGER, "Norway")
        feed = await record(store, PUBLISHER, "ROK")
    config = sandbox_config(db).replace("network", "publisher_guilds", [PUBLISHER])
    with time_machine.travel(datetime(2024, 2, 15, 7, tzinfo=UTC), tick=True) as traveller:
        async with running_bot(config, discord_emulator) as bot:
            traveller.move_to(datetime(2024, 2, 15, 8, 0, 1, tzinfo=UTC))
            await fire_due_jobs(bot)
            await until(
                lambda: (
                    bool(digest(discord_emulator, SANDBOX_GUILD_ID, ALERTS_CHANNEL_ID))
                    and bool(digest(discord_emulator, STRANGER, STRANGER_ALERTS))
                )
            )
            await settled(bot.store)
    ours = only_digest(discord_emulator, SANDBOX_GUILD_ID, ALERTS_CHANNEL_ID)
    theirs = only_digest(discord_emulator, STRANGER, STRANGER_ALERTS)
    for text, own, other in ((ours, here, there), (theirs, there, here)):
        assert "2 new events and 2 new reactions" in text
        assert all(part in text for part in (*own, *feed))
        assert not any(part in text for part in other)
