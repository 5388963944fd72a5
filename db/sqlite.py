"""SQLite backend over aiosqlite: WAL mode, foreign keys on, one writer at a time.

Writes go through one connection behind an asyncio lock (SQLite has one writer anyway);
reads use a second connection, which WAL lets run beside a write.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from db.queries import Queries
from db.store import Row, Store, migrations, sqlite_path


class SQLiteConn:
    """`Conn` over an aiosqlite connection."""

    dialect = "sqlite"

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = await self.db.execute(sql, tuple(params))
        return cur.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(sql, [tuple(r) for r in rows])

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT; the id is the `RETURNING id` row (right for an upsert that updated)."""
        cur = await self.db.execute(sql, tuple(params))
        row = await cur.fetchone()  # also finishes the statement, so COMMIT can follow at once
        await cur.close()
        if row is not None:
            return int(row[0])
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def insert_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """One executemany; under BEGIN IMMEDIATE (one writer) an AUTOINCREMENT table hands
        out consecutive ids, so they end at last_insert_rowid()."""
        if not rows:
            return []
        await self.db.executemany(sql, [tuple(r) for r in rows])
        cur = await self.db.execute("SELECT last_insert_rowid()")
        last = (await cur.fetchone())[0]  # type: ignore[index]
        await cur.close()
        return list(range(last - len(rows) + 1, last + 1))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = await self.db.execute(sql, tuple(params))
        rows = await cur.fetchall()
        return [dict(r) for r in rows]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cur = await self.db.execute(sql, tuple(params))
        row = await cur.fetchone()
        return dict(row) if row is not None else None

    def for_update(self, select: str) -> str:
        """`select` as it is: every transaction here began IMMEDIATE, holding the file's
        one write lock (against other processes too) until it ends, so nothing else can
        change a row between a transaction's read and its write."""
        return select

    async def lock(self, names: Sequence[str]) -> None:
        """Nothing to take: the write lock this transaction holds already covers them."""
        return None


async def _connect(path: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA busy_timeout = 10000")
    await db.execute("PRAGMA synchronous = NORMAL")
    return db


class SQLiteStore(Store):
    backend = "sqlite"

    def __init__(
        self, url: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.url = url
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self.on_commit: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        try:
            mode = await (await writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            if path != ":memory:" and mode is not None and str(mode[0]).lower() != "wal":
                raise RuntimeError(f"could not put {path} in WAL mode")
            reader = writer if path == ":memory:" else await _connect(path)
        except BaseException:
            await writer.close()  # else aiosqlite's thread keeps the process alive
            raise
        return cls(url, writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        async with self._lock:
            await self._control("BEGIN IMMEDIATE")
            q = Queries(SQLiteConn(self._writer))
            try:
                yield q
                await self._control("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    await self._control("ROLLBACK")
                raise
        if q.wrote_deliveries:
            for callback in list(self.on_commit):
                callback()

    async def _control(self, sql: str) -> None:
        """BEGIN, COMMIT or ROLLBACK, waited for even if the caller is cancelled: the
        statement runs on aiosqlite's thread regardless, and the lock must not be let go
        while it is still pending (the next BEGIN would find a transaction open)."""
        task = asyncio.ensure_future(self._writer.execute(sql))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Queries]:
        yield Queries(SQLiteConn(self._reader))

    async def migrate(self) -> list[int]:
        async with self._lock:
            db = self._writer
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            cur = await db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            row = await cur.fetchone()
            current = int(row[0]) if row else 0
            applied = []
            for version, name, sql in migrations("sqlite"):
                if version <= current:
                    continue
                await db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(sql):
                        await db.execute(statement)
                    await db.execute(
                        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, datetime.now(UTC).isoformat()),
                    )
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
                applied.append(version)
            return applied

    async def close(self) -> None:
        if self._reader is not self._writer:
            await self._reader.close()
        await self._writer.close()


def _statements(sql: str) -> list[str]:
    """Split a migration into statements: at each `;` that ends one, as SQLite itself
    tells (a trigger's body holds semicolons of its own)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements, pending = [], ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip()[:-1].strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip().rstrip(";"))
    return statements
