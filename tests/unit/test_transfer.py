"""Import and export: the CNS database's awkward CSV, our own CSV and JSON, idempotence."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.embeds import embed
from bot.models import CATEGORIES, PLATFORMS, Event
from bot.services import (
    Scope,
    TimelineFilter,
    add_event,
    add_reaction,
    event_history,
    list_events,
    reactions,
    retract_event,
    subscribe,
)
from bot.services.reactions import all_reactions
from bot.transfer import ImportReport, UnreadableFile, export_data, import_file
from bot.transfer.cns import full_year
from bot.transfer.records import EVENT_FIELDS
from db import Store, open_store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD

FIXTURES = Path(__file__).parent.parent / "fixtures"
CP1252 = FIXTURES / "cns_sample_cp1252.csv"
UTF8 = FIXTURES / "cns_sample_utf8.csv"
BAD_FIELDS = FIXTURES / "cns_bad_fields.csv"
STORE_ASSIGNED = ("id", "guild_id", "created_by", "created_at", "updated_at", "revision")


async def _events(store: Store, scope: Scope) -> dict[str, Event]:
    own = Scope(scope.guild_id)
    return {e.external_id or "": e for e in await list_events(store, own, TimelineFilter())}


async def _deliveries(store: Store) -> int:
    async with store.read() as q:
        return await q.deliveries.count()


@pytest.fixture
async def cns_events(store: Store, scope: Scope) -> dict[str, Event]:
    """The cp1252 sample, imported once."""
    await import_file(store, scope, CP1252, "cns")
    return await _events(store, scope)


# -- the CNS database's formats -------------------------------------------------------------
async def test_cns_cp1252_file_with_multiline_cell(cns_events: dict[str, Event]) -> None:
    """A cp1252 CRLF export keeps its curly quotes and a notes cell spanning three lines."""
    assert cns_events["cns:1"].summary == (
        "First test \u2018Scud-B\u2019 series.\nSecond line of notes.\nThird line \u2013 end."
    )


async def test_cns_day_date_with_19xx_year(cns_events: dict[str, Event]) -> None:
    """`9-Apr-84` becomes the day 1984-04-09."""
    event = cns_events["cns:1"]
    assert (event.occurred_on, event.date_precision) == ("1984-04-09", "day")


async def test_cns_month_only_date(cns_events: dict[str, Event]) -> None:
    """`Sep-84` stays a month: 1984-09, not a made-up first of September."""
    event = cns_events["cns:2"]
    assert (event.occurred_on, event.date_precision) == ("1984-09", "month")


async def test_cns_twelve_hour_times(cns_events: dict[str, Event]) -> None:
    """`10:22:00 PM` and `12:49:00 AM` (UTC) become exact minutes on a 20xx day."""
    evening, night = cns_events["cns:3"], cns_events["cns:5"]
    assert evening.date_precision == "minute"
    assert evening.date.iso() == "2017-07-04T22:22Z"
    assert night.date.iso() == "2012-12-12T00:49Z"


def test_two_digit_years_pivot_on_this_year() -> None:
    """Two-digit years above this year's two digits are 19xx, the others 20xx."""
    today = date(2026, 11, 25)
    assert [full_year(y, today) for y in ("84", "27", "26", "17", "00")] == [
        1984,
        1927,
        2026,
        2017,
        2000,
    ]


async def test_cns_distances_with_thousands_separators(cns_events: dict[str, Event]) -> None:
    """`1,380 km` and `2,802 km` are read as 1380 and 2802 kilometres."""
    event = cns_events["cns:3"]
    assert (event.distance_km, event.apogee_km) == (1380.0, 2802.0)


async def test_cns_unknown_and_na_mean_empty(cns_events: dict[str, Event]) -> None:
    """`Unknown`, `unknown`, `N/A` and blank cells leave fields empty, not literal text."""
    first, second = cns_events["cns:1"], cns_events["cns:2"]
    assert (first.apogee_km, first.distance_km, first.date_precision) == (None, None, "day")
    assert (second.launch_site, second.latitude, second.longitude) == (None, None, None)


async def test_cns_bad_row_reported_by_line_rest_imported(store: Store, scope: Scope) -> None:
    """A row with an impossible date is named by its line; the other rows still import.
    (Line 2 notes the file's cp1252: see test_file_text.py.)"""
    report = await import_file(store, scope, CP1252, "cns")
    assert report.problems[1:] == [(8, "Date: '31-Feb-17' is not a real calendar date.")]
    assert (report.imported, report.skipped) == (4, 1)
    assert report.summary() == "imported 4, updated 0, skipped 1, unchanged 0, warned 0"


async def test_cns_utf8_with_bom_and_lf(store: Store, scope: Scope) -> None:
    """A UTF-8 export (BOM, LF) keeps Korean text; ISO dates and 24-hour times also read."""
    report = await import_file(store, scope, UTF8, "cns")
    events = await _events(store, scope)
    assert report.problems == []
    assert events["cns:10"].name == "Hwasong-18 (화성-18)"
    assert events["cns:10"].distance_km == 1500.0
    assert events["cns:11"].date.iso() == "2024-02-14T06:40Z"


async def test_cns_missile_types_map_to_categories(store: Store, scope: Scope) -> None:
    """SLV files as space_launch, Cruise Missile as cruise_missile, ICBM as icbm."""
    await import_file(store, scope, CP1252, "cns")
    await import_file(store, scope, UTF8, "cns")
    events = await _events(store, scope)
    assert [events[k].category for k in ("cns:5", "cns:10", "cns:3")] == [
        "space_launch",
        "cruise_missile",
        "icbm",
    ]


async def test_cns_confirmed_only_with_a_source(cns_events: dict[str, Event]) -> None:
    """A Confirmed row citing a source is confirmed; one citing nothing is only reported."""
    assert cns_events["cns:2"].confidence == "confirmed"
    assert cns_events["cns:5"].confidence == "reported"


async def test_cns_sources_split_into_urls_and_citations(cns_events: dict[str, Event]) -> None:
    """A Source(s) cell with a URL and a citation on two lines gives two sources."""
    sources = [(s.url, s.title) for s in cns_events["cns:3"].sources]
    assert sources == [("https://a.example/one", None), (None, "KCNA statement, 5 July 2017")]


async def test_cns_empty_notes_get_a_generated_summary(cns_events: dict[str, Event]) -> None:
    """A row without Additional Information still gets a readable one-line summary."""
    summary = cns_events["cns:5"].summary
    assert "Unha-3" in summary and "Sohae Satellite Launching Station" in summary


async def test_cns_outcomes(cns_events: dict[str, Event]) -> None:
    """Test Outcome Success and Failure carry over; the scope's guild owns every event."""
    assert [cns_events[k].outcome for k in ("cns:1", "cns:2")] == ["success", "failure"]
    assert {e.guild_id for e in cns_events.values()} == {GUILD}


# -- files that cannot be read ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "fmt", "says"),
    [
        (None, "cns", "does not exist"),
        (b"PK\x03\x04rest-of-a-workbook", "cns", "save the sheet as CSV"),
        (b"id,external_id,occurred_on,category,summary\r\n", "cns", "no CNS header"),
        (b"F1,Date,Missile Type\r\n1,9-Apr-84,SRBM\r\n", "csv", "choose the cns format"),
        (b'{"events": [', "json", "not valid JSON"),
        (b'{"things": []}', "json", 'no "events"'),
    ],
)
async def test_unreadable_file_says_why_and_imports_nothing(
    store: Store, scope: Scope, tmp_path: Path, content: bytes | None, fmt: Any, says: str
) -> None:
    """A missing, binary, headerless or broken file is refused whole, with the fix."""
    path = tmp_path / "input"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=says):
        await import_file(store, scope, path, fmt)
    assert await _events(store, scope) == {}


# -- idempotence and updates ------------------------------------------------------------------
async def test_reimport_changes_nothing(store: Store, scope: Scope) -> None:
    """Importing the same file twice: the second run finds every row unchanged."""
    await import_file(store, scope, CP1252, "cns")
    before = await _events(store, scope)
    report = await import_file(store, scope, CP1252, "cns")
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 4)
    assert await _events(store, scope) == before


async def test_edited_row_updates_with_revision(store: Store, scope: Scope, tmp_path: Path) -> None:
    """A newer release with a corrected distance updates that event and records the change."""
    await import_file(store, scope, CP1252, "cns")
    edited = tmp_path / "newer.csv"
    edited.write_bytes(CP1252.read_bytes().replace(b'"1,380 km"', b'"1,400 km"'))
    report = await import_file(store, scope, edited, "cns")
    event = (await _events(store, scope))["cns:3"]
    history = await event_history(store, scope, event.id)
    assert (report.updated, report.unchanged) == (1, 3)
    assert event.distance_km == 1400.0
    assert [(r.revision, r.field, r.old, r.new) for r in history][-1] == (
        2,
        "distance_km",
        "1380.0",
        "1400.0",
    )


# -- alerts -----------------------------------------------------------------------------------
async def test_import_alerts_nobody_by_default(store: Store, scope: Scope) -> None:
    """Importing history into a server with a subscribed channel queues no alerts."""
    await subscribe(store, scope, 4001)
    await import_file(store, scope, CP1252, "cns")
    assert await _deliveries(store) == 0


async def test_import_with_alert_queues_alerts(store: Store, scope: Scope) -> None:
    """With alert=True each imported event is queued for the subscribed channel."""
    await subscribe(store, scope, 4001)
    await import_file(store, scope, CP1252, "cns", alert=True)
    assert await _deliveries(store) == 4


# -- our own formats --------------------------------------------------------------------------
async def test_import_goes_to_acting_guild(store: Store, scope: Scope, tmp_path: Path) -> None:
    """Another server's export lands in the importing server, whatever guild it names."""
    await import_file(store, scope, CP1252, "cns")
    path = tmp_path / "export.json"
    path.write_text(await export_data(store, scope, "json"), encoding="utf-8")
    other = Scope(OTHER_GUILD, MODERATOR)
    report = await import_file(store, other, path, "json")
    assert report.imported == 4
    assert {e.guild_id for e in (await _events(store, other)).values()} == {OTHER_GUILD}


async def test_reimport_own_export_into_same_server(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """Re-importing a server's own export (events without external_id) duplicates nothing."""
    await add_event(
        store, scope, {"date": "2024-01-25", "category": "srbm", "summary": "x"}, alert=False
    )
    path = tmp_path / "export.csv"
    path.write_text(await export_data(store, scope, "csv"), encoding="utf-8", newline="")
    report = await import_file(store, scope, path, "csv")
    assert (report.imported, report.unchanged, report.problems) == (0, 1, [])


async def test_json_bad_event_reported_at_its_line(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """In JSON, a bad event is reported at the line its object starts; the others import."""
    good = {"external_id": "a:1", "occurred_on": "2024-01", "category": "icbm", "summary": "s"}
    bad = {**good, "external_id": "a:2", "category": "warp_drive"}
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"events": [good, bad]}, indent=2), encoding="utf-8")
    report = await import_file(store, scope, path, "json")
    assert report.imported == 1
    assert [(line, reason.split(":")[0]) for line, reason in report.problems] == [(9, "category")]


async def test_csv_row_without_external_id_is_reported(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A hand-made CSV row with no external_id is refused, so re-imports cannot duplicate it."""
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,occurred_on,category,summary\n,2024-01-25,srbm,one\nb:2,2024,icbm,two\n",
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    assert report.imported == 1
    assert [line for line, _ in report.problems] == [2]


async def test_reaction_to_unknown_event_is_reported(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A reaction naming an event neither in the file nor the server is skipped, by line."""
    reaction = {"event_external_id": "cns:999", "actor": "Japan", "stance": "condemns"}
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"reactions": [{**reaction, "summary": "s"}]}), encoding="utf-8")
    report = await import_file(store, scope, path, "json")
    assert report.skipped == 1
    assert report.problems[0][0] == 1 and "cns:999" in report.problems[0][1]


async def test_changed_reaction_is_reported_not_overwritten(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A reaction stored here with another quote is reported; reactions are not overwritten."""
    event = await add_event(
        store, scope, {"external_id": "e:1", "date": "2024", "category": "icbm", "summary": "s"}
    )
    said = {"actor": "Japan", "stance": "condemns", "summary": "Protested.", "quote": "Old."}
    await add_reaction(store, scope, {**said, "event_id": event.id})
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps({"reactions": [{**said, "quote": "New.", "event_external_id": "e:1"}]}),
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "json")
    assert (report.skipped, report.imported) == (1, 0)
    assert [r.quote for r in await all_reactions(store, scope)] == ["Old."]


async def test_unknown_csv_column_is_noted_and_ignored(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A column LaunchWatch does not know is named once in the report; the rows import."""
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,occurred_on,category,summary,colour\na:1,2024,srbm,one,red\n",
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    assert (report.imported, report.skipped) == (1, 0)
    assert report.problems == [(1, "ignored colour: not a LaunchWatch field.")]


async def test_retracted_event_round_trips_without_alerting(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A retracted event comes back retracted with its reason and alerts nobody."""
    event = await add_event(
        store, scope, {"date": "2024-03", "category": "irbm", "summary": "s"}, alert=False
    )
    await retract_event(store, scope, event.id, "Misidentified aircraft.")
    path = tmp_path / "export.json"
    path.write_text(await export_data(store, scope, "json"), encoding="utf-8")
    other = Scope(OTHER_GUILD, MODERATOR)
    await subscribe(store, other, 4002)
    await import_file(store, other, path, "json", alert=True)
    (copy,) = (await _events(store, other)).values()
    assert (copy.confidence, copy.retraction_reason) == ("retracted", "Misidentified aircraft.")
    assert await _deliveries(store) == 0


async def test_import_leaves_retracted_event_alone(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A row for an event this server retracted is reported instead of reopening it."""
    await import_file(store, scope, CP1252, "cns")
    event = (await _events(store, scope))["cns:2"]
    await retract_event(store, scope, event.id, "Duplicate of another row.")
    report = await import_file(store, scope, CP1252, "cns")
    assert report.unchanged == 3
    assert [line for line, _ in report.problems] == [2, 5, 8]  # 2: the file is cp1252
    assert (await _events(store, scope))["cns:2"].retracted


# -- a bad field costs only that field -------------------------------------------------------
def _warned(report: ImportReport) -> list[tuple[int, str, str | None]]:
    """Each warning as (line, field as the file names it, confidence it was demoted from)."""
    return [(w.line, w.field, w.demoted_from) for w in report.warnings]


async def _history(store: Store, scope: Scope, event: Event) -> list[tuple[str, Any, Any]]:
    return [(r.field, r.old, r.new) for r in await event_history(store, scope, event.id)]


async def test_cns_bad_field_imports_the_row_without_it(store: Store, scope: Scope) -> None:
    """An unreadable latitude costs the latitude, not the launch: the row is in, with a warning."""
    report = await import_file(store, scope, BAD_FIELDS, "cns")
    event = (await _events(store, scope))["cns:20"]
    assert (event.name, event.latitude, event.longitude) == ("Scud-ER", None, 125.5)
    (warning,) = [w for w in report.warnings if w.line == 2]
    assert warning.field == "Facility Latitude" and "'39.1 N-ish'" in warning.reason


async def test_only_a_bad_date_or_category_skips_the_row(store: Store, scope: Scope) -> None:
    """Of five rows with bad cells, only the unknown Missile Type is skipped; four warn."""
    report = await import_file(store, scope, BAD_FIELDS, "cns")
    assert [line for line, _ in report.problems] == [5]
    assert report.problems[0][1].startswith("Missile Type: 'Directed Energy'")
    assert sorted(await _events(store, scope)) == ["cns:20", "cns:21", "cns:22", "cns:24"]
    assert _warned(report) == [
        (2, "Facility Latitude", None),
        (3, "Source(s)", None),
        (3, "Confirmation Status", "confirmed"),
        (4, "Launch Time (UTC)", None),
    ]
    assert report.summary() == "imported 4, updated 0, skipped 1, unchanged 0, warned 3"


async def test_cns_bad_launch_time_keeps_the_day(store: Store, scope: Scope) -> None:
    """A launch time of `25:61` is left out: the launch is kept on its day."""
    await import_file(store, scope, BAD_FIELDS, "cns")
    event = (await _events(store, scope))["cns:22"]
    assert (event.date.iso(), event.date_precision) == ("2016-04-24", "day")


async def test_json_bad_fields_import_the_event_without_them(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """In our JSON, a count of "several" and a platform of "bicycle" are left out, each warned."""
    row = {
        "external_id": "a:1", "occurred_on": "2024-01", "category": "icbm", "summary": "s",
        "name": "Hwasong-18", "count": "several", "platform": "bicycle",
    }  # fmt: skip
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"events": [row]}, indent=2), encoding="utf-8")
    report = await import_file(store, scope, path, "json")
    event = (await _events(store, scope))["a:1"]
    assert (event.name, event.count, event.platform) == ("Hwasong-18", None, None)
    assert (report.imported, report.skipped, report.warned) == (1, 0, 1)
    assert _warned(report) == [(3, "count", None), (3, "platform", None)]


async def test_csv_bad_category_still_skips_the_row(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A category LaunchWatch does not know skips its row even when other fields are fine."""
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,occurred_on,category,summary,count\na:1,2024,warp_drive,one,2\n"
        "a:2,2024,icbm,two,lots\n",
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    assert [(line, reason.split(":")[0]) for line, reason in report.problems] == [(2, "category")]
    assert sorted(await _events(store, scope)) == ["a:2"]
    assert _warned(report) == [(3, "count", None)]


async def test_row_without_external_id_is_still_skipped(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A row with no external_id is refused as before, bad fields or not: no warning for it."""
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,occurred_on,category,summary,count\n,2024,srbm,one,lots\n",
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    assert (report.imported, report.skipped, report.warnings) == (0, 1, [])
    assert report.problems[0][0] == 2 and report.problems[0][1].startswith("external_id:")


# -- ranges and bounds ------------------------------------------------------------------------
async def test_cns_range_kept_as_upper_bound(store: Store, scope: Scope) -> None:
    """`between 25 and 90 km` and `25-30 km` keep their upper bound; `less than 100 km` its 100."""
    await import_file(store, scope, BAD_FIELDS, "cns")
    events = await _events(store, scope)
    assert (events["cns:20"].distance_km, events["cns:20"].apogee_km) == (90.0, 100.0)
    assert events["cns:22"].distance_km == 30.0
    assert (events["cns:24"].distance_km, events["cns:24"].apogee_km) == (60.0, 189.0)


async def test_cns_range_text_goes_in_the_change_log(store: Store, scope: Scope) -> None:
    """What the file said about a range, a bound or an estimate is an import note of the event."""
    await import_file(store, scope, BAD_FIELDS, "cns")
    events = await _events(store, scope)
    assert await _history(store, scope, events["cns:20"]) == [
        ("created", None, None),
        ("import_note", "apogee_km", "less than 100 km"),
        ("import_note", "distance_km", "between 25 and 90 km"),
    ]
    plain = await _history(store, scope, events["cns:21"])  # `800 km`: nothing to note
    assert plain == [("created", None, None)]


async def test_launch_shows_the_range_text(store: Store, scope: Scope) -> None:
    """/launch's change log, as the command renders it, shows the file's words for the figure."""
    await import_file(store, scope, BAD_FIELDS, "cns")
    event = (await _events(store, scope))["cns:20"]
    shown = embed(
        "commands/launch.j2",
        event=event,
        history=await event_history(store, scope, event.id),
        reactions=await reactions(store, scope, event_id=event.id),
    )
    (log,) = [f.value for f in shown.fields if (f.name or "").startswith("Change log")]
    assert "distance km imported from “between 25 and 90 km”" in (log or "")
    assert "apogee km imported from “less than 100 km”" in (log or "")


async def test_reimport_notes_a_range_only_when_its_text_changes(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """The same file again adds no note; a new release's wording of the range adds one."""
    await import_file(store, scope, BAD_FIELDS, "cns")
    event = (await _events(store, scope))["cns:20"]
    before = await _history(store, scope, event)
    again = await import_file(store, scope, BAD_FIELDS, "cns")
    assert (again.updated, again.unchanged) == (0, 4)
    assert await _history(store, scope, event) == before
    edited = tmp_path / "newer.csv"
    edited.write_bytes(BAD_FIELDS.read_bytes().replace(b"between 25 and 90 km", b"25 to 90 km"))
    report = await import_file(store, scope, edited, "cns")
    assert (report.updated, report.unchanged) == (1, 3)
    assert (await _history(store, scope, event))[-1] == (
        "import_note",
        "distance_km",
        "25 to 90 km",
    )
    assert (await _events(store, scope))["cns:20"].distance_km == 90.0


# -- sources and confidence -------------------------------------------------------------------
async def test_confirmed_row_with_unreadable_source_is_reported(store: Store, scope: Scope) -> None:
    """A Confirmed row whose only source is no web address comes in as reported, with a warning."""
    report = await import_file(store, scope, BAD_FIELDS, "cns")
    event = (await _events(store, scope))["cns:21"]
    assert (event.confidence, event.sources) == ("reported", ())
    assert (3, "Confirmation Status", "confirmed") in _warned(report)


async def test_csv_unreadable_sources_demote_a_confirmed_row(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """In our CSV, sources that are not a JSON list cost the sources; confirmed becomes reported."""
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,occurred_on,category,summary,confidence,sources\n"
        'a:1,2024,icbm,one,confirmed,"[{""url"": ""https://a.example/x"""\n',
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    event = (await _events(store, scope))["a:1"]
    assert (event.confidence, event.sources) == ("reported", ())
    assert _warned(report) == [(2, "sources", None), (2, "confidence", "confirmed")]


async def test_broken_url_costs_only_the_sources(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A URL that cannot even be parsed (`http://[oops`) is an unreadable source, not a crash."""
    row = {
        "external_id": "a:1", "occurred_on": "2024", "category": "icbm", "summary": "s",
        "sources": [{"url": "http://[oops"}],
    }  # fmt: skip
    path = tmp_path / "in.json"
    path.write_text(json.dumps([row]), encoding="utf-8")
    report = await import_file(store, scope, path, "json")
    assert (await _events(store, scope))["a:1"].sources == ()
    assert _warned(report) == [(1, "sources", None)]


# -- re-import: unknown is not empty ----------------------------------------------------------
async def test_reimport_keeps_a_stored_value_it_cannot_read(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A newer release with an unreadable latitude keeps the stored one, and still updates
    the distance it changed."""
    await import_file(store, scope, CP1252, "cns")
    edited = tmp_path / "newer.csv"
    edited.write_bytes(
        CP1252.read_bytes()
        .replace(b'"1,380 km"', b'"1,400 km"')
        .replace(b"40.0,125.2", b"forty north,125.2")
    )
    report = await import_file(store, scope, edited, "cns")
    event = (await _events(store, scope))["cns:3"]
    assert (event.latitude, event.longitude, event.distance_km) == (40.0, 125.2, 1400.0)
    assert (report.updated, report.unchanged, report.warned) == (1, 3, 1)
    assert _warned(report) == [(6, "Facility Latitude", None)]


async def test_reimport_keeps_the_stored_launch_time_and_sources(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """An unreadable time keeps the stored minute; an unreadable source keeps the stored
    sources, and with them the event stays confirmed."""
    await import_file(store, scope, CP1252, "cns")
    before = await _events(store, scope)
    edited = tmp_path / "newer.csv"
    edited.write_bytes(
        CP1252.read_bytes()
        .replace(b"10:22:00 PM", b"10:22:00 XM")
        .replace(b"https://www.nti.org/cns-db", b"https:///www.nti.org/cns-db")
    )
    report = await import_file(store, scope, edited, "cns")
    after = await _events(store, scope)
    assert after["cns:3"].date.iso() == "2017-07-04T22:22Z"
    assert (after["cns:2"].confidence, after["cns:2"].sources) == (
        "confirmed",
        before["cns:2"].sources,
    )
    assert (report.updated, report.unchanged) == (0, 4)
    assert _warned(report) == [(5, "Source(s)", None), (6, "Launch Time (UTC)", None)]


# -- round trips (Hypothesis) -----------------------------------------------------------------
_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
_TEXT = st.text(_CHARS, min_size=1, max_size=24).filter(lambda s: s.strip())
_OPTIONAL_TEXT = st.none() | _TEXT
_URL = st.from_regex(r"https://[a-z]{1,8}\.example/[A-Za-z0-9_\-/]{0,16}", fullmatch=True)


@st.composite
def _dates(draw: st.DrawFn, *, minute: bool = True) -> str:
    day = draw(st.dates(date(1950, 1, 1), date(2025, 12, 31)))
    precision = draw(st.sampled_from(["year", "month", "day", "minute"] if minute else ["day"]))
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return day.isoformat()[:7]
    if precision == "day":
        return day.isoformat()
    t = draw(st.times())
    zone = draw(st.sampled_from(["Z", "+09:00", "-05:30"]))
    return f"{day.isoformat()}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}{zone}"


_PARTIAL = st.one_of(
    st.integers(1950, 2025).map(str),
    _dates(minute=False).map(lambda d: d[:7]),
    _dates(minute=False),
)
_SOURCE = st.fixed_dictionaries(
    {},
    optional={
        "url": _URL,
        "publisher": _TEXT,
        "title": _TEXT,
        "published_on": _PARTIAL,
    },
).filter(lambda s: any(k in s for k in ("url", "publisher", "title")))


def _coordinate(bound: float) -> st.SearchStrategy[float | None]:
    return st.none() | st.floats(-bound, bound, allow_nan=False)


@st.composite
def _event_input(draw: st.DrawFn, index: int) -> tuple[dict[str, Any], str | None]:
    """Raw input for add_event, and a retraction reason (or None)."""
    sources = draw(st.lists(_SOURCE, max_size=3))
    raw: dict[str, Any] = {
        "external_id": draw(st.none() | _TEXT.map(lambda t: f"{t[:40]}#{index}")),
        "date": draw(_dates()),
        "actor": draw(_TEXT),
        "category": draw(st.sampled_from(CATEGORIES)),
        "name": draw(_OPTIONAL_TEXT),
        "count": draw(st.none() | st.integers(1, 10_000)),
        "platform": draw(st.none() | st.sampled_from(PLATFORMS)),
        "launch_site": draw(_OPTIONAL_TEXT),
        "latitude": draw(_coordinate(90)),
        "longitude": draw(_coordinate(180)),
        "landing_area": draw(_OPTIONAL_TEXT),
        "distance_km": draw(st.none() | st.floats(0, 100_000)),
        "apogee_km": draw(st.none() | st.floats(0, 100_000)),
        "outcome": draw(st.sampled_from(["success", "failure", "unknown"])),
        "claimed": draw(_OPTIONAL_TEXT),
        "overseen_by": draw(_OPTIONAL_TEXT),
        "region": draw(_TEXT),
        "summary": draw(st.text(_CHARS, min_size=1, max_size=80).filter(lambda s: s.strip())),
        "confidence": draw(
            st.sampled_from(["disputed", "reported", "confirmed"] if sources else ["reported"])
        ),
        "sources": sources,
    }
    return raw, draw(st.none() | _TEXT)


@st.composite
def _reaction_input(draw: st.DrawFn, events: int) -> dict[str, Any]:
    """Raw input for add_reaction; `event_index` (replaced by an id) or a since/until series."""
    raw: dict[str, Any] = {
        "actor": draw(_TEXT),
        "actor_kind": draw(
            st.sampled_from(["government", "military", "international_org", "analyst"])
        ),
        "stance": draw(st.sampled_from(["condemns", "concerned", "supports", "assessment"])),
        "summary": draw(_TEXT),
        "speaker": draw(_OPTIONAL_TEXT),
        "speaker_title": draw(_OPTIONAL_TEXT),
        "affiliation": draw(_OPTIONAL_TEXT),
        "quote": draw(_OPTIONAL_TEXT),
        "said_on": draw(st.none() | _PARTIAL),
        "sources": draw(st.lists(_SOURCE, max_size=2)),
    }
    if events and draw(st.booleans()):
        raw["event_index"] = draw(st.integers(0, events - 1))
    else:
        since, until = sorted(draw(st.lists(_dates(minute=False), min_size=2, max_size=2)))
        raw["since"], raw["until"] = since, draw(st.none() | st.just(until))
    return raw


_Dataset = tuple[list[tuple[dict[str, Any], str | None]], list[dict[str, Any]]]


@st.composite
def _dataset(draw: st.DrawFn, *, reactions: bool) -> _Dataset:
    count = draw(st.integers(0, 5))
    events = [draw(_event_input(i)) for i in range(count)]
    said = [draw(_reaction_input(count)) for _ in range(draw(st.integers(0, 4)))]
    return events, said if reactions else []


async def _fill(store: Store, scope: Scope, dataset: _Dataset) -> None:
    """Store the generated events (retracting some) and reactions through the services."""
    events, reactions = dataset
    ids = []
    for raw, reason in events:
        event = await add_event(store, scope, raw, alert=False)
        if reason is not None:
            await retract_event(store, scope, event.id, reason)
        ids.append(event.id)
    for raw in reactions:
        raw = dict(raw)
        if "event_index" in raw:
            raw["event_id"] = ids[raw.pop("event_index")]
        await add_reaction(store, scope, raw)


def _without(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


async def _round_trip(dataset: _Dataset, fmt: Any) -> None:
    """Build a store, export it, import into an empty one, and compare every field."""
    events, reactions = dataset
    folder = Path(tempfile.mkdtemp())
    first = await open_store(f"sqlite:///{folder / 'first.db'}")
    second = await open_store(f"sqlite:///{folder / 'second.db'}")
    try:
        source, target = Scope(GUILD, MODERATOR), Scope(OTHER_GUILD, MODERATOR)
        await _fill(first, source, dataset)
        path = folder / f"export.{fmt}"
        path.write_text(await export_data(first, source, fmt), encoding="utf-8", newline="")
        report = await import_file(second, target, path, fmt)
        assert report == ImportReport(len(events) + len(reactions), 0, 0, 0, [])

        before = await list_events(first, source, TimelineFilter())
        after = await list_events(second, target, TimelineFilter())
        key = {e.id: e.external_id or f"lw:{e.id}" for e in before}
        expected = [
            {**_without(e.as_record(), STORE_ASSIGNED), "external_id": key[e.id]} for e in before
        ]
        assert [_without(e.as_record(), STORE_ASSIGNED) for e in after] == expected

        new_key = {e.id: e.external_id for e in after}
        reaction_assigned = ("id", "guild_id", "created_by", "created_at", "event_id")

        def comparable(records: list[dict[str, Any]], keys: dict[int, Any]) -> list[Any]:
            return [
                {**_without(r, reaction_assigned), "event": keys.get(r["event_id"])}
                for r in records
            ]

        old_reactions = [r.as_record() for r in await all_reactions(first, source)]
        new_reactions = [r.as_record() for r in await all_reactions(second, target)]
        assert comparable(new_reactions, new_key) == comparable(old_reactions, key)
    finally:
        await first.close()
        await second.close()
        shutil.rmtree(folder, ignore_errors=True)


_ROUND_TRIP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_ROUND_TRIP
@given(_dataset(reactions=False))
def test_csv_round_trip_keeps_every_field(
    dataset: _Dataset,
) -> None:
    """Exporting to CSV and importing into an empty server reproduces every event field."""
    asyncio.run(_round_trip(dataset, "csv"))


@_ROUND_TRIP
@given(_dataset(reactions=True))
def test_json_round_trip_keeps_every_field(
    dataset: _Dataset,
) -> None:
    """Exporting to JSON and importing into an empty server reproduces events and reactions."""
    asyncio.run(_round_trip(dataset, "json"))


async def _reimport_into_same_server(dataset: _Dataset, fmt: Any) -> None:
    """Build a store, export it, and import that export back into the same server."""
    folder = Path(tempfile.mkdtemp())
    store = await open_store(f"sqlite:///{folder / 'store.db'}")
    try:
        scope = Scope(GUILD, MODERATOR)
        await _fill(store, scope, dataset)
        path = folder / f"export.{fmt}"
        path.write_text(await export_data(store, scope, fmt), encoding="utf-8", newline="")
        before = await list_events(store, scope, TimelineFilter())
        report = await import_file(store, scope, path, fmt)
        total = len(dataset[0]) + len(dataset[1])
        assert report == ImportReport(0, 0, 0, total, [])
        assert await list_events(store, scope, TimelineFilter()) == before
    finally:
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dataset(reactions=True), st.sampled_from(["csv", "json"]))
def test_reimporting_own_export_changes_nothing(dataset: _Dataset, fmt: str) -> None:
    """A server importing its own export finds every event and reaction unchanged."""
    if fmt == "csv":
        dataset = (dataset[0], [])
    asyncio.run(_reimport_into_same_server(dataset, fmt))


def test_csv_export_columns_are_the_record_fields() -> None:
    """The CSV columns are exactly an event record's fields, so no field is left out."""
    row: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
    row.update(occurred_on="2024", date_precision="year", revision=1)
    del row["sources"]
    assert tuple(Event.from_row(row).as_record()) == EVENT_FIELDS
