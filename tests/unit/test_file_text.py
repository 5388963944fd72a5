"""Bad text in an imported file: bytes that are not UTF-8, JSON nested too deep, numbers
too long to read. Each costs what it spoils and is said, by line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import Event
from bot.services import Scope, TimelineFilter, list_events
from bot.transfer import UnreadableFile, import_file
from db import Store

FIXTURES = Path(__file__).parent.parent / "fixtures"
CP1252 = FIXTURES / "cns_sample_cp1252.csv"
HEADER = "external_id,occurred_on,category,summary\r\n"
NOT_UTF8 = (
    "not UTF-8; read as Windows-1252 (cp1252): check its text, or save the file again as UTF-8."
)
KOREAN = "Seen from Gangneung \u2014 \uac15\ub989."


async def _events(store: Store, scope: Scope) -> dict[str, Event]:
    own = Scope(scope.guild_id)
    return {e.external_id or "": e for e in await list_events(store, own, TimelineFilter())}


def _row(key: str, summary: str) -> str:
    return f"{key},2024-01-02,srbm,{summary}\r\n"


# -- bytes that are not UTF-8 -------------------------------------------------------------------
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
async def test_one_cp1252_line_costs_no_other_line_its_utf8(
    store: Store, scope: Scope, tmp_path: Path, bom: bytes
) -> None:
    """A UTF-8 file (with or without BOM) with two lines saved as cp1252: the UTF-8 line keeps
    its Korean and dash, the others read as cp1252, and each of them is named."""
    path = tmp_path / "in.csv"
    path.write_bytes(
        bom
        + (HEADER + _row("a:1", KOREAN)).encode("utf-8")
        + _row("a:2", "Kim\u2019s statement.").encode("cp1252")
        + _row("a:3", "Plain.").encode("utf-8")
        + _row("a:4", "Caf\u00e9 \u2013 r\u00e9sum\u00e9.").encode("cp1252")
    )
    report = await import_file(store, scope, path, "csv")
    events = await _events(store, scope)
    assert [events[f"a:{n}"].summary for n in (1, 2, 4)] == [
        KOREAN,
        "Kim\u2019s statement.",
        "Caf\u00e9 \u2013 r\u00e9sum\u00e9.",
    ]
    assert report.problems == [(3, NOT_UTF8), (5, NOT_UTF8)]
    assert (report.imported, report.skipped) == (4, 0)


async def test_a_cp1252_file_is_said_once(store: Store, scope: Scope) -> None:
    """The CNS sample is cp1252 throughout (curly quotes on lines 2 and 4): one note names its
    first such line and the count; its text reads right."""
    report = await import_file(store, scope, CP1252, "cns")
    assert report.problems[0] == (
        2,
        "the first of 2 lines that are not UTF-8; all read as Windows-1252 (cp1252), "
        "as the whole file seems to be.",
    )
    assert [line for line, _ in report.problems] == [2, 8]  # 8: its bad date
    assert (await _events(store, scope))["cns:1"].summary.startswith(
        "First test \u2018Scud-B\u2019 series."
    )


async def test_a_utf8_file_has_no_encoding_note(store: Store, scope: Scope, tmp_path: Path) -> None:
    """Valid UTF-8 (the common case) says nothing about its encoding."""
    path = tmp_path / "in.csv"
    path.write_bytes((HEADER + _row("a:1", KOREAN)).encode("utf-8"))
    report = await import_file(store, scope, path, "csv")
    assert (report.imported, report.problems) == (1, [])


async def test_json_line_not_utf8_is_named(store: Store, scope: Scope, tmp_path: Path) -> None:
    """The same for JSON: its one cp1252 line is read as such and named by its line."""
    good = {"external_id": "a:1", "occurred_on": "2024", "category": "icbm", "summary": KOREAN}
    text = json.dumps({"events": [good, {**good, "external_id": "a:2", "summary": "\u2019"}]})
    lines = json.dumps(json.loads(text), indent=2, ensure_ascii=False).split("\n")
    bad = next(i for i, line in enumerate(lines) if "\u2019" in line)
    data = b"\n".join(
        line.encode("cp1252") if i == bad else line.encode("utf-8") for i, line in enumerate(lines)
    )
    path = tmp_path / "in.json"
    path.write_bytes(data)
    report = await import_file(store, scope, path, "json")
    events = await _events(store, scope)
    assert (events["a:1"].summary, events["a:2"].summary) == (KOREAN, "\u2019")
    assert report.problems == [(bad + 1, NOT_UTF8)]


# -- JSON nested too deep -----------------------------------------------------------------------
async def test_deep_json_is_refused_at_its_line(store: Store, scope: Scope, tmp_path: Path) -> None:
    """Ten thousand nested lists would end json.loads in a RecursionError: the file is refused
    whole, naming the line where it nests past the limit, and nothing is imported."""
    good = {"external_id": "a:1", "occurred_on": "2024", "category": "icbm", "summary": "s"}
    path = tmp_path / "in.json"
    path.write_text(
        '{"events": [\n' + json.dumps(good) + ",\n" + "[" * 5 + "\n" + "[" * 10_000 + "]" * 10_005
        + "\n]}\n",
        encoding="utf-8",
    )  # fmt: skip
    with pytest.raises(UnreadableFile, match=r"nests deeper than 8 levels at line 4;"):
        await import_file(store, scope, path, "json")
    assert await _events(store, scope) == {}


async def test_json_at_the_depth_limit_still_imports(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """Our export nests 5 deep; a hand-made file may go to 8 (here a count as a nested list,
    which costs only that field), with brackets inside strings not counted."""
    row = {
        "external_id": "a:1", "occurred_on": "2024", "category": "icbm",
        "summary": "[[[[[[[[[[ not nesting", "count": [[[[[3]]]]],
        "sources": [{"url": "https://a.example/1", "title": "{{{{{{{{{{"}],
    }  # fmt: skip
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"events": [row]}), encoding="utf-8")
    report = await import_file(store, scope, path, "json")
    event = (await _events(store, scope))["a:1"]
    assert (report.imported, event.count, event.summary) == (1, None, "[[[[[[[[[[ not nesting")
    assert [(w.line, w.field) for w in report.warnings] == [(1, "count")]


async def test_deep_sources_cell_costs_only_the_sources(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A CSV sources cell of 50,000 nested lists is an unreadable field, not a traceback."""
    path = tmp_path / "in.csv"
    cell = "[" * 50_000 + "]" * 50_000
    path.write_text(
        "external_id,occurred_on,category,summary,sources\n" + f'a:1,2024,icbm,s,"{cell}"\n',
        encoding="utf-8",
    )
    report = await import_file(store, scope, path, "csv")
    assert (await _events(store, scope))["a:1"].sources == ()
    assert [(w.line, w.field, w.reason) for w in report.warnings] == [
        (2, "sources", 'nests deeper than 8 levels; give a list like [{"url": …}].')
    ]


# -- numbers too long to read -------------------------------------------------------------------
async def test_json_number_too_long_costs_only_its_field(
    store: Store, scope: Scope, tmp_path: Path
) -> None:
    """A count of 5,000 digits (past Python's int conversion limit) is an unreadable count."""
    row = '{"external_id": "a:1", "occurred_on": "2024", "category": "icbm", "summary": "s"'
    path = tmp_path / "in.json"
    path.write_text('{"events": [\n' + row + ', "count": ' + "1" * 5000 + "}\n]}", "utf-8")
    report = await import_file(store, scope, path, "json")
    assert (await _events(store, scope))["a:1"].count is None
    assert [(w.line, w.field) for w in report.warnings] == [(2, "count")]
