"""The claimed distance in the store and in files: written on both backends, exported
beside the assessed distance, imported back, and a change of it is a correction."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.models import EDITABLE_FIELDS, FACT_FIELDS
from bot.services import Scope, TimelineFilter, add_event, edit_event, list_events, subscribe
from bot.transfer import export_data, import_file
from db import Store
from tests.conftest import OTHER_GUILD

LAUNCH = {
    "date": "2024-03-18",
    "category": "irbm",
    "summary": "One IRBM over the sea.",
    "external_id": "sheet:1",
    "distance_km": 1000,
    "claimed_distance_km": 1200.5,
}


async def deliveries(store: Store) -> list[tuple[str, int | None]]:
    async with store.read() as q:
        rows = await q.conn.fetchall("SELECT kind, revision FROM delivery ORDER BY id")
    return [(r["kind"], r["revision"]) for r in rows]


async def test_it_is_stored_and_read_back_on_both_backends(store: Store, scope: Scope) -> None:
    added = await add_event(store, scope, LAUNCH)

    [stored] = await list_events(store, scope, TimelineFilter())
    assert added.claimed_distance_km == stored.claimed_distance_km == 1200.5
    async with store.read() as q:
        [row] = await q.conn.fetchall("SELECT distance_km, claimed_distance_km FROM event")
    assert (row["distance_km"], row["claimed_distance_km"]) == (1000, 1200.5)


def test_moderators_edit_it_and_a_change_is_a_fact() -> None:
    assert EDITABLE_FIELDS.index("claimed_distance_km") == EDITABLE_FIELDS.index("distance_km") + 1
    assert "claimed_distance_km" in FACT_FIELDS


async def test_exports_carry_it_beside_the_distance(store: Store, scope: Scope) -> None:
    await add_event(store, scope, LAUNCH)

    rows = list(csv.DictReader(io.StringIO(await export_data(store, scope, "csv"))))
    header = list(rows[0])
    assert header[header.index("distance_km") + 1] == "claimed_distance_km"
    assert float(rows[0]["claimed_distance_km"]) == 1200.5
    [event] = json.loads(await export_data(store, scope, "json"))["events"]
    assert event["claimed_distance_km"] == 1200.5


async def test_an_export_imported_elsewhere_keeps_it(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    await add_event(store, scope, LAUNCH)
    other = Scope(OTHER_GUILD)
    for fmt in ("csv", "json"):
        path = tmp_path / f"events.{fmt}"
        path.write_text(await export_data(store, scope, fmt), encoding="utf-8", newline="")

        report = await import_file(store, other, path, fmt)

        assert report.imported + report.unchanged == 1 and not report.problems
        [event] = await list_events(store, other, TimelineFilter())
        assert event.claimed_distance_km == 1200.5


async def test_an_imported_change_of_it_sends_a_correction(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A file that changes only the claim updates the event and, with alerts on, corrects
    the channels that got the alert."""
    await subscribe(store, scope, 501)
    added = await add_event(store, scope, LAUNCH)
    path = tmp_path / "events.csv"
    text = await export_data(store, scope, "csv")
    path.write_text(text.replace("1200.5", "1300.0"), encoding="utf-8", newline="")

    report = await import_file(store, scope, path, "csv", alert=True)

    assert report.updated == 1
    [event] = await list_events(store, scope, TimelineFilter())
    assert event.claimed_distance_km == 1300.0
    assert await deliveries(store) == [("alert", 1), ("correction", 2)]
    assert added.revision == 1


async def test_editing_only_the_claim_queues_a_correction(store: Store, scope: Scope) -> None:
    await subscribe(store, scope, 501)
    added = await add_event(store, scope, LAUNCH)

    event, changed = await edit_event(store, scope, added.id, "claimed_distance_km", "900")

    assert changed == ["claimed_distance_km"] and event.claimed_distance_km == 900
    assert await deliveries(store) == [("alert", 1), ("correction", 2)]
