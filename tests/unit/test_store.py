"""The SQLite store: migrations, the data model's tables and indexes, WAL and foreign keys."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.models import Delivery, Revision, Source
from db import Store, open_store
from db.store import migrations
from tests.conftest import GUILD, insert_row

#: The data model (docs/architecture.md, "Data model"): every table and the fields it
#: names (sources live in `source`).
DATA_MODEL = {
    "event": {
        "id", "guild_id", "external_id", "occurred_on", "date_precision", "occurred_at",
        "actor", "category", "name", "count", "platform", "launch_site", "latitude",
        "longitude", "landing_area", "distance_km", "apogee_km", "outcome", "claimed",
        "overseen_by", "region", "summary", "confidence", "retraction_reason", "created_by",
        "created_at", "updated_at", "revision",
    },
    "source": {"event_id", "reaction_id", "url", "publisher", "title", "published_on"},
    "event_revision": {"event_id", "revision", "changed_by", "changed_at", "field", "old", "new"},
    "reaction": {
        "id", "guild_id", "event_id", "since", "until", "actor", "actor_kind", "speaker",
        "speaker_title", "affiliation", "stance", "summary", "quote", "said_on",
    },
    "subscription": {
        "id", "guild_id", "channel_id", "regions", "categories", "actors", "min_confidence",
        "mention_role_id", "mode", "digest_every", "digest_time", "timezone", "last_digest_at",
        "state", "broken_reason", "created_by",
    },
    "delivery": {
        "id", "subscription_id", "guild_id", "channel_id", "event_id", "revision", "period",
        "kind", "status", "attempts", "next_attempt_at", "nonce", "message_id", "last_error",
    },
    "guild_settings": {
        "guild_id", "moderator_role_ids", "default_actor", "timezone", "log_channel_id",
    },
}  # fmt: skip

STAMP = "2024-02-02T03:00:00.000000+00:00"


@pytest.fixture
async def empty(tmp_path: Path) -> AsyncIterator[Store]:
    """A store opened on an empty database file, with no migration applied yet."""
    s = await open_store(f"sqlite:///{tmp_path / 'empty.db'}", migrate=False)
    try:
        yield s
    finally:
        await s.close()


async def sql(store: Store, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall(statement, params)


async def columns(store: Store, table: str) -> set[str]:
    # The table-valued pragma forms check the schema, so the reading connection sees tables
    # the writer created after it opened (`PRAGMA index_list(t)` would answer from a stale cache).
    return {
        row["name"] for row in await sql(store, "SELECT name FROM pragma_table_info(?)", (table,))
    }


async def indexed_columns(store: Store, table: str) -> list[tuple[str, ...]]:
    """The column lists of every index on a table, in index order."""
    out = []
    for index in await sql(store, "SELECT name FROM pragma_index_list(?)", (table,)):
        info = await sql(store, "SELECT * FROM pragma_index_info(?)", (index["name"],))
        out.append(tuple(row["name"] for row in sorted(info, key=lambda r: r["seqno"])))
    return out


def event_row(**overrides: Any) -> dict[str, Any]:
    return {
        "guild_id": GUILD,
        "occurred_on": "2024-02-02",
        "date_precision": "day",
        "actor": "DPRK",
        "category": "cruise_missile",
        "region": "korean-peninsula",
        "summary": "Cruise missiles off the east coast.",
        "created_at": STAMP,
        "updated_at": STAMP,
        **overrides,
    }


async def insert_event(store: Store, **overrides: Any) -> int:
    async with store.transaction() as q:
        return await insert_row(q, "event", event_row(**overrides))


async def insert_subscription(store: Store, channel_id: int = 501) -> int:
    async with store.transaction() as q:
        return await insert_row(
            q,
            "subscription",
            {
                "guild_id": GUILD,
                "channel_id": channel_id,
                "regions": ["korean-peninsula"],
                "categories": [],
                "actors": ["DPRK"],
                "created_at": STAMP,
            },
        )


def delivery(subscription_id: int, event_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "guild_id": GUILD,
        "channel_id": 501,
        "event_id": event_id,
        "revision": 1,
        "kind": "alert",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": STAMP,
        "nonce": "a1.1.1",
        "created_at": STAMP,
        **overrides,
    }


class TestMigrations:
    """Opening a database brings it to the current schema, once."""

    async def test_migrating_an_empty_database_applies_every_migration(self, empty: Store) -> None:
        """A brand-new file gets every numbered migration, in order."""
        applied = await empty.migrate()

        assert applied == [version for version, _, _ in migrations("sqlite")]
        assert applied[0] == 1

    async def test_applied_migrations_are_recorded(self, empty: Store) -> None:
        """Each applied migration is recorded in schema_version with its file name."""
        await empty.migrate()

        rows = await sql(empty, "SELECT version, name, applied_at FROM schema_version")

        assert [(r["version"], r["name"]) for r in rows] == [
            (version, name) for version, name, _ in migrations("sqlite")
        ]
        assert all(r["applied_at"] for r in rows)
        assert await empty.schema_version() == rows[-1]["version"]

    async def test_migrating_again_applies_nothing(self, store: Store) -> None:
        """Re-running the migrations on an up-to-date store changes nothing."""
        before = await sql(store, "SELECT * FROM schema_version")

        assert await store.migrate() == []
        assert await sql(store, "SELECT * FROM schema_version") == before

    async def test_reopening_keeps_the_data(self, tmp_path: Path) -> None:
        """Opening an existing database applies nothing and keeps its rows."""
        url = f"sqlite:///{tmp_path / 'kept.db'}"
        first = await open_store(url)
        event_id = await insert_event(first)
        await first.close()

        second = await open_store(url, migrate=False)
        try:
            assert await second.migrate() == []
            assert [r["id"] for r in await sql(second, "SELECT id FROM event")] == [event_id]
        finally:
            await second.close()

    async def test_an_unmigrated_database_has_no_tables(self, empty: Store) -> None:
        """Opening with migrate=False leaves the database untouched."""
        assert await sql(empty, "SELECT name FROM sqlite_master WHERE type = 'table'") == []

    @pytest.mark.parametrize("table", sorted(DATA_MODEL))
    async def test_every_table_has_design_field_names(self, empty: Store, table: str) -> None:
        """Each table of the data model exists with every field docs/architecture.md names."""
        await empty.migrate()

        assert DATA_MODEL[table] <= await columns(empty, table)


class TestConnection:
    """The SQLite connection settings the rest of the bot relies on."""

    async def test_database_is_in_wal_mode(self, store: Store) -> None:
        """WAL lets reads (timelines) run beside a write (an alert being queued)."""
        assert (await sql(store, "PRAGMA journal_mode"))[0]["journal_mode"] == "wal"

    async def test_foreign_keys_are_on_for_reads_and_writes(self, store: Store) -> None:
        """Both the reading and the writing connection enforce foreign keys."""
        async with store.transaction() as q:
            writer = await q.conn.fetchone("PRAGMA foreign_keys")

        assert writer == {"foreign_keys": 1}
        assert await sql(store, "PRAGMA foreign_keys") == [{"foreign_keys": 1}]

    async def test_a_revision_of_a_missing_event_is_refused(self, store: Store) -> None:
        """The store refuses rows that point at an event that does not exist."""
        with pytest.raises(sqlite3.IntegrityError):
            async with store.transaction() as q:
                await q.events.add_revisions(
                    [
                        Revision(
                            event_id=999,
                            revision=1,
                            changed_by=None,
                            changed_at=STAMP,
                            field="created",
                            old=None,
                            new=None,
                        )
                    ]
                )

        assert await sql(store, "SELECT * FROM event_revision") == []

    async def test_deleting_an_event_deletes_what_hangs_off_it(self, store: Store) -> None:
        """An event's sources and revisions go with it."""
        event_id = await insert_event(store)
        async with store.transaction() as q:
            await q.events.sources.add([(event_id, Source(url="https://example.org/a"))])
            await q.events.add_revisions(
                [
                    Revision(
                        event_id=event_id,
                        revision=1,
                        changed_by=None,
                        changed_at=STAMP,
                        field="created",
                        old=None,
                        new=None,
                    )
                ]
            )
            await q.conn.execute("DELETE FROM event WHERE id = ?", [event_id])

        assert await sql(store, "SELECT * FROM source") == []
        assert await sql(store, "SELECT * FROM event_revision") == []

    async def test_a_failed_transaction_writes_nothing(self, store: Store) -> None:
        """An error part-way through a unit of work rolls back all of it."""
        with pytest.raises(RuntimeError):
            async with store.transaction() as q:
                await insert_row(
                    q,
                    "event",
                    {
                        "guild_id": GUILD,
                        "occurred_on": "2024",
                        "date_precision": "year",
                        "actor": "DPRK",
                        "category": "icbm",
                        "region": "korean-peninsula",
                        "summary": "x",
                        "created_at": STAMP,
                        "updated_at": STAMP,
                    },
                )
                raise RuntimeError("boom")

        assert await sql(store, "SELECT * FROM event") == []

    async def test_store_refuses_values_outside_the_model(self, store: Store) -> None:
        """Even bypassing validation, the store refuses an unknown category or a zero count."""
        for bad in ({"category": "rocket"}, {"count": 0}, {"distance_km": -1}):
            with pytest.raises(sqlite3.IntegrityError):
                await insert_event(store, **bad)

        assert await sql(store, "SELECT * FROM event") == []

    async def test_external_id_is_unique_per_guild(self, store: Store) -> None:
        """Two events of one guild cannot share an external id; other guilds may reuse it."""
        await insert_event(store, external_id="cns:245")
        await insert_event(store, external_id="cns:245", guild_id=GUILD + 1)

        with pytest.raises(sqlite3.IntegrityError):
            await insert_event(store, external_id="cns:245")

        assert len(await sql(store, "SELECT * FROM event")) == 2


class TestIndexes:
    """The queries that run on every command are served by an index."""

    @pytest.mark.parametrize(
        ("table", "leading", "what"),
        [
            ("event", ("guild_id", "occurred_on"), "timeline by guild and date"),
            ("reaction", ("event_id",), "reactions by event"),
            ("reaction", ("guild_id", "actor"), "reactions by actor"),
            ("delivery", ("status", "next_attempt_at"), "due deliveries"),
            ("delivery", ("event_id",), "deliveries of an event (corrections)"),
            ("source", ("event_id",), "sources of an event"),
            ("event_revision", ("event_id",), "history of an event"),
        ],
    )
    async def test_index_exists(
        self, store: Store, table: str, leading: tuple[str, ...], what: str
    ) -> None:
        """An index leads with the columns the query filters on."""
        indexes = await indexed_columns(store, table)

        assert any(cols[: len(leading)] == leading for cols in indexes), (what, indexes)

    async def test_timeline_query_uses_its_index(self, store: Store) -> None:
        """The plan for a guild's timeline searches an index rather than scanning events."""
        plan = await sql(
            store,
            "EXPLAIN QUERY PLAN SELECT * FROM event WHERE guild_id IN (?, ?) "
            "AND occurred_on >= ? ORDER BY occurred_on, occurred_at, id",
            (GUILD, GUILD + 1, "2024-01"),
        )

        assert any("USING INDEX" in row["detail"] for row in plan), plan


class TestRows:
    """Rows come back as the data model's field names, lists decoded."""

    async def test_subscription_filters_come_back_as_lists(self, store: Store) -> None:
        """Subscription filters are stored as JSON and read back as lists."""
        sub_id = await insert_subscription(store)

        async with store.read() as q:
            row = await q.subscriptions.get(sub_id)

        assert row is not None
        assert (row.regions, row.categories, row.actors) == (
            ["korean-peninsula"],
            [],
            ["DPRK"],
        )
        assert (row.mode, row.state, row.min_confidence) == (
            "instant",
            "active",
            "disputed",
        )

    async def test_the_same_delivery_is_queued_only_once(self, store: Store) -> None:
        """Queuing the same alert twice (a retried transaction) keeps one row."""
        event_id = await insert_event(store)
        sub_id = await insert_subscription(store)

        for _ in range(2):
            async with store.transaction() as q:
                await q.deliveries.add([Delivery(**delivery(sub_id, event_id))])

        async with store.read() as q:
            assert await q.deliveries.count() == 1

    async def test_a_nonce_longer_than_discord_allows_is_refused(self, store: Store) -> None:
        """Discord accepts nonces of at most 25 characters; the store enforces it."""
        event_id = await insert_event(store)
        sub_id = await insert_subscription(store)

        with pytest.raises(sqlite3.IntegrityError):
            async with store.transaction() as q:
                await q.deliveries.add([Delivery(**delivery(sub_id, event_id, nonce="n" * 26))])

        async with store.read() as q:
            assert await q.deliveries.count() == 0

    async def test_commit_with_deliveries_wakes_the_dispatcher(self, store: Store) -> None:
        """Listeners are called after a commit that queued deliveries, not after others."""
        woken: list[str] = []
        store.on_commit.append(lambda: woken.append("wake"))
        event_id = await insert_event(store)
        sub_id = await insert_subscription(store)
        assert woken == []

        async with store.transaction() as q:
            await q.deliveries.add([Delivery(**delivery(sub_id, event_id))])

        assert woken == ["wake"]


@asynccontextmanager
async def one_connection(store: Store) -> AsyncIterator[Store]:
    """The store over a single connection, so the write after a cancel lands on the very
    connection the cancel hit (SQLite has one writer; a PostgreSQL pool has several)."""
    if store.backend == "sqlite":
        yield store
        return
    from db.postgres import PostgresStore

    assert isinstance(store, PostgresStore)
    single = await PostgresStore.open(store.url, schema=store.schema, max_size=1)
    try:
        yield single
    finally:
        await single.close()


def cancel_at(
    store: Store, monkeypatch: pytest.MonkeyPatch, marker: str, nth: int, cancels: int = 1
) -> Callable[[asyncio.Task[None]], list[str]]:
    """Cancel a task at the `nth` statement starting with `marker` that the driver is
    given: the statement is on its way to the database when the cancel lands. With
    `cancels=2`, a SQLite BEGIN or COMMIT (sent from a task of its own) is held back until
    the task has taken a second cancel while it waits for the statement.

    Returns `arm(task)`, which names the task to cancel and gives the list of statements
    the cancel landed on (empty if the marker never came)."""
    victim: list[asyncio.Task[None]] = []
    hits: list[str] = []
    seen = 0

    def landed(sql: str) -> bool:
        nonlocal seen
        if victim and sql.lstrip().upper().startswith(marker):
            seen += 1
            if seen == nth:
                hits.append(sql)
                victim[0].cancel()
                return True
        return False

    if store.backend == "sqlite":
        writer = store._writer  # type: ignore[attr-defined]
        execute = writer.execute

        async def on_sqlite(sql: str, *args: Any) -> Any:
            if landed(sql) and asyncio.current_task() is not victim[0]:
                for _ in range(cancels - 1):
                    await asyncio.sleep(0)  # the victim takes the cancel, waits again
                    victim[0].cancel()
                await asyncio.sleep(0)
            return await execute(sql, *args)

        monkeypatch.setattr(writer, "execute", on_sqlite)
    else:
        import asyncpg

        for name in ("execute", "fetch", "fetchrow", "fetchval"):
            original = getattr(asyncpg.Connection, name)

            async def on_postgres(
                conn: Any, sql: str, *args: Any, _original: Any = original, **kwargs: Any
            ) -> Any:
                landed(sql)
                return await _original(conn, sql, *args, **kwargs)

            monkeypatch.setattr(asyncpg.Connection, name, on_postgres)

    def arm(task: asyncio.Task[None]) -> list[str]:
        victim.append(task)
        return hits

    return arm


class TestCancellation:
    """A task cancelled at any await of a transaction leaves no transaction open behind it:
    the next write in the same store works, and nothing of the cancelled work is kept."""

    @pytest.mark.parametrize(
        ("marker", "nth", "cancels"),
        [
            ("BEGIN", 1, 1),
            ("BEGIN", 1, 2),
            ("INSERT", 1, 1),
            ("INSERT", 2, 1),
            ("COMMIT", 1, 1),
            ("COMMIT", 1, 2),
        ],
        ids=["begin", "begin-twice", "first-write", "second-write", "commit", "commit-twice"],
    )
    async def test_cancel_leaves_no_transaction_open(
        self, store: Store, monkeypatch: pytest.MonkeyPatch, marker: str, nth: int, cancels: int
    ) -> None:
        async with one_connection(store) as single:
            arm = cancel_at(single, monkeypatch, marker, nth, cancels)

            async def work() -> None:
                async with single.transaction() as q:
                    await insert_row(q, "event", event_row(external_id="cancelled-1"))
                    await insert_row(q, "event", event_row(external_id="cancelled-2"))

            task = asyncio.create_task(work())
            hits = arm(task)
            with pytest.raises(asyncio.CancelledError):
                await task
            assert hits, f"the transaction never reached {marker} #{nth}"
            monkeypatch.undo()

            await insert_event(single, external_id="after")  # the same connection, writing
            async with single.read() as q:
                rows = await q.conn.fetchall("SELECT external_id FROM event ORDER BY id")
        kept = [r["external_id"] for r in rows]
        if marker != "COMMIT":
            assert kept == ["after"]
        elif store.backend == "sqlite":
            # The COMMIT was on its way when the cancel landed: it runs to its end (a
            # cancel cannot take it back), all of it.
            assert kept == ["cancelled-1", "cancelled-2", "after"]
        else:
            # PostgreSQL may yet cancel a COMMIT it has not begun: all of it, or none.
            assert kept in (["cancelled-1", "cancelled-2", "after"], ["after"])
