"""Reading a file into rows: decoding, CSV records with their line numbers, and row types.

Parsing happens before anything is written, so a file that cannot be read as a whole
(`UnreadableFile`) changes nothing, a row without a readable date or category only costs
that row, and any other field that cannot be read only costs that field.

Text is UTF-8 line by line: a line that is not is read as cp1252 (as Excel on Windows
saves a CSV) and named in a note, never silently, so one stray byte costs no other line
its UTF-8. JSON nested deeper than any of our formats is refused before `json.loads`
recurses into it (a thousand levels would end in a RecursionError).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n import _

#: Cell values that mean "nobody knows" in the published datasets.
EMPTY_MARKERS = frozenset({"", "unknown", "n/a", "na"})

#: How deep a JSON file may nest. Our export needs 5: the document, "events", an event,
#: its "sources", a source (a reaction's sources alike; a bare list of events needs 4).
#: Three levels to spare take a hand-made file's extra wrapper or a nested value (which
#: costs only its field); deeper is no file of ours, and json.loads recurses per level.
MAX_JSON_DEPTH = 8


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass
class EventRow:
    """One event read from a file: the services' raw input, or why it could not be read.

    `raw` uses the keys `validation.event` accepts. A retracted event carries its reason
    apart (the services refuse confidence=retracted on add; see importer). `origin` is the
    exporting store's (guild_id, id, created_at), used to recognise `lw:<id>` rows.
    `unreadable` names the fields the parser could not read (field, or `time` for a launch
    time, -> why): they are left out of `raw`, and the importer warns and keeps what is
    stored. `notes` keeps the file's text of a value it does not say exactly (`between 25
    and 90 km`), for the event's change log.
    """

    line: int
    raw: dict[str, Any] | None = None
    retraction_reason: str | None = None
    origin: tuple[int, int, str] | None = None
    error: str | None = None
    unreadable: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class ReactionRow:
    """One reaction read from a JSON export; its event is named by the event's external_id."""

    line: int
    raw: dict[str, Any] | None = None
    event_external_id: str | None = None
    error: str | None = None


@dataclass
class Parsed:
    """Everything read from one file, before it touches the store."""

    events: list[EventRow] = field(default_factory=list)
    reactions: list[ReactionRow] = field(default_factory=list)
    #: Remarks that skip nothing (an ignored column), as (line, text).
    notes: list[tuple[int, str]] = field(default_factory=list)
    #: Our field name -> the file's column name, so a problem names what the user sees.
    labels: Mapping[str, str] = field(default_factory=dict)


def is_empty(value: Any) -> bool:
    """Blank, `Unknown` or `N/A` (any case): the datasets' ways of saying "not known"."""
    return value is None or (isinstance(value, str) and value.strip().lower() in EMPTY_MARKERS)


@dataclass
class FileText:
    """A file's text, and the notes (line, text) on lines that were not UTF-8."""

    text: str
    notes: list[tuple[int, str]] = field(default_factory=list)


def read_text(path: Path) -> FileText:
    """The file's text: UTF-8 (with or without BOM); a line that is not, cp1252 (see
    `decode_lines`)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(
            _("{path} does not exist; check the path.").format(path=path)
        ) from None
    except IsADirectoryError:
        raise UnreadableFile(
            _("{path} is a folder; give the path of a CSV or JSON file.").format(path=path)
        ) from None
    except OSError as exc:
        raise UnreadableFile(
            _("{path} cannot be read ({why}); check that it exists and you may read it.").format(
                path=path, why=exc.strerror
            )
        ) from None
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            _(
                "{path} is an Excel workbook or another zip file, not CSV; open it in a "
                "spreadsheet and save the sheet as CSV (File → Save As → CSV), then import that."
            ).format(path=path)
        )
    if b"\x00" in data:
        raise UnreadableFile(
            _(
                "{path} holds binary data, not text; give a CSV or JSON file "
                "(UTF-16 text: save it again as UTF-8)."
            ).format(path=path)
        )
    if not data.strip():
        raise UnreadableFile(_("{path} is empty; export the data again.").format(path=path))
    try:
        return FileText(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return decode_lines(data)


def decode_lines(data: bytes) -> FileText:
    """Each line as UTF-8, or else as cp1252, with a note naming it.

    Lines end as the csv module ends them (CR, LF, CRLF), so the numbers are the ones
    problems use; those bytes never occur inside a UTF-8 character, so no split cuts one.
    A file whose every non-ASCII line fails UTF-8 is simply a cp1252 file (the CNS
    database is published so): one note names its first such line and their count, as a
    note per line would bury the rows' own problems. A file that is UTF-8 elsewhere (or
    has a BOM) gets a note per line, as each is a guess worth checking.
    """
    utf8 = data.startswith(codecs.BOM_UTF8)
    lines: list[str] = []
    bad: list[int] = []
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(True), 1):
        try:
            lines.append(raw.decode("utf-8"))
            utf8 = utf8 or not raw.isascii()
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; replacing them beats refusing the line.
            lines.append(raw.decode("cp1252", errors="replace"))
            bad.append(number)
    if utf8 or len(bad) == 1:
        not_utf8 = _(
            "not UTF-8; read as Windows-1252 (cp1252): check its text, or save the file again "
            "as UTF-8."
        )
        notes = [(n, not_utf8) for n in bad]
    else:
        cp1252 = _(
            "the first of {count} lines that are not UTF-8; all read as Windows-1252 (cp1252), "
            "as the whole file seems to be."
        )
        notes = [(bad[0], cp1252.format(count=len(bad)))]
    return FileText("".join(lines), notes)


#: A JSON string, to its closing quote or else its line's end (JSON strings hold no raw
#: newline), so taking strings out of a text keeps its line numbers.
_JSON_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?')
_BRACKET = re.compile(r"[\[\]{}]")


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> int | None:
    """The line where JSON text first nests deeper than `limit`, else None.

    A flat scan, so it cannot recurse: strings are taken out first (a bracket in one does
    not count), and the brackets of broken JSON are left for `json.loads` to report.
    """
    skeleton = _JSON_STRING.sub("", text)
    depth = 0
    for bracket in _BRACKET.finditer(skeleton):
        if bracket[0] in "[{":
            depth += 1
            if depth > limit:
                return skeleton.count("\n", 0, bracket.start()) + 1
        else:
            depth -= 1
    return None


def csv_records(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records with the line each starts on (1-based; quoted newlines count)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableFile(
                _(
                    "{path} is not readable CSV near line {line} ({why}); save it again as CSV "
                    "from a spreadsheet."
                ).format(path=path, line=reader.line_num, why=exc)
            ) from None
        start, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in row):
            yield start, row


def header_key(name: str) -> str:
    """A column name compared loosely: case, spaces and a BOM forgiven."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()
