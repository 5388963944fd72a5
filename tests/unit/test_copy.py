"""`db copy`: a whole store into another database, every row and id kept, both ways.

The source is the `store` fixture (SQLite, then PostgreSQL); the target is a fresh
SQLite file or PostgreSQL schema; so all four directions run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.services import (
    Scope,
    add_event,
    add_reaction,
    add_source,
    edit_event,
    remove_reaction,
    retract_event,
    set_subscription_state,
    subscribe,
    update_settings,
)
from bot.services.subscriptions import queue_test_alert
from db import Store, open_store
from db.copy import TABLES, CopyRefused, copy_database, copy_store, count_rows, redact
from tests.conftest import BACKENDS, GUILD, postgres_schema, postgres_test_url

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
SOURCE = {"url": "https://www.yna.co.kr/view/AEN20240202000251315", "publisher": "Yonhap"}


async def seed(store: Store, scope: Scope) -> None:
    """A little of everything: alerts, corrections, a retraction, revisions, sources,
    reactions (one removed, leaving an id gap), subscriptions in every state, a digest
    delivery, a sent delivery with its message id, and guild settings."""
    await subscribe(store, scope, 4001, now=NOW)
    await subscribe(store, scope, 4002, mode="both", timezone="Asia/Seoul", now=NOW)
    await subscribe(store, scope, 4003, categories="icbm", now=NOW)
    await set_subscription_state(store, scope, 4003, "broken", "50013 Missing Permissions")
    first = await add_event(
        store,
        scope,
        {
            "date": "2024-01-24",
            "category": "cruise_missile",
            "count": 2,
            "launch_site": "Kim Chaek",
            "distance_km": 1380.5,
            "latitude": 40.67,
            "longitude": 129.2,
            "summary": "Cruise missiles off the west coast.",
            "sources": [SOURCE],
            "confidence": "confirmed",
        },
        now=NOW,
    )
    second = await add_event(
        store, scope, {"date": "2024-01", "category": "srbm", "summary": "Reported."}, now=NOW
    )
    await add_event(
        store,
        scope,
        {"date": "2024-01-25T10:22Z", "category": "icbm", "summary": "Timed."},
        alert=False,
        now=NOW,
    )
    await edit_event(store, scope, first.id, "distance_km", 1500, now=NOW)
    await edit_event(store, scope, first.id, "summary", "Strategic cruise missiles.", now=NOW)
    await add_source(store, scope, second.id, {"url": None, "publisher": "KCNA"}, now=NOW)
    await retract_event(store, scope, second.id, "a misreading of radar tracks", now=NOW)
    said = {"actor": "Japan", "stance": "condemns", "summary": "Protest lodged."}
    await add_reaction(store, scope, {**said, "event_id": first.id, "said_on": "2024-01-24"})
    gone = await add_reaction(store, scope, {**said, "event_id": first.id})
    await remove_reaction(store, scope, gone.id)
    await add_reaction(
        store,
        scope,
        {
            "actor": "Ankit Panda",
            "actor_kind": "analyst",
            "stance": "assessment",
            "summary": "A pattern of testing.",
            "since": "2024-01",
            "until": "2024-02-02",
            "sources": [SOURCE],
        },
    )
    await queue_test_alert(store, scope, 4001, now=NOW)
    await _feeds_and_drafts(store, scope)
    async with store.transaction() as q:
        pending = await q.deliveries.claim("9999", "9999", 1)
        await q.deliveries.update(
            pending[0].id,
            status="sent",
            message_id=1300000000000000777,
            sent_at="2024-02-05T12:00Z",
        )
    await update_settings(
        store,
        GUILD,
        moderator_role_ids=[1300000000000000001],
        default_actor="DPRK",
        timezone="Asia/Seoul",
    )


async def _feeds_and_drafts(store: Store, scope: Scope) -> None:
    """A watched feed with a seen item, a draft, the watch terms and the review channel."""
    from bot.services.drafts import draft_text, set_review_channel
    from bot.services.feeds import add_feed, change_watch_terms
    from db.feeds import FeedQueries

    feed = await add_feed(store, scope, "https://news.example/rss", now=NOW)
    async with store.transaction() as q:
        await FeedQueries(q.conn).mark_seen(feed.id, "guid:1", "A launch", True, "2024-02-05")
    await draft_text(
        store, scope, "North Korea fired a cruise missile on 4 February 2024.",
        NOW.date(), origin="text", now=NOW,
    )  # fmt: skip
    await change_watch_terms(store, scope, add="Hwasong")
    await set_review_channel(store, scope, 4002)


async def dump(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in key order."""
    out = {}
    async with store.read() as q:
        for table, key in TABLES:
            out[table] = await q.conn.fetchall(f"SELECT * FROM {table} ORDER BY {key}")
    return out


@pytest.fixture
async def seeded(store: Store, scope: Scope) -> Store:
    await seed(store, scope)
    return store


@pytest.fixture(params=BACKENDS)
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database of either kind (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'target.db'}"
        return
    async with postgres_schema() as schema:
        yield postgres_test_url(search_path=schema)


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[Store]:
    store = await open_store(target_url)
    try:
        yield store
    finally:
        await store.close()


async def test_copy_keeps_every_row_and_id(seeded: Store, target: Store) -> None:
    """Each table arrives row for row, ids and revisions included; progress names each."""
    seen: list[tuple[str, int]] = []

    copied = await copy_store(seeded, target, lambda t, n: seen.append((t, n)))

    before, after = await dump(seeded), await dump(target)
    assert after == before
    assert copied == {t: len(rows) for t, rows in before.items()} == await count_rows(target)
    assert seen == list(copied.items())
    assert all(copied[t] for t in ("event", "event_revision", "reaction", "source", "delivery"))
    assert {r["revision"] for r in before["event_revision"]} >= {1, 2, 3}
    assert {r["kind"] for r in before["delivery"]} >= {"alert", "correction", "retraction"}


async def test_new_rows_after_a_copy_get_fresh_ids(
    seeded: Store, target: Store, scope: Scope
) -> None:
    """The id sequences continue after the copied rows (PostgreSQL: reset after copying)."""
    await copy_store(seeded, target)
    before = await dump(target)

    event = await add_event(target, scope, {"date": "2024-03", "category": "icbm", "summary": "n"})
    reaction = await add_reaction(
        target,
        scope,
        {"actor": "China", "stance": "concerned", "summary": "c", "event_id": event.id},
    )

    assert event.id == max(r["id"] for r in before["event"]) + 1
    assert reaction.id == max(r["id"] for r in before["reaction"]) + 1


async def test_copy_in_small_batches(seeded: Store, target: Store) -> None:
    """Tables bigger than a batch are read in pieces without losing or repeating a row."""
    await copy_store(seeded, target, batch=2)

    assert await dump(target) == await dump(seeded)


async def test_a_non_empty_target_is_refused(seeded: Store, target: Store, scope: Scope) -> None:
    """Copying over existing data would mix two stores' ids: refused, nothing written."""
    await subscribe(target, scope, 9001, now=NOW)
    before = await dump(target)

    with pytest.raises(CopyRefused, match="not empty"):
        await copy_store(seeded, target)

    assert await dump(target) == before


async def test_an_older_source_schema_is_refused(target: Store, tmp_path: Path) -> None:
    """A source behind the target's schema must be upgraded first."""
    source = await open_store(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
    try:
        with pytest.raises(CopyRefused, match="holds no LaunchWatch store"):
            await copy_store(source, target)
        await source.migrate()
        async with source.transaction() as q:
            await q.conn.execute("DELETE FROM schema_version WHERE version > 1")
        with pytest.raises(CopyRefused, match="db upgrade"):
            await copy_store(source, target)
    finally:
        await source.close()


async def test_copy_database_by_url(target_url: str, tmp_path: Path, scope: Scope) -> None:
    """From URLs: the target is created and migrated; a missing SQLite source is refused
    without creating the file."""
    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    source = await open_store(source_url)
    try:
        await seed(source, scope)
        expected = await dump(source)
    finally:
        await source.close()

    copied = await copy_database(source_url, target_url)

    target = await open_store(target_url, migrate=False)
    try:
        assert await dump(target) == expected
    finally:
        await target.close()
    assert sum(copied.values()) == sum(len(rows) for rows in expected.values())
    missing = tmp_path / "missing.db"
    with pytest.raises(CopyRefused, match="no SQLite file"):
        await copy_database(f"sqlite:///{missing}", target_url)
    assert not missing.exists()


def test_cli_copy_prints_tables_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`db copy` prints a line per table and a summary; a second copy is refused (exit 1)."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith(("LAUNCHWATCH_", "DISCORD_"))]:
        monkeypatch.delenv(name)
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["db", "seed", "--example", "--guild", str(GUILD)]) == 0  # default store
    capsys.readouterr()

    assert main(["db", "copy", "--from", "sqlite:///launchwatch.db", "--to", source]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:-1]] == [t for t, _ in TABLES]
    assert out[0].split()[1:] == ["4", "rows"]
    assert (
        out[-1].startswith("Copied ") and f"{len(TABLES)} tables" in out[-1] and source in out[-1]
    )

    assert main(["db", "copy", "--from", source, "--to", target]) == 0
    capsys.readouterr()
    assert main(["db", "copy", "--from", source, "--to", target]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Nothing copied: ") and "not empty" in err


def test_redact_hides_passwords() -> None:
    assert redact("postgresql://bot:s3cret@db.example:5432/lw") == (
        "postgresql://bot:***@db.example:5432/lw"
    )
    assert redact("postgresql://bot@db/lw") == "postgresql://bot@db/lw"
    assert redact("sqlite:///launchwatch.db") == "sqlite:///launchwatch.db"
