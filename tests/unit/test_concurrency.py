"""Two processes changing the same event at once take turns instead of colliding.

Each test opens two stores on one database (two PostgreSQL pools on one schema, or two
SQLite stores on one file): as two bot processes would. Twenty changes are started
together, half through each store, so that many read the event before any commits;
without the locks (`Queries.get_event_for_update`, `Queries.lock_external_ids`) edits
build on the same revision and imports of one new id both pass the existence check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import ValidationError
from bot.models import Event
from bot.services import (
    Scope,
    TimelineFilter,
    add_event,
    add_source,
    edit_event,
    event_history,
    get_event,
    list_events,
)
from bot.transfer import import_file
from db import Store, open_store
from tests.conftest import BACKENDS, postgres_schema, postgres_test_url

#: Changes started at once: enough that, unlocked, some always overlap.
AT_ONCE = 20

Stores = tuple[Store, Store]


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """Two stores on one freshly migrated database, each with connections of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        first = await open_store(url)
        second = await open_store(url)
        try:
            yield first, second
        finally:
            await second.close()
            await first.close()
        return
    from db.postgres import PostgresStore

    async with postgres_schema() as schema:
        first = await PostgresStore.open(postgres_test_url(), schema=schema, max_size=AT_ONCE)
        second = await PostgresStore.open(postgres_test_url(), schema=schema, max_size=AT_ONCE)
        try:
            await first.migrate()
            await asyncio.gather(_connect_all(first), _connect_all(second))
            yield first, second
        finally:
            await second.close()
            await first.close()


async def _connect_all(store: Store, count: int = AT_ONCE // 2) -> None:
    """Have the pool open its connections now: opened during the race, they would
    stagger its start, letting the first change commit before the last one reads."""
    everyone = asyncio.Barrier(count)

    async def hold() -> None:
        async with store.read() as q:
            await q.conn.fetchone("SELECT 1 AS one")
            await everyone.wait()

    await asyncio.gather(*(hold() for _ in range(count)))


async def launch(store: Store, scope: Scope, **extra: str) -> Event:
    raw = {"date": "2024-02-14", "category": "cruise_missile", "summary": "Two missiles", **extra}
    return await add_event(store, scope, raw, alert=False)


async def test_concurrent_edits_each_take_the_next_revision(stores: Stores, scope: Scope) -> None:
    """Twenty summary edits at once from two processes: revisions 2 to 21, once each,
    every edit's `old` being the summary the edit before it left (none lost)."""
    event = await launch(stores[0], scope)
    summaries = [f"Two missiles, per report {n}" for n in range(AT_ONCE)]

    await asyncio.gather(
        *(
            edit_event(stores[n % 2], scope, event.id, "summary", text)
            for n, text in enumerate(summaries)
        )
    )

    history = [r for r in await event_history(stores[1], scope, event.id) if r.field == "summary"]
    assert sorted(r.revision for r in history) == list(range(2, AT_ONCE + 2))
    history.sort(key=lambda r: r.revision)
    assert [r.old for r in history] == ["Two missiles", *(r.new for r in history[:-1])]
    assert sorted(r.new or "" for r in history) == sorted(summaries)
    final = await get_event(stores[0], scope, event.id)
    assert (final.revision, final.summary) == (AT_ONCE + 1, history[-1].new)


async def test_concurrent_sources_are_all_kept(stores: Stores, scope: Scope) -> None:
    """Sources added at once from two processes are all kept: none overwrites another's."""
    event = await launch(stores[0], scope)
    urls = [f"https://www.yna.co.kr/view/AEN2024021400{n:02d}" for n in range(AT_ONCE // 2)]

    await asyncio.gather(
        *(add_source(stores[n % 2], scope, event.id, {"url": u}) for n, u in enumerate(urls))
    )

    final = await get_event(stores[1], scope, event.id)
    assert sorted(s.url for s in final.sources) == sorted(urls)
    assert final.revision == len(urls) + 1


async def test_concurrent_imports_of_one_new_id_add_one_event(
    stores: Stores, scope: Scope, tmp_path: Path
) -> None:
    """Twenty imports at once of a file holding one new external id add exactly one event;
    every other import finishes with its report, the row accounted for, never an error."""
    path = tmp_path / "in.json"
    row = {"external_id": "sheet:7", "occurred_on": "2024-02-14", "category": "icbm"}
    path.write_text(json.dumps({"events": [{**row, "summary": "One ICBM"}]}), encoding="utf-8")

    reports = await asyncio.gather(
        *(import_file(stores[n % 2], scope, path, "json") for n in range(AT_ONCE))
    )

    events = await list_events(stores[0], scope, TimelineFilter())
    assert [e.external_id for e in events] == ["sheet:7"]
    assert sum(r.imported for r in reports) == 1
    for report in reports:
        assert report.imported + report.unchanged + report.skipped == 1
        assert all(reason.startswith("external_id:") for _, reason in report.problems)


async def test_concurrent_edits_to_one_external_id_give_it_to_one_event(
    stores: Stores, scope: Scope
) -> None:
    """Twenty events given the same new external id at once: one gets it, the others are
    refused with a reason (not a database error) and keep their own."""
    events = [await launch(stores[0], scope, summary=f"Launch {n}") for n in range(AT_ONCE)]

    results = await asyncio.gather(
        *(
            edit_event(stores[n % 2], scope, e.id, "external_id", "sheet:9")
            for n, e in enumerate(events)
        ),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, ValidationError) for r in refused), refused
    assert len(refused) == AT_ONCE - 1
    stored = await list_events(stores[1], scope, TimelineFilter())
    assert sorted((e.external_id or "") for e in stored) == [""] * (AT_ONCE - 1) + ["sheet:9"]


def test_lock_keys_are_the_same_in_every_process() -> None:
    """Every process (and every release, during a rolling restart) must derive the same
    advisory-lock key for an external id, or their imports would not wait for each other:
    the key is a fixed digest, not Python's `hash()`, which is salted per process."""
    from db.postgres import lock_key

    assert lock_key("external_id:1200000000000000001:sheet:7") == 5880303013940050136
