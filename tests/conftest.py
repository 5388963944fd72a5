"""Shared fixtures: a real store on each backend (a SQLite file, a PostgreSQL schema of
its own), and a scope to act in.

The `store` fixture runs every test that uses it on SQLite and on PostgreSQL. PostgreSQL
tests use `LAUNCHWATCH_TEST_POSTGRES_URL` (default: the local server's `test` database);
without a server they skip, except under `CI=true`, where a missing server fails them.
A failed connection is not the final word: see `PostgresProbe`.

Hypothesis runs without its per-example deadline: wall-clock limits make tests flaky on a
busy machine, and timings belong in bench/.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from hypothesis import settings

from bot.services import Scope
from db import Queries, Store, open_store

GUILD = 1200000000000000001
OTHER_GUILD = 1200000000000000999
PUBLISHER = 1200000000000000500
MODERATOR = 1300000000000000002

POSTGRES_URL = os.environ.get(
    "LAUNCHWATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
NO_POSTGRES = (
    "no PostgreSQL server at {url} ({why}); start one with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
    "or set LAUNCHWATCH_TEST_POSTGRES_URL"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

#: Tests (in files owned elsewhere) of SQLite itself: WAL, PRAGMAs, sqlite3's exception
#: types, its query planner. They run on SQLite only; tests/unit/test_postgres.py holds
#: their PostgreSQL counterparts.
SQLITE_ONLY = {
    "test_store.py::TestConnection::test_database_is_in_wal_mode",
    "test_store.py::TestConnection::test_foreign_keys_are_on_for_reads_and_writes",
    "test_store.py::TestConnection::test_a_revision_of_a_missing_event_is_refused",
    "test_store.py::TestConnection::test_store_refuses_values_outside_the_model",
    "test_store.py::TestConnection::test_external_id_is_unique_per_guild",
    "test_store.py::TestIndexes::test_index_exists",
    "test_store.py::TestIndexes::test_timeline_query_uses_its_index",
    "test_store.py::TestRows::test_a_nonce_longer_than_discord_allows_is_refused",
}


async def insert_row(q: Queries, table: str, values: dict[str, Any]) -> int:
    """A row of `table` written as given (lists as JSON), the schema's defaults for the
    rest; its id. For tests of the schema itself, below the row dataclasses."""
    marks = ", ".join("?" * len(values))
    return await q.conn.insert(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks}) RETURNING id",
        [json.dumps(v) if isinstance(v, list) else v for v in values.values()],
    )


settings.register_profile("launchwatch", deadline=None)
settings.load_profile("launchwatch")


@dataclass
class PostgresProbe:
    """Whether the PostgreSQL test server answers, asked again until it has answered once.

    A failure is retried with a short backoff (a server restarting, its connection slots
    briefly full), and is never remembered as the answer: the next test asks again, so a
    hiccup skips at most the test it hit. Once a full round of attempts has failed the
    server is taken as absent and each later test makes one attempt (a refused connection
    costs a millisecond), so a run without a server still skips quickly."""

    connect: Callable[[], Awaitable[None]]
    errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
    attempts: int = 3
    backoff: float = 0.2  # seconds before the second attempt, doubled before each further one
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    reachable: bool = False
    absent: str | None = None  # why the last full round of attempts failed

    async def problem(self) -> str | None:
        """None when the server answers; otherwise why it did not."""
        if self.reachable:
            return None
        why = ""
        for attempt in range(1 if self.absent else self.attempts):
            if attempt:
                await self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                await self.connect()
            except self.errors as exc:
                why = f"{type(exc).__name__}: {exc}"
                continue
            self.reachable, self.absent = True, None
            return None
        self.absent = why
        return why


async def _connect_to_test_server() -> None:
    import asyncpg

    conn = await asyncpg.connect(postgres_test_url(), timeout=5)
    await conn.close()


_probe: PostgresProbe | None = None  # made on first use, so asyncpg stays optional


def _not_here(why: str) -> NoReturn:
    """Skip the test; under CI=true, where the server must be there, fail it instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why)
    pytest.skip(why)


def postgres_test_url(**params: str) -> str:
    """The test server's URL with extra connection parameters (e.g. `search_path`).

    Commits do not wait for the disk (`synchronous_commit=off`): what a test can see is
    unchanged, and creating a schema per test gets four times faster."""
    parts = urlsplit(POSTGRES_URL)
    query = {"synchronous_commit": "off", **dict(parse_qsl(parts.query)), **params}
    return urlunsplit(parts._replace(query=urlencode(query)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against the PostgreSQL test server")
    config.addinivalue_line("markers", "sqlite_only: tests SQLite itself; not run on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A sqlite_only test has no PostgreSQL run: that pairing is not collected at all."""
    keep, dropped = [], []
    for item in items:
        if item.nodeid.split("/")[-1].split("[")[0] in SQLITE_ONLY:
            item.add_marker(pytest.mark.sqlite_only)
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("store") == "postgres"
        (dropped if item.get_closest_marker("sqlite_only") and on_postgres else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


async def postgres_url() -> str:
    """The test server's URL; skips the test (fails it under CI=true) when none answers."""
    global _probe
    try:
        import asyncpg
    except ImportError:
        _not_here("asyncpg is not installed: pip install -e '.[test]'")
    if _probe is None:
        errors = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
        _probe = PostgresProbe(_connect_to_test_server, errors)
    why = await _probe.problem()
    if why is not None:
        _not_here(NO_POSTGRES.format(url=POSTGRES_URL, why=why))
    return postgres_test_url()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A new, empty schema on the test server (`lw_test_<random>`), dropped afterwards."""
    import asyncpg

    url = await postgres_url()
    schema = f"lw_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        yield schema
    finally:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A freshly migrated store: a real SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        s = await open_store(f"sqlite:///{tmp_path / 'test.db'}")
        try:
            yield s
        finally:
            await s.close()
        return
    from db.postgres import PostgresStore

    async with postgres_schema() as schema:
        pg = await PostgresStore.open(postgres_test_url(), schema=schema)
        try:
            await pg.migrate()
            yield pg
        finally:
            await pg.close()


@pytest.fixture
def scope() -> Scope:
    return Scope(GUILD, MODERATOR, publishers=(PUBLISHER,))
