"""The store interface: a backend gives connections; `Queries` holds the SQL once.

Services see only `Store.transaction()` and `Store.read()`, each yielding a `Queries`
bound to a connection. A backend (SQLite now, PostgreSQL later) implements `Conn`
for its driver and translates the portable `?` placeholders to its own.
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


class Conn(Protocol):
    """What `Queries` needs of a driver connection. SQL uses `?` placeholders."""

    dialect: str  # "sqlite" or "postgres": for the few statements that differ

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def insert_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Insert rows (the SQL has no RETURNING) and give their ids, in order."""
        ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def for_update(self, select: str) -> str:
        """`select` made to lock the rows it reads until the transaction ends, so a
        read-then-write (an event's revision number) cannot interleave with another."""
        ...

    async def lock(self, names: Sequence[str]) -> None:
        """Hold a lock on each name until the transaction ends: for rows that do not
        exist yet (an external id about to be checked, then inserted)."""
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


async def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a `[database] url` names, applying migrations unless told not to."""
    store: Store
    if url.startswith("sqlite:///"):
        from db.sqlite import SQLiteStore

        store = await SQLiteStore.open(url)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from db.postgres import PostgresStore  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise RuntimeError(
                "the PostgreSQL backend needs asyncpg: pip install 'launchwatch[postgres]'"
            ) from exc
        store = await PostgresStore.open(url)
    else:
        raise ValueError(
            f"unsupported database url {url!r}; use sqlite:///file.db or postgresql://"
        )
    if migrate:
        await store.migrate()
    return store


def sqlite_path(url: str) -> str:
    """`sqlite:///rel.db` -> `rel.db`; `sqlite:////abs/x.db` -> `/abs/x.db`; `:memory:` kept."""
    return url[len("sqlite:///") :]
