"""The longest hold of SQLite's write lock by an `--alert` import, as another writer sees it.

    .venv/bin/python bench/import_lock.py [--rows 5000] [--subscriptions 1000]

An import that alerts writes one delivery per matching subscription in each event's own
transaction (the outbox stays atomic), so 5,000 events against 1,000 subscriptions are five
million rows. While it runs, a probe in another thread (its own connection, as the bot's
writer would be) takes the write lock every 20 ms and releases it at once; the time each
attempt waits is how long a moderator's `/event add` would wait behind the import. The
floor is the import's own target: a transaction holds the lock for at most about 0.5 s.

The import's own transactions are timed too, from BEGIN to COMMIT (the time the body runs
inside the lock; the COMMIT's own disk write comes on top).

Last line (targets: longest_hold_ms near the floor; probe_wait_max_ms far under the bot's
10 s busy timeout):

    import_lock rows=R subscriptions=S elapsed_s=E transactions=T longest_hold_ms=H probe_wait_p99_ms=P probe_wait_max_ms=M floor_ms=500
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot import services
from bot.services import Scope
from bot.transfer import export_data, import_file
from db import Queries, Store, open_store

SOURCE = Scope(1300000000000000001, 1)
TARGET = Scope(1300000000000000002, 1)
FLOOR_MS = 500.0


class Probe(threading.Thread):
    """Take and release the write lock every few milliseconds; record each wait."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.waits: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.db, isolation_level=None, timeout=120)
        try:
            while not self.stopping.is_set():
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                self.waits.append((time.perf_counter() - started) * 1000)
                self.stopping.wait(0.02)
        finally:
            conn.close()


def time_transactions(store: Store) -> list[float]:
    """Record how long each write transaction of `store` holds the lock (BEGIN to COMMIT)."""
    holds: list[float] = []
    opened = store.transaction

    @asynccontextmanager
    async def timed() -> AsyncIterator[Queries]:
        async with opened() as q:
            started = time.perf_counter()
            try:
                yield q
            finally:
                holds.append((time.perf_counter() - started) * 1000)

    store.transaction = timed  # type: ignore[method-assign]
    return holds


async def export_file(folder: Path, rows: int) -> Path:
    """A CSV of `rows` events, as another server's export would be."""
    store = await open_store(f"sqlite:///{folder / 'source.db'}")
    try:
        fields = [
            {"date": f"{1990 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}", "category": "srbm",
             "summary": f"Launch number {i}.", "launch_site": "Sinpo"}
            for i in range(rows)
        ]  # fmt: skip
        for start in range(0, rows, 1000):
            await services.add_events(store, SOURCE, fields[start : start + 1000], alert=False)
        path = folder / "events.csv"
        path.write_text(await export_data(store, SOURCE, "csv"), encoding="utf-8")
        return path
    finally:
        await store.close()


async def main(rows: int, subscriptions: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = await export_file(folder, rows)
        db = folder / "target.db"
        store = await open_store(f"sqlite:///{db}")
        try:
            for channel in range(subscriptions):
                await services.subscribe(store, TARGET, 1400000000000000000 + channel)
            holds = time_transactions(store)
            probe = Probe(db)
            probe.start()
            started = time.perf_counter()
            report = await import_file(store, TARGET, csv_path, "csv", alert=True)
            elapsed = time.perf_counter() - started
            probe.stopping.set()
            probe.join()
        finally:
            await store.close()
    waits = sorted(probe.waits)
    holds.sort()
    p99 = waits[int(len(waits) * 0.99) - 1] if waits else 0.0
    print(report.summary(), f"probe attempts={len(waits)} median_ms={statistics.median(waits):.1f}")
    print(
        f"import_lock rows={rows} subscriptions={subscriptions} elapsed_s={elapsed:.1f} "
        f"transactions={len(holds)} longest_hold_ms={holds[-1]:.0f} "
        f"probe_wait_p99_ms={p99:.0f} probe_wait_max_ms={waits[-1]:.0f} floor_ms={FLOOR_MS:.0f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--subscriptions", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.subscriptions))
