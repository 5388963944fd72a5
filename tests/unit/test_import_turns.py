"""An `--alert` import takes turns with the bot's writers instead of holding SQLite's lock.

Another process's write (a moderator's `/event add` in the bot) must get in while a long
import runs, not wait for its end (and fail at the bot's busy timeout): the import commits
in transactions of about half a second and steps aside between them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot import services
from bot.services import Scope, TimelineFilter
from bot.transfer import export_data, import_file
from db import open_store

SOURCE = Scope(1500000000000000001, 1)
GUILD = Scope(1500000000000000002, 2)
EVENTS = 600
CHANNELS = 100
IMPORTED = TimelineFilter(category="srbm")


async def exported(folder: Path) -> Path:
    """A CSV export of another server's `EVENTS` launches."""
    store = await open_store(f"sqlite:///{folder / 'source.db'}")
    try:
        rows = [
            {"date": f"2000-01-{1 + i % 28:02d}", "category": "srbm", "summary": f"Launch {i}."}
            for i in range(EVENTS)
        ]
        await services.add_events(store, SOURCE, rows, alert=False)
        path = folder / "events.csv"
        path.write_text(await export_data(store, SOURCE, "csv"), encoding="utf-8")
        return path
    finally:
        await store.close()


async def test_a_moderators_write_gets_in_while_an_alerting_import_runs(tmp_path: Path) -> None:
    """While the CLI imports with --alert into the bot's store, the bot's own writes commit
    during the import, and the import still adds every event with its alerts."""
    csv_path = await exported(tmp_path)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    cli, bot = await open_store(url), await open_store(url)  # two processes' connections
    try:
        for n in range(CHANNELS):
            await services.subscribe(bot, GUILD, 1600000000000000000 + n)
        importing = asyncio.create_task(import_file(cli, GUILD, csv_path, "csv", alert=True))
        seen: list[int] = []  # imported events visible right after each of the bot's writes
        while not importing.done():
            fields = {"date": "2024-05-01", "category": "icbm", "summary": f"Live {len(seen)}."}
            await services.add_event(bot, GUILD, fields, alert=False)
            seen.append(len(await services.list_events(bot, GUILD, IMPORTED)))
        report = await importing
        assert report.imported == EVENTS
        between = [n for n in seen if 0 < n < EVENTS]
        assert between, f"the bot's writes got in only before or after the import: {seen}"
        async with bot.read() as q:
            assert await q.deliveries.count("pending") == EVENTS * CHANNELS
        live = await services.list_events(bot, GUILD, TimelineFilter(category="icbm"))
        assert len(live) == len(seen)
    finally:
        await cli.close()
        await bot.close()


async def test_the_bot_writes_while_the_cli_updates_row_after_row(tmp_path: Path) -> None:
    """`db import --alert` in another process re-importing a file whose every row changed (one
    transaction per row): the bot's writes get in between the rows, not after the last."""
    csv_path = await exported(tmp_path)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    bot = await open_store(url)
    try:
        await import_file(bot, GUILD, csv_path, "csv")
        changed = tmp_path / "changed.csv"
        text = csv_path.read_text(encoding="utf-8")
        changed.write_text(text.replace("Launch ", "Revised launch "), encoding="utf-8")
        env = {**os.environ, "LAUNCHWATCH_DATABASE_URL": url}
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "db", "import", str(changed), "--format", "csv",
            "--alert", "--guild", str(GUILD.guild_id), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        waiting = asyncio.create_task(cli.communicate())
        seen: list[int] = []  # revised events visible right after each of the bot's writes
        while not waiting.done():
            fields = {"date": "2024-05-01", "category": "icbm", "summary": f"Live {len(seen)}."}
            await services.add_event(bot, GUILD, fields, alert=False)
            revised = await services.search_events(bot, GUILD, "revised", limit=EVENTS)
            seen.append(len(revised))
        out, err = await waiting
        assert cli.returncode == 0, err.decode()
        assert f"updated {EVENTS}," in out.decode() + err.decode()
        between = [n for n in seen if 0 < n < EVENTS]
        assert between, f"the bot's writes got in only before or after the import: {seen}"
    finally:
        await bot.close()
