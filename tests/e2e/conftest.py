"""Fixtures for end-to-end tests that drive a real discord.py client through the emulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from bot.client import LaunchWatch
from bot.emulator.api import Emulator
from bot.pictures import Renderer
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID, sandbox_world
from tests.e2e.support import checked_emulator


@pytest.fixture
async def discord_emulator() -> AsyncIterator[Emulator]:
    """A started emulator over the sandbox world, checked at teardown (`checked_emulator`)."""
    async with checked_emulator(sandbox_world()) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def picture_pool() -> Iterator[ProcessPoolExecutor]:
    """One picture worker process for the whole session: each bot would otherwise start
    its own (a spawn and a second of matplotlib) for every test."""
    from bot.pictures.render import new_pool

    pool = new_pool(1)
    pool.submit(os.getpid).result()  # started and warmed before the first test's bot
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
async def launchwatch(
    discord_emulator: Emulator, tmp_path: Path, picture_pool: ProcessPoolExecutor
) -> AsyncIterator[LaunchWatch]:
    """The real LaunchWatch bot over a fresh SQLite file, connected and synced; its
    pictures drawn in the session's worker process."""
    from bot.sandbox.harness import running_bot, sandbox_config

    config = sandbox_config(tmp_path / "e2e.db")
    renderer = Renderer(executor=picture_pool)
    async with running_bot(config, discord_emulator, renderer=renderer) as bot:
        yield bot


@pytest.fixture
async def seeded(launchwatch: LaunchWatch) -> LaunchWatch:
    """The bot with the seed article's four launches and eight reactions in its store."""
    from bot.seed import seed_example
    from bot.services import Scope

    await seed_example(launchwatch.store, Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID))
    return launchwatch
