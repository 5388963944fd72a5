"""SQLite backend over aiosqlite: WAL mode, foreign keys on, one writer at a time.

Writes go through one connection behind an asyncio lock (SQLite has one writer anyway);
reads use a second connection, which WAL lets run beside a write. Its own SQL: the FTS5
search of migration 004; no row locks are needed, every transaction holding the file's
one write lock.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from db.queries import Queries
from db.search import calendar_token
from db.store import Row, Store, StoreError, migrations, refuse_newer, sqlite_path

#: The event_search rowid is (occurred_on as YYYYMMDD) * 2^36 + event id (migration 004).
SEARCH_ID_SPAN = 1 << 36


def fts_match(guild_ids: Sequence[int], words: Sequence[str]) -> str:
    """An FTS5 query: one of the guilds, and every word (a token prefix, or a cal token).

    A word is an FTS5 string, so the table's own tokenizer splits it as it split the
    text (`hwasong-18` is the phrase hwasong 18) and nothing in it is query syntax."""
    parts = ["guild : (" + " OR ".join(f"g{int(g)}" for g in guild_ids) + ")"]
    for word in words:
        token = calendar_token(word)
        if token is not None:
            parts.append(f"cal : {token}")
        else:
            parts.append('{day body} : "' + word.replace('"', '""') + '"*')
    return " AND ".join(parts)


class SQLiteConn:
    """`Conn` over an aiosqlite connection."""

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

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[int]:
        """One executemany; under BEGIN IMMEDIATE (one writer) an AUTOINCREMENT table hands
        out consecutive ids, so they end at last_insert_rowid()."""
        if not rows:
            return []
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
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

    def skip_locked(self, select: str, alias: str) -> str:
        """`select` as it is: no other transaction can claim while this one holds the
        write lock."""
        return select

    async def lock(self, names: Sequence[str]) -> None:
        """Nothing to take: the write lock this transaction holds already covers them."""
        return None

    async def search_events(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[int]:
        """The FTS5 table `event_search`: its rowid orders matches newest first, so a
        search stops after `limit`."""
        rows = await self.fetchall(
            "SELECT e.id FROM event_search s CROSS JOIN event e ON e.id = s.rowid % "
            f"{SEARCH_ID_SPAN} WHERE event_search MATCH ? ORDER BY s.rowid DESC LIMIT ?",
            [fts_match(guild_ids, words), limit],
        )
        return [r["id"] for r in rows]

    async def restart_ids(self, table: str) -> None:
        """Nothing to do: an AUTOINCREMENT table goes on after the largest id written."""
        return None


async def _connect(path: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await db.close()  # else aiosqlite's (non-daemon) thread keeps the process alive
        raise
    return db


def _make_room(url: str, path: str) -> None:
    """The file's folder, created if need be; a folder where the file should be is refused
    (SQLite would only say "unable to open database file")."""
    if path == ":memory:":
        return
    if Path(path).is_dir():
        raise StoreError("is_directory", url, subject=path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)


def _store_error(exc: sqlite3.Error | OSError, url: str, path: str) -> StoreError:
    """What a failed open means for the person who configured `url`."""
    if isinstance(exc, OSError):
        folder = Path(path).parent
        # mkdir says "File exists" of a file where a folder should be: say what is wrong.
        why = os.strerror(errno.ENOTDIR) if isinstance(exc, FileExistsError) else exc.strerror
        return StoreError("cannot_create", url, why or str(exc), subject=str(folder))
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StoreError("not_sqlite", url, str(exc), subject=path)
    if Path(path).is_dir():
        return StoreError("is_directory", url, str(exc), subject=path)
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_IOERR")):
        return StoreError("cannot_create", url, str(exc), subject=path)
    return StoreError("other", url, str(exc), subject=path)


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
        """Open (creating it if need be) the file `url` names; `StoreError` if it cannot be."""
        path = sqlite_path(url)
        try:
            _make_room(url, path)
            writer = await _connect(path)
        except (sqlite3.Error, OSError) as exc:
            raise _store_error(exc, url, path) from exc
        try:
            mode = await (await writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            if path != ":memory:" and mode is not None and str(mode[0]).lower() != "wal":
                raise StoreError("cannot_create", url, f"journal mode {mode[0]}, not WAL")
            reader = writer if path == ":memory:" else await _connect(path)
        except BaseException as exc:
            await writer.close()  # else aiosqlite's thread keeps the process alive
            if isinstance(exc, sqlite3.Error | OSError):
                raise _store_error(exc, url, path) from exc
            raise
        return cls(url, writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        q = Queries(SQLiteConn(self._writer))
        committing = False
        try:
            async with self._lock:
                try:
                    # BEGIN inside the try: a cancel that lands on it still finds the BEGIN
                    # run (`_control` waits for it), and only the ROLLBACK below undoes it.
                    await self._control("BEGIN IMMEDIATE")
                    yield q
                    committing = True
                    await self._control("COMMIT")
                except BaseException:
                    if self._writer.in_transaction:
                        committing = False
                        await self._control("ROLLBACK")
                    raise
        finally:
            # Also after a cancel that landed on COMMIT: it ran to its end, so the rows are
            # stored and the dispatcher must hear of them.
            if committing and q.wrote_deliveries:
                for callback in list(self.on_commit):
                    callback()

    async def _control(self, sql: str) -> None:
        """BEGIN, COMMIT or ROLLBACK, waited for to its end even if the caller is cancelled
        (once or again): the statement runs on aiosqlite's thread regardless, and the lock
        must not be let go while it is pending (the next BEGIN would find a transaction
        open). The cancel is raised once it has run."""
        task = asyncio.ensure_future(self._writer.execute(sql))
        cancelled = False
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            if not task.cancelled():
                task.exception()  # retrieved: the cancel is what the caller must hear
            raise asyncio.CancelledError
        await task

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Queries]:
        yield Queries(SQLiteConn(self._reader))

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in a transaction of its own; `StoreError` names
        the one that failed (nothing of it is kept) or a store newer than this code."""
        async with self._lock:
            db = self._writer
            try:
                await db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                cur = await db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                row = await cur.fetchone()
            except sqlite3.Error as exc:
                raise self._migration_error(exc, "schema_version") from exc
            current = int(row[0]) if row else 0
            refuse_newer(self.url, "sqlite", current)
            applied = []
            for version, name, sql in migrations("sqlite"):
                if version <= current:
                    continue
                try:
                    await self._control("BEGIN IMMEDIATE")
                    for statement in _statements(sql):
                        await db.execute(statement)
                    await db.execute(
                        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, datetime.now(UTC).isoformat()),
                    )
                    await self._control("COMMIT")
                except BaseException as exc:
                    if db.in_transaction:
                        await self._control("ROLLBACK")
                    if isinstance(exc, sqlite3.Error):
                        raise self._migration_error(exc, name) from exc
                    raise
                applied.append(version)
            return applied

    def _migration_error(self, exc: sqlite3.Error, name: str) -> StoreError:
        path = sqlite_path(self.url)
        if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return StoreError("not_sqlite", self.url, str(exc), subject=path)
        return StoreError("migration_failed", self.url, str(exc), subject=name)

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
