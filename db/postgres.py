"""PostgreSQL backend over asyncpg: a pool, read-committed transactions, LISTEN/NOTIFY.

Several bot processes (each owning a range of shards) share one database, so a commit
that queues deliveries also sends `NOTIFY launchwatch_deliveries`: the dispatchers of
the other processes wake at once instead of at their next sweep. The queries' SQL is
shared with SQLite; `PostgresConn` turns its `?` placeholders into `$n`, and answers in
its own SQL where the dialects differ: the tsvector search of migration 004, row locks
(`FOR NO KEY UPDATE`, `SKIP LOCKED`), ids reserved from a sequence for bulk inserts.
Values arrive typed as the columns hold them (the row dataclasses see to it).

Two processes may change one event at once: a change reads the event row locked
(`for_update`), and an external id is checked free and inserted under an advisory lock
on its name (`lock`), as a row not yet inserted cannot be locked.

A store may live in its own schema: `PostgresStore.open(url, schema="lw")`, or a
`?search_path=lw` query in the URL (asyncpg passes unknown URL parameters to the server
as settings). The tests give each test a schema of its own this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from db.queries import Queries
from db.search import calendar_token
from db.store import Row, Store, StoreError, migrations, refuse_newer

log = logging.getLogger(__name__)

#: The channel a commit that queued deliveries notifies; the payload is the schema.
CHANNEL = "launchwatch_deliveries"
#: How many of a guild's newest events a search tests before the GIN index.
SEARCH_RECENT = 2000

# Things a `?` may sit inside without being a placeholder, then the placeholder itself.
_TOKENS = re.compile(
    r"""(?<![\w$])[Ee]'(?:[^'\\]|\\.|'')*'  # E'...' (backslash escapes)
      | '(?:[^']|'')*'                # '...'
      | "(?:[^"]|"")*"                # "identifier"
      | \$(\w*)\$.*?\$\1\$            # $tag$ ... $tag$
      | --[^\n]*                      # -- comment
      | /\*.*?\*/                     # /* comment */
      | \?""",
    re.VERBOSE | re.DOTALL,
)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """`?` placeholders -> `$1..$n`, leaving quoted text and comments alone (cached: the
    same few hundred statements run all day)."""
    counter = 0

    def number(m: re.Match[str]) -> str:
        nonlocal counter
        if m.group(0) != "?":
            return m.group(0)
        counter += 1
        return f"${counter}"

    return _TOKENS.sub(number, sql)


def _rowcount(status: str) -> int:
    """asyncpg's command tag (`UPDATE 3`, `INSERT 0 1`) -> the number of rows."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def tsquery(words: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL for a tsquery matching every word (`event_search_term` makes a typed word's
    lexemes as the document's were made), and its parameters; "" for none."""
    parts, params = [], []
    for word in words:
        token = calendar_token(word)
        parts.append("to_tsquery('simple', ?)" if token else "event_search_term(?)")
        params.append(token or word)
    return " && ".join(parts), params


def lock_key(name: str) -> int:
    """The advisory-lock key for a name: the first 8 bytes of the BLAKE2b digest of
    `launchwatch:<name>`, as a signed bigint.

    Every process must derive the same key, so not Python's `hash()` (salted per
    process). Nor PostgreSQL's `hashtext()`: undocumented, and 32 bits, where 64 make an
    accidental collision (which would only make two unrelated locks wait on each other)
    negligible. The prefix keeps clear of other applications' keys on a shared server;
    single-bigint keys never meet `migrate`'s two-int4 keys."""
    digest = hashlib.blake2b(f"launchwatch:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresConn:
    """`Conn` over an asyncpg connection: portable SQL in, dicts out."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rowcount(await self.conn.execute(translate(sql), *params))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.conn.executemany(translate(sql), rows)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an `INSERT ... RETURNING id` and give the id."""
        row = await self.conn.fetchrow(translate(sql), *params)
        if row is None:
            raise RuntimeError("INSERT returned no id; it needs RETURNING id")
        return int(row[0])

    async def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[int]:
        """Reserve the ids from the table's sequence, then insert them with one executemany."""
        if not rows:
            return []
        ids = [
            int(r[0])
            for r in await self.conn.fetch(
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
                table,
                len(rows),
            )
        ]
        marks = ", ".join("?" * (len(columns) + 1))
        with_ids = f"INSERT INTO {table} (id, {', '.join(columns)}) VALUES ({marks})"
        await self.executemany(with_ids, [[i, *r] for i, r in zip(ids, rows, strict=True)])
        return ids

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in await self.conn.fetch(translate(sql), *params)]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = await self.conn.fetchrow(translate(sql), *params)
        return dict(row) if row is not None else None

    def for_update(self, select: str) -> str:
        """`select` locking the rows it reads until the transaction ends. NO KEY UPDATE is
        the lock the UPDATE that follows takes anyway: it makes a second edit of the row
        wait, and then read the row as the first left it, but does not hold up inserting
        a source or reaction that merely refers to the row (as FOR UPDATE would)."""
        return f"{select} FOR NO KEY UPDATE"

    def skip_locked(self, select: str, alias: str) -> str:
        """`select` locking the rows of `alias` it picks, and passing over rows another
        transaction has locked (a claim under way)."""
        return f"{select} FOR UPDATE OF {alias} SKIP LOCKED"

    async def search_events(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[int]:
        """Each guild's newest rows first: the tsvectors of its SEARCH_RECENT newest events
        are tested in date order, which finds a common word's `limit` newest matches at
        once. A guild where they hold fewer is searched through the GIN index (cost follows
        the number of matches, not of events), and the answers are merged."""
        query, params = tsquery(words)
        test = "document @@ (SELECT query FROM q)" if query else "TRUE"
        arms = []
        arm_params: list[Any] = []
        for n, guild in enumerate(guild_ids):
            arms.append(
                f"SELECT * FROM (SELECT guild_id, event_id, occurred_on FROM (SELECT guild_id, "
                "event_id, occurred_on, document FROM event_search WHERE guild_id = ? "
                f"ORDER BY occurred_on DESC, event_id DESC LIMIT {SEARCH_RECENT}) AS recent "
                f"WHERE {test} ORDER BY occurred_on DESC, event_id DESC LIMIT ?) AS arm{n}"
            )
            arm_params += [guild, limit]
        found = await self.fetchall(
            f"WITH q AS MATERIALIZED (SELECT {query or 'NULL::tsquery'} AS query) "
            + " UNION ALL ".join(arms),
            [*params, *arm_params],
        )
        per_guild: dict[int, int] = {}
        for row in found:
            per_guild[row["guild_id"]] = per_guild.get(row["guild_id"], 0) + 1
        rest = [g for g in guild_ids if per_guild.get(g, 0) < limit]
        hits = [r for r in found if r["guild_id"] not in rest]
        if rest:
            guilds = " | ".join(f"g{int(g)}" for g in rest)
            # OFFSET 0 keeps the planner from reading event_search_recent backwards and
            # testing every row (fast for a common word, a full scan for a rare one).
            hits += await self.fetchall(
                f"WITH q AS MATERIALIZED (SELECT {query + ' && ' if query else ''}"
                "to_tsquery('simple', ?) AS query) "
                "SELECT event_id, occurred_on FROM (SELECT event_id, occurred_on "
                "FROM event_search WHERE document @@ (SELECT query FROM q) OFFSET 0) AS found "
                "ORDER BY occurred_on DESC, event_id DESC LIMIT ?",
                [*params, guilds, limit],
            )
        hits.sort(key=lambda r: (r["occurred_on"], r["event_id"]), reverse=True)
        return [r["event_id"] for r in hits[:limit]]

    async def restart_ids(self, table: str) -> None:
        """Ids given explicitly never move the identity sequence: start it after the
        largest id, or the next insert would collide with a copied row."""
        await self.fetchone(
            "SELECT setval(pg_get_serial_sequence(?, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
            [table],
        )

    async def lock(self, names: Sequence[str]) -> None:
        """Take a transaction-scoped advisory lock per name (`lock_key`), in key order so
        that two transactions locking overlapping sets cannot deadlock. Released at commit
        or rollback; outside a transaction it would be released at once."""
        keys = sorted({lock_key(n) for n in names})
        if keys:
            await self.conn.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", keys
            )


def _store_error(exc: BaseException, url: str) -> StoreError:
    """What a failed connection means for the person who configured `url`."""
    parts = urlsplit(url)
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        database = parts.path.lstrip("/") or parts.username or ""
        return StoreError("no_database", url, detail, subject=database)
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return StoreError("refused", url, detail, subject=parts.username or "")
    if isinstance(exc, OSError | TimeoutError | asyncpg.CannotConnectNowError):
        try:
            port = parts.port or 5432
        except ValueError:  # not a number: asyncpg would have said so first
            port = 5432
        return StoreError("unreachable", url, detail, subject=f"{parts.hostname}:{port}")
    return StoreError("other", url, detail)


class PostgresStore(Store):
    backend = "postgres"

    def __init__(self, url: str, pool: asyncpg.Pool, schema: str | None) -> None:
        self.url = url
        self.schema = schema
        self._pool = pool
        self._listeners: list[asyncio.Task[None]] = []
        self.on_commit: list[Callable[[], None]] = []

    @classmethod
    async def open(
        cls, url: str, *, schema: str | None = None, max_size: int = 10
    ) -> PostgresStore:
        """Connect a pool to `url` (`postgresql://` or `postgres://`), in `schema` if given;
        `StoreError` when the server, the database or the schema is not there."""
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=max_size, server_settings=cls._settings(url, schema)
            )
        except Exception as exc:  # asyncpg's, the socket's or the URL parser's
            raise _store_error(exc, url) from exc
        assert pool is not None
        try:
            # A search_path naming no schema that exists connects fine; only the first
            # CREATE TABLE would fail, with "no schema has been selected to create in".
            if await pool.fetchval("SELECT current_schema()") is None:
                wanted = schema or parse_qs(urlsplit(url).query).get("search_path", ["public"])[0]
                raise StoreError("no_schema", url, subject=wanted)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, OSError | asyncpg.PostgresError):
                raise _store_error(exc, url) from exc
            raise
        return cls(url, pool, schema)

    @staticmethod
    def _settings(url: str, schema: str | None) -> dict[str, str]:
        """Named `launchwatch` in pg_stat_activity unless the URL names it otherwise (these
        settings would win over the URL's)."""
        settings = {}
        if "application_name" not in parse_qs(urlsplit(url).query):
            settings["application_name"] = "launchwatch"
        if schema is not None:
            settings["search_path"] = schema
        return settings

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="read_committed"):
            q = Queries(PostgresConn(conn))
            yield q
            if q.wrote_deliveries:
                # Delivered at commit, and only if it commits: other processes wake.
                await conn.execute("SELECT pg_notify($1, COALESCE(current_schema(), ''))", CHANNEL)
        if q.wrote_deliveries:
            for callback in list(self.on_commit):
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Queries]:
        async with self._pool.acquire() as conn:
            yield Queries(PostgresConn(conn))

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own transaction under an advisory lock,
        so two processes starting together apply each migration exactly once. A failed
        one is rolled back and named (`StoreError`), as is a store newer than this code."""
        applied = []
        async with self._pool.acquire() as conn:
            for version, name, sql in migrations("postgres"):
                step = "schema_version"
                try:
                    async with conn.transaction():
                        await conn.execute(
                            "SELECT pg_advisory_xact_lock(hashtext('launchwatch.migrate'), "
                            "hashtext(COALESCE(current_schema(), '')))"
                        )
                        await conn.execute(
                            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
                            'PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT COLLATE "C" NOT NULL)'
                        )
                        current = await conn.fetchval(
                            "SELECT COALESCE(MAX(version), 0) FROM schema_version"
                        )
                        refuse_newer(self.url, "postgres", current)
                        if version <= current:
                            continue
                        step = name
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_version (version, name, applied_at) "
                            "VALUES ($1, $2, $3)",
                            version,
                            name,
                            datetime.now(UTC).isoformat(),
                        )
                except asyncpg.PostgresError as exc:
                    raise StoreError("migration_failed", self.url, str(exc), subject=step) from exc
                except OSError as exc:
                    raise _store_error(exc, self.url) from exc
                applied.append(version)
        return applied

    async def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever any process commits deliveries to this store.

        LISTEN needs a connection of its own (the pool resets connections on release,
        which drops it). If that connection is lost it is re-opened, and `callback` is
        called once then for anything missed meanwhile."""
        conn = await self._listen_on(callback)
        self._listeners.append(asyncio.create_task(self._keep_listening(conn, callback)))

    async def _listen_on(self, callback: Callable[[], None]) -> asyncpg.Connection:
        conn = await asyncpg.connect(
            self.url, server_settings=self._settings(self.url, self.schema)
        )
        schema = await conn.fetchval("SELECT COALESCE(current_schema(), '')")

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            if payload in (schema, ""):  # not another store sharing the database
                callback()

        await conn.add_listener(CHANNEL, notified)
        return conn

    async def _keep_listening(self, conn: asyncpg.Connection, callback: Callable[[], None]) -> None:
        delay = 1.0
        try:
            while True:
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await lost.wait()
                log.warning("lost the LISTEN connection; re-opening it")
                while True:
                    await asyncio.sleep(delay)
                    try:
                        conn = await self._listen_on(callback)
                        break
                    except (OSError, asyncpg.PostgresError) as exc:
                        log.warning("cannot re-open the LISTEN connection: %s", exc)
                        delay = min(delay * 2, 60.0)
                delay = 1.0
                callback()
        finally:
            if not conn.is_closed():
                await conn.close()

    async def close(self) -> None:
        for task in self._listeners:
            task.cancel()
        for task in self._listeners:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._listeners.clear()
        await self._pool.close()
