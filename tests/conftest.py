"""Shared fixtures: a real SQLite store in a temporary directory, and a scope to act in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services import Scope
from db import Store, open_store

GUILD = 1200000000000000001
OTHER_GUILD = 1200000000000000999
PUBLISHER = 1200000000000000500
MODERATOR = 1300000000000000002


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A freshly migrated store in a real SQLite file."""
    s = await open_store(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def scope() -> Scope:
    return Scope(GUILD, MODERATOR, publishers=(PUBLISHER,))
