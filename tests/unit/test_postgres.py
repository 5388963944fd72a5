"""The PostgreSQL store: migrations (also two processes at once), NOTIFY between
processes, byte-order dates, and answers identical to SQLite's.

Each test works in a schema of its own on the test server (see tests/conftest.py); the
tests skip without a server, except under CI=true.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.models import Delivery, Revision
from db import Store, open_store
from db.events import EventFilter
from db.postgres import PostgresStore, translate
from db.reactions import ReactionFilter
from db.store import migrations
from tests.conftest import GUILD, insert_row, postgres_schema, postgres_test_url

STAMP = "2024-02-02T03:00:00+00:00"
TABLES = (
    "event",
    "event_revision",
    "reaction",
    "source",
    "subscription",
    "delivery",
    "guild_settings",
)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    async with postgres_schema() as name:
        yield name


@pytest.fixture
async def empty(schema: str) -> AsyncIterator[PostgresStore]:
    """A store on an empty schema, no migration applied yet."""
    s = await PostgresStore.open(postgres_test_url(), schema=schema)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def pg(empty: PostgresStore) -> PostgresStore:
    await empty.migrate()
    return empty


async def sql(store: Store, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall(statement, params)


def event(**overrides: Any) -> dict[str, Any]:
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


async def queue_delivery(store: Store, channel_id: int = 501) -> None:
    """One event, one subscription and its alert, committed in one transaction."""
    async with store.transaction() as q:
        event_id = await insert_row(q, "event", event())
        sub_id = await insert_row(
            q, "subscription", {"guild_id": GUILD, "channel_id": channel_id, "created_at": STAMP}
        )
        await q.deliveries.add(
            [
                Delivery(
                    **{
                        "subscription_id": sub_id,
                        "guild_id": GUILD,
                        "channel_id": channel_id,
                        "event_id": event_id,
                        "revision": 1,
                        "kind": "alert",
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": STAMP,
                        "nonce": f"a{event_id}.1",
                        "created_at": STAMP,
                    }
                )
            ]
        )


@pytest.mark.postgres
class TestMigrations:
    """Opening a database brings it to the current schema, once, however many start."""

    async def test_migrating_an_empty_schema_applies_every_migration(
        self, empty: PostgresStore
    ) -> None:
        """A brand-new schema gets every numbered migration, in order, recorded by name."""
        applied = await empty.migrate()

        assert applied == [v for v, _, _ in migrations("postgres")]
        rows = await sql(empty, "SELECT version, name, applied_at FROM schema_version")
        assert [(r["version"], r["name"]) for r in rows] == [
            (v, n) for v, n, _ in migrations("postgres")
        ]
        assert await empty.schema_version() == applied[-1]

    async def test_both_dialects_have_the_same_migrations(self) -> None:
        """Version numbers match across dialects, so `db copy` can compare them."""
        assert [(v, n) for v, n, _ in migrations("postgres")] == [
            (v, n) for v, n, _ in migrations("sqlite")
        ]

    async def test_migrating_again_applies_nothing(self, pg: PostgresStore) -> None:
        before = await sql(pg, "SELECT * FROM schema_version ORDER BY version")

        assert await pg.migrate() == []
        assert await sql(pg, "SELECT * FROM schema_version ORDER BY version") == before

    async def test_two_processes_migrating_at_once_apply_each_migration_once(
        self, schema: str
    ) -> None:
        """Two stores (two pools, as two processes) migrating together: no error, no twice."""
        stores = [await PostgresStore.open(postgres_test_url(), schema=schema) for _ in range(3)]
        try:
            results = await asyncio.gather(*(s.migrate() for s in stores))
            versions = await sql(stores[0], "SELECT version FROM schema_version ORDER BY version")
        finally:
            for s in stores:
                await s.close()

        applied = sorted(v for result in results for v in result)
        assert applied == [v for v, _, _ in migrations("postgres")]
        assert [r["version"] for r in versions] == applied

    async def test_tables_and_columns_match_sqlite(self, pg: PostgresStore, tmp_path: Path) -> None:
        """Every table has the same columns on both backends, so queries run on either."""
        lite = await open_store(f"sqlite:///{tmp_path / 'same.db'}")
        try:
            for table in TABLES:
                theirs = await sql(lite, "SELECT name FROM pragma_table_info(?)", (table,))
                ours = await sql(
                    pg,
                    "SELECT column_name AS name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = ?",
                    (table,),
                )
                assert {r["name"] for r in ours} == {r["name"] for r in theirs}, table
            lite_ix = await sql(
                lite, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
            pg_ix = await sql(
                pg,
                "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname NOT LIKE '%\\_pkey' ESCAPE '\\' AND indexname NOT LIKE '%\\_key' "
                "AND tablename <> 'event_search'",  # the search index is each backend's own
            )
            assert {r["name"] for r in pg_ix} == {r["name"] for r in lite_ix}
        finally:
            await lite.close()

    async def test_open_store_takes_postgres_urls(self, schema: str) -> None:
        """`postgres://` works as `postgresql://`; `?search_path=` picks the schema."""
        url = postgres_test_url(search_path=schema).replace("postgresql://", "postgres://", 1)
        store = await open_store(url)
        try:
            assert store.backend == "postgres"
            assert await store.schema_version() == migrations("postgres")[-1][0]
            rows = await sql(store, "SELECT current_schema() AS s")
            assert rows == [{"s": schema}]
        finally:
            await store.close()


@pytest.mark.postgres
class TestConstraints:
    """The PostgreSQL counterparts of test_store.py's SQLite-only checks."""

    async def test_values_outside_the_model_are_refused(self, pg: PostgresStore) -> None:
        for bad in ({"category": "rocket"}, {"count": 0}, {"distance_km": -1}):
            with pytest.raises(asyncpg.CheckViolationError):
                async with pg.transaction() as q:
                    await insert_row(q, "event", event(**bad))

        assert await sql(pg, "SELECT * FROM event") == []

    async def test_a_revision_of_a_missing_event_is_refused(self, pg: PostgresStore) -> None:
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            async with pg.transaction() as q:
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

    async def test_external_id_is_unique_per_guild(self, pg: PostgresStore) -> None:
        async with pg.transaction() as q:
            await insert_row(q, "event", event(external_id="cns:245"))
            await insert_row(q, "event", event(external_id="cns:245", guild_id=GUILD + 1))
        with pytest.raises(asyncpg.UniqueViolationError):
            async with pg.transaction() as q:
                await insert_row(q, "event", event(external_id="cns:245"))

    async def test_a_nonce_longer_than_discord_allows_is_refused(self, pg: PostgresStore) -> None:
        async with pg.transaction() as q:
            event_id = await insert_row(q, "event", event())
            sub_id = await insert_row(
                q, "subscription", {"guild_id": GUILD, "channel_id": 501, "created_at": STAMP}
            )
        with pytest.raises(asyncpg.CheckViolationError):
            async with pg.transaction() as q:
                await q.conn.execute(
                    "INSERT INTO delivery (subscription_id, guild_id, channel_id, event_id, "
                    "kind, next_attempt_at, nonce, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [sub_id, GUILD, 501, event_id, "alert", STAMP, "n" * 26, STAMP],
                )

    async def test_snowflakes_fit(self, pg: PostgresStore) -> None:
        """Discord ids (up to 2**63 - 1) round-trip: ids and snowflakes are BIGINT."""
        big = 2**63 - 1
        async with pg.transaction() as q:
            await q.settings.update(big, {"log_channel_id": big, "moderator_role_ids": [big]})
        async with pg.read() as q:
            row = await q.settings.get(big)
        assert row is not None
        assert (row.guild_id, row.log_channel_id, row.moderator_role_ids) == (
            big,
            big,
            [big],
        )

    async def test_timeline_date_range_is_an_index_condition(self, pg: PostgresStore) -> None:
        """The timeline's date bound is searched in an index (its collation matches)."""
        async with pg.read() as q:
            await q.conn.execute("SET enable_seqscan = off")  # an empty table is cheap to scan
            try:
                plan = await q.conn.fetchall(
                    "EXPLAIN SELECT * FROM event WHERE guild_id IN (?, ?) AND occurred_on >= ? "
                    "ORDER BY occurred_on, occurred_at NULLS FIRST, id",
                    [GUILD, GUILD + 1, "2024-01"],
                )
            finally:
                await q.conn.execute("RESET enable_seqscan")

        lines = [row["QUERY PLAN"] for row in plan]
        assert any("Index Cond" in line and "occurred_on >=" in line for line in lines), lines


@pytest.mark.postgres
class TestNotify:
    """A commit that queues deliveries wakes the dispatchers of other processes."""

    @staticmethod
    def waiter() -> tuple[asyncio.Event, Callable[[], None]]:
        woken = asyncio.Event()
        return woken, woken.set

    async def test_listener_in_another_store_is_woken(self, pg: PostgresStore) -> None:
        other = await PostgresStore.open(postgres_test_url(), schema=pg.schema)
        try:
            woken, wake = self.waiter()
            await other.listen(wake)

            await queue_delivery(pg)

            await asyncio.wait_for(woken.wait(), 5)
        finally:
            await other.close()

    async def test_no_notice_without_deliveries_or_after_rollback(self, pg: PostgresStore) -> None:
        """Other writes, and a rolled-back transaction with deliveries, wake nobody."""
        woken, wake = self.waiter()
        await pg.listen(wake)

        async with pg.transaction() as q:
            await insert_row(q, "event", event())
        with pytest.raises(RuntimeError):
            async with pg.transaction() as q:
                await q.deliveries.add([])
                q.wrote_deliveries = True
                raise RuntimeError("boom")
        await asyncio.sleep(0.3)

        assert not woken.is_set()

    async def test_a_store_in_another_schema_is_not_woken(self, pg: PostgresStore) -> None:
        """Stores sharing a database in different schemas do not wake each other."""
        async with postgres_schema() as elsewhere:
            other = await PostgresStore.open(postgres_test_url(), schema=elsewhere)
            try:
                await other.migrate()
                woken, wake = self.waiter()
                await other.listen(wake)

                await queue_delivery(pg)
                await asyncio.sleep(0.3)
                assert not woken.is_set()

                await queue_delivery(other)
                await asyncio.wait_for(woken.wait(), 5)
            finally:
                await other.close()

    async def test_on_commit_still_runs_in_process(self, pg: PostgresStore) -> None:
        woken: list[str] = []
        pg.on_commit.append(lambda: woken.append("wake"))

        await queue_delivery(pg)

        assert woken == ["wake"]

    async def test_lost_listen_connection_is_reopened(self, schema: str) -> None:
        """A dropped LISTEN connection comes back, and calls once for what it missed."""
        name = f"lw_{schema}"  # so only this test's connections are dropped
        pg = await PostgresStore.open(postgres_test_url(application_name=name), schema=schema)
        try:
            await pg.migrate()
            woken, wake = self.waiter()
            await pg.listen(wake)
            async with pg.read() as q:
                dropped = await q.conn.fetchall(
                    "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity "
                    "WHERE application_name = ? AND query LIKE 'LISTEN%'",
                    [name],
                )
            assert dropped == [{"ok": True}]
            await asyncio.wait_for(woken.wait(), 10)  # the catch-up call after re-opening
            woken.clear()

            await queue_delivery(pg)

            await asyncio.wait_for(woken.wait(), 5)
        finally:
            await pg.close()


@pytest.mark.postgres
class TestCollation:
    """Partial dates compare as bytes, as in SQLite, whatever the database's locale."""

    async def test_partial_dates_sort_year_month_day(self, pg: PostgresStore) -> None:
        async with pg.transaction() as q:
            for day in ("2024-01-25", "2024", "2023-12-31", "2024-01"):
                await insert_row(q, "event", event(occurred_on=day))
        async with pg.read() as q:
            rows = await q.events.timeline(EventFilter([GUILD]), 10)
            # a partial `until` with `~` covers its whole month: 2024-01~ >= 2024-01-25
            inside = await q.events.timeline(EventFilter([GUILD], "2024-01", "2024-01~"), 10)

        assert [r.occurred_on for r in rows] == ["2023-12-31", "2024", "2024-01", "2024-01-25"]
        assert [r.occurred_on for r in inside] == ["2024-01", "2024-01-25"]

    async def test_date_and_time_columns_are_collated_c(self, pg: PostgresStore) -> None:
        rows = await sql(
            pg,
            "SELECT table_name || '.' || column_name AS col, collation_name "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND (column_name LIKE '%\\_on' ESCAPE '\\' OR column_name LIKE '%\\_at' ESCAPE '\\' "
            "OR column_name IN ('since', 'until', 'period'))",
        )

        assert len(rows) >= 16
        assert {r["col"]: r["collation_name"] for r in rows} == {r["col"]: "C" for r in rows}


class TestPortable:
    """Queries give the same answers on both backends (runs on each)."""

    async def test_events_without_a_time_come_first_within_their_day(self, store: Store) -> None:
        """SQLite sorts NULL first, PostgreSQL last, unless the query says."""
        async with store.transaction() as q:
            timed = await insert_row(
                q, "event", event(date_precision="minute", occurred_at="2024-02-02T10:00:00+00:00")
            )
            untimed = await insert_row(q, "event", event())
        async with store.read() as q:
            listed = [r.id for r in await q.events.timeline(EventFilter([GUILD]), 10)]
            latest = [r.id for r in await q.events.latest(EventFilter([GUILD]), 10)]
            every = [r.id for r in await q.events.of_guilds([GUILD])]

        assert listed == latest == every == [untimed, timed]

    async def test_undated_reactions_come_first_for_their_actor(self, store: Store) -> None:
        async with store.transaction() as q:
            event_id = await insert_row(q, "event", event())
            ids = [
                await insert_row(
                    q,
                    "reaction",
                    {
                        "guild_id": GUILD,
                        "event_id": event_id,
                        "actor": "Japan",
                        "stance": "condemns",
                        "summary": "s",
                        "created_at": STAMP,
                        **extra,
                    },
                )
                for extra in ({"said_on": "2024-02-03"}, {})
            ]
        async with store.read() as q:
            rows = await q.reactions.page(ReactionFilter([GUILD], event_id=event_id), 10)

        assert [r.id for r in rows] == ids[::-1]

    async def test_search_treats_wildcards_as_text(self, store: Store) -> None:
        """`LIKE ? ESCAPE '\\'` means the same on both: `%` and `_` match only themselves."""
        async with store.transaction() as q:
            hit = await insert_row(q, "event", event(summary="Range 100% of claims, site_a"))
            await insert_row(q, "event", event(summary="Range 1000 km, siteXa"))
        async with store.read() as q:
            rows = await q.search.events([GUILD], ["100%", "site_a"], 10)

        assert [r.id for r in rows] == [hit]

    async def test_numbers_for_text_are_stored_as_text(self, store: Store) -> None:
        """A changed number is recorded as text on both backends (the revision's
        constructor writes it so; asyncpg would refuse a number for a TEXT column)."""
        async with store.transaction() as q:
            event_id = await insert_row(q, "event", event())
            await q.events.add_revisions(
                [Revision.change(event_id, 2, None, STAMP, "count", 1, 2.5)]
            )
        async with store.read() as q:
            rows = await q.events.revisions(event_id)

        assert [(r.old, r.new) for r in rows] == [("1", "2.5")]


class TestPlaceholders:
    """`?` becomes `$n` only where it is a placeholder."""

    @pytest.mark.parametrize(
        ("portable", "native"),
        [
            ("SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"),
            ("SELECT '?' AS q, ? AS p", "SELECT '?' AS q, $1 AS p"),
            ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
            ('SELECT "odd?col" FROM t WHERE x = ?', 'SELECT "odd?col" FROM t WHERE x = $1'),
            ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"),
            ("SELECT /* ? */ ?", "SELECT /* ? */ $1"),
            ("WHERE s LIKE ? ESCAPE '\\' AND t = ?", "WHERE s LIKE $1 ESCAPE '\\' AND t = $2"),
            ("SELECT E'a\\'?' || ?", "SELECT E'a\\'?' || $1"),
            ("SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1"),
            ("SELECT 1", "SELECT 1"),
        ],
    )  # fmt: skip
    def test_translate(self, portable: str, native: str) -> None:
        assert translate(portable) == native
