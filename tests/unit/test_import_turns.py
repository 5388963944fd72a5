"""An `--alert` import takes turns with the bot's writers instead of holding SQLite's lock.

Another process's write (a moderator's `/event add` in the bot) must get in while a long
import runs, not wait for its end (and fail at the bot's busy timeout): the import commits
in transactions of about half a second and steps aside between them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import services
from bot.services import Scope, TimelineFilter
from bot.transfer import export_data, import_file
from db import open_store

SOURCE = Scope(1500000000000000001, 1)
GUILD = Scope(1500000000000000002, 2)
EVENTS = 600
CHANNELS = 100


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
        during = 0
        while not importing.done():
            fields = {"date": "2024-05-01", "category": "icbm", "summary": f"Live {during}."}
            await services.add_event(bot, GUILD, fields, alert=False)
            during += not importing.done()
        report = await importing
        assert report.imported == EVENTS
        assert during >= 1, "the import held the store until its end"
        async with bot.read() as q:
            assert await q.count_deliveries("pending") == EVENTS * CHANNELS
        live = await services.list_events(bot, GUILD, TimelineFilter(category="icbm"))
        assert len(live) >= during
    finally:
        await cli.close()
        await bot.close()
