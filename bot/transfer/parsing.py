"""Reading a file into rows: decoding, CSV records with their line numbers, and row types.

Parsing happens before anything is written, so a file that cannot be read as a whole
(`UnreadableFile`) changes nothing, a row without a readable date or category only costs
that row, and any other field that cannot be read only costs that field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Cell values that mean "nobody knows" in the published datasets.
EMPTY_MARKERS = frozenset({"", "unknown", "n/a", "na"})


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


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), else cp1252, as Excel saves it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(f"{path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path} is a folder; give the path of a CSV or JSON file.") from None
    except OSError as exc:
        raise UnreadableFile(
            f"{path} cannot be read ({exc.strerror}); check that it exists and you may read it."
        ) from None
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            f"{path} is an Excel workbook or another zip file, not CSV; open it in a "
            "spreadsheet and save the sheet as CSV (File → Save As → CSV), then import that."
        )
    if b"\x00" in data:
        raise UnreadableFile(
            f"{path} holds binary data, not text; give a CSV or JSON file "
            "(UTF-16 text: save it again as UTF-8)."
        )
    if not data.strip():
        raise UnreadableFile(f"{path} is empty; export the data again.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; replacing them beats refusing the whole file.
        return data.decode("cp1252", errors="replace")


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
                f"{path} is not readable CSV near line {reader.line_num} ({exc}); "
                "save it again as CSV from a spreadsheet."
            ) from None
        start, previous_end = previous_end + 1, reader.line_num
        if any(cell.strip() for cell in row):
            yield start, row


def header_key(name: str) -> str:
    """A column name compared loosely: case, spaces and a BOM forgiven."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()
