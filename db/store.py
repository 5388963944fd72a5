"""The store interface: a backend gives connections; the queries hold the SQL once.

Services see only `Store.transaction()` and `Store.read()`, each yielding a `Queries`
(its aggregates: `q.events`, `q.deliveries`, ...) bound to a connection. A backend
(SQLite, PostgreSQL) implements `Conn` for its driver: the portable `?` placeholders in
its own form, and its own SQL where the dialects differ.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from importlib import resources
from typing import Any, Protocol

from db.queries import Queries

Row = dict[str, Any]


class StoreError(Exception):
    """The store cannot be opened, reached or migrated: a configuration problem, not a bug.

    `problem` names what is wrong (the CLI's one-line message picks the fix by it, from
    templates/cli/messages.j2); `subject` is the thing at fault (a path, `host:port`, a
    database, schema or migration name); `detail` is the driver's own words. Raised only
    after every connection and thread opened so far is closed, so a process that lets it
    end `main` exits instead of hanging on aiosqlite's worker thread.
    """

    PROBLEMS = (
        "not_sqlite",  # the file is not a SQLite database, or is damaged
        "is_directory",  # the path names a folder
        "cannot_create",  # the file or its folder cannot be created or written
        "newer_schema",  # the store was migrated by a newer LaunchWatch
        "migration_failed",  # a migration did not apply (e.g. a table in the way)
        "unreachable",  # no server answers at host:port
        "no_database",  # the server has no such database
        "no_schema",  # ?search_path= names a schema that does not exist
        "refused",  # the server refused the user or password
        "no_driver",  # asyncpg is not installed
        "unsupported",  # the URL names no backend
        "other",
    )

    def __init__(
        self, problem: str, url: str, detail: str = "", *, subject: str = "", known: int = 0
    ) -> None:
        assert problem in self.PROBLEMS, problem
        super().__init__(f"{problem}: {subject or url}: {detail}" if detail else problem)
        self.problem = problem
        self.url = url
        self.detail = " ".join(detail.split())  # one line, whatever the driver said
        self.subject = subject
        self.known = known  # newer_schema: the newest version this LaunchWatch knows


class Conn(Protocol):
    """What the queries need of a driver connection. SQL uses `?` placeholders; values
    come typed as the columns hold them (the row dataclasses see to it), so no driver
    converts them. Where the dialects differ (locking, full-text search, bulk inserts),
    each backend answers the one method below in its own SQL."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[int]:
        """Insert rows of these columns into `table` and give their ids, in order."""
        ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def for_update(self, select: str) -> str:
        """`select` made to lock the rows it reads until the transaction ends, so a
        read-then-write (an event's revision number) cannot interleave with another."""
        ...

    def skip_locked(self, select: str, alias: str) -> str:
        """`select` made to lock the rows of `alias` it picks, passing over rows another
        transaction holds: two dispatchers claiming at once never take the same row."""
        ...

    async def lock(self, names: Sequence[str]) -> None:
        """Hold a lock on each name until the transaction ends: for rows that do not
        exist yet (an external id about to be checked, then inserted)."""
        ...

    async def search_events(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[int]:
        """The ids of the guilds' events whose text holds every word as a token prefix,
        newest first (`db/search.py` says what a word is; migration 004 builds the index)."""
        ...

    async def restart_ids(self, table: str) -> None:
        """After rows were written with their ids given (`db copy`): the next id the store
        hands out comes after the largest."""
        ...


class Store(ABC):
    """A database holding LaunchWatch's data model."""

    backend: str
    url: str
    #: Called after each committed transaction that wrote deliveries (wakes the dispatcher).
    on_commit: list[Callable[[], None]]

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Queries]:
        """A unit of work: commits on success, rolls back on any exception."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Queries]:
        """A read-only view for queries that change nothing."""

    @abstractmethod
    async def migrate(self) -> list[int]:
        """Apply pending numbered migrations; return the versions applied."""

    @abstractmethod
    async def close(self) -> None: ...

    async def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` when another process commits deliveries. A no-op here: SQLite
        has no such signal, so the dispatcher's sweep finds them; PostgreSQL overrides it."""
        return None

    async def schema_version(self) -> int:
        async with self.read() as q:
            row = await q.conn.fetchone("SELECT MAX(version) AS v FROM schema_version")
        return int(row["v"] or 0) if row else 0


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """The numbered `.sql` files for a dialect, as (version, name, sql), in order."""
    folder = resources.files("db").joinpath("migrations", dialect)
    found = []
    for entry in folder.iterdir():
        m = re.match(r"^(\d+)_.*\.sql$", entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def newest_known(dialect: str) -> int:
    """The newest schema version this LaunchWatch has a migration for."""
    return max((version for version, _, _ in migrations(dialect)), default=0)


def refuse_newer(url: str, dialect: str, current: int) -> None:
    """A store migrated by a newer LaunchWatch is refused: this code does not know its
    tables, and writing to them could break what the newer one relies on."""
    known = newest_known(dialect)
    if current > known:
        raise StoreError("newer_schema", url, subject=str(current), known=known)


async def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a `[database] url` names, applying migrations unless told not to.

    Every way this can fail raises `StoreError`, with the store closed again."""
    store: Store
    if url.startswith("sqlite:///"):
        from db.sqlite import SQLiteStore

        store = await SQLiteStore.open(url)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from db.postgres import PostgresStore  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise StoreError("no_driver", url) from None
        store = await PostgresStore.open(url)
    else:
        raise StoreError("unsupported", url)
    if migrate:
        try:
            await store.migrate()
        except BaseException:
            await store.close()  # else its connections (and aiosqlite's thread) live on
            raise
    return store


def sqlite_path(url: str) -> str:
    """`sqlite:///rel.db` -> `rel.db`; `sqlite:////abs/x.db` -> `/abs/x.db`; `:memory:` kept."""
    return url[len("sqlite:///") :]
