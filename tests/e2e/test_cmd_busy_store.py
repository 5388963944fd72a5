"""Moderator commands while the store is busy: answered within Discord's 3 seconds, not twice.

Another process (an import, the CLI) can hold SQLite's write lock for seconds. A command that
writes defers first, so Discord shows "thinking…" instead of "The application did not
respond", and the answer follows once the write is in. A moderator who retries anyway gets
the first event back, not a second launch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.sandbox import ALERTS_CHANNEL_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID, Emulator
from bot.services import Scope, TimelineFilter
from tests.e2e.support import settled, shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
ADD = {"date": "2024-03-18", "category": "srbm", "summary": "Two SRBMs fired east."}

#: Every moderator command that writes, with valid options (event 1 is the seed's first).
WRITING_COMMANDS: list[tuple[str, dict[str, Any], str]] = [
    ("event add", ADD, "moderator"),
    ("event edit", {"event": "1", "field": "distance_km", "value": "300"}, "moderator"),
    ("event retract", {"event": "1", "reason": "Never happened."}, "moderator"),
    ("event source", {"event": "1", "url": "https://example.org/x"}, "moderator"),
    (
        "reaction add",
        {"actor": "Japan", "stance": "condemns", "summary": "Protested."},
        "moderator",
    ),
    ("reaction remove", {"reaction": "1"}, "moderator"),
    ("alerts subscribe", {"channel": "alerts"}, "moderator"),
    ("settings timezone", {"tz": "Asia/Seoul"}, "admin"),
    ("settings default-actor", {"actor": "DPRK"}, "admin"),
]


@contextmanager
def write_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold the database's write lock from another connection, as a long import does."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize(("command", "options", "user"), WRITING_COMMANDS)
async def test_a_writing_command_answers_in_time_while_another_process_holds_the_store(
    discord_emulator: Emulator,
    seeded: LaunchWatch,
    tmp_path: Path,
    command: str,
    options: dict[str, Any],
    user: str,
) -> None:
    """With the write lock held elsewhere, the command is acknowledged within Discord's deadline
    and its answer follows once the lock is free."""
    with write_lock(tmp_path / "e2e.db"):
        result = await discord_emulator.invoke(command, options, user=user, settle=False)
        assert not result.late, f"/{command} missed Discord's deadline"
        assert result.deferred, f"/{command} did not defer before writing"
    await result.wait_settled(15)
    assert discord_emulator.late_interactions == []
    assert "went wrong" not in shown(result), shown(result)


async def test_a_repeated_add_is_answered_with_the_first_event(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """The same date, category and summary again within ten minutes: no second event, and the
    answer names the first one and links its alert."""
    await services.subscribe(launchwatch.store, MOD, ALERTS_CHANNEL_ID)
    first = await discord_emulator.invoke("event add", ADD, user="moderator")
    await settled(launchwatch.store)
    again = await discord_emulator.invoke("event add", ADD, user="moderator")

    events = await services.list_events(launchwatch.store, MOD, TimelineFilter())
    assert [e.summary for e in events] == [ADD["summary"]]
    [alert] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert f"event #{events[0].id}" in shown(first)
    said = shown(again)
    assert f"already recorded as event #{events[0].id}" in said
    link = f"https://discord.com/channels/{SANDBOX_GUILD_ID}/{ALERTS_CHANNEL_ID}/{alert.id}"
    assert link in said
    assert len(discord_emulator.messages(ALERTS_CHANNEL_ID)) == 1  # nobody alerted twice


async def test_a_different_summary_is_a_different_launch(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Two launches on one day with their own summaries are both recorded."""
    await discord_emulator.invoke("event add", ADD, user="moderator")
    other = {**ADD, "summary": "A third SRBM, an hour later."}
    await discord_emulator.invoke("event add", other, user="moderator")
    events = await services.list_events(launchwatch.store, MOD, TimelineFilter())
    assert sorted(e.summary for e in events) == sorted([ADD["summary"], other["summary"]])
