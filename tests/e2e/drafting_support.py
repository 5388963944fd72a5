"""Fixtures for the feed and review tests: the sandbox world with a #review channel, a
feed server on loopback the bot may reach, and the bot configured for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.client import LaunchWatch
from bot.config import Config
from bot.emulator.api import Emulator, MessageRecord
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import REVIEW_CHANNEL_ID, add_review_channel, sandbox_world
from bot.services import Scope
from bot.services.drafts import list_drafts
from db import Store
from tests.e2e.support import checked_emulator, until
from tests.unit.feeds_support import FeedServer


@asynccontextmanager
async def review_emulator() -> AsyncIterator[Emulator]:
    """As tests/e2e/conftest.py's `discord_emulator`, in a world with #review: restored and
    checked at teardown (no body Discord would refuse)."""
    world = sandbox_world()
    add_review_channel(world)
    async with checked_emulator(world) as emulator:
        yield emulator


def feeds_config(db: Path, server: FeedServer, **drafting: Any) -> Config:
    """The sandbox configuration, allowed to fetch from `server`, with a short deadline."""
    config = sandbox_config(db)
    config = config.replace("feeds", "allow_hosts", [server.endpoint])
    config = config.replace("feeds", "timeout", 2.0)
    for key, value in drafting.items():
        config = config.replace("drafting", key, value)
    return config


@asynccontextmanager
async def feeds_bot(
    emulator: Emulator, db: Path, server: FeedServer, **drafting: Any
) -> AsyncIterator[LaunchWatch]:
    async with running_bot(feeds_config(db, server, **drafting), emulator) as bot:
        yield bot


def cards(emulator: Emulator) -> list[MessageRecord]:
    """The messages in #review, oldest first."""
    return [m for m in emulator.messages(REVIEW_CHANNEL_ID) if not m.ephemeral]


async def wait_cards(emulator: Emulator, n: int, timeout: float = 20.0) -> list[MessageRecord]:
    await until(lambda: len(cards(emulator)) >= n, timeout)
    return cards(emulator)


def text_of(message: MessageRecord) -> str:
    """A card as a reader sees it: title, description, fields, footer."""
    parts: list[str] = [message.content or ""]
    for e in message.embeds:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
        parts.append(e.get("footer", {}).get("text", ""))
    return "\n".join(parts)


def button_ids(message: MessageRecord) -> list[str]:
    return [
        c["custom_id"]
        for row in message.components
        for c in row.get("components", [])
        if c.get("custom_id")
    ]


async def wait_drafts(store: Store, guild_id: int, n: int, timeout: float = 20.0) -> None:
    """Until the guild has `n` pending drafts (the poll runs as a scheduled job)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(await list_drafts(store, Scope(guild_id))) < n:
        assert asyncio.get_running_loop().time() < deadline, f"fewer than {n} drafts in time"
        await asyncio.sleep(0.01)
