"""LaunchWatch's own export formats, both ways: JSON (events and reactions) and CSV (events).

Both use the data model's field names (docs/architecture.md, "Data model";
`Event.as_record()`, `Reaction.as_record()`). Every exported event carries an
external_id, its own or `lw:<id>`, so importing the file again updates rather than
duplicates; a reaction names its event by `event_external_id`.
Store-assigned fields (id, guild_id, created_by, created_at, updated_at, revision) are
written for reference and ignored on import, except to recognise an `lw:<id>` event
exported from this very guild (see importer).

On import a missing column or key leaves that field as the services default it; an
empty cell or null clears it. Unknown columns and keys are ignored with a note. A value
that cannot be read (sources that are not a JSON list here; a count of "several" or a
platform of "bicycle" in the importer) costs only that field: see importer.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from bot import models
from bot.dates import PartialDate
from bot.errors import ValidationError
from bot.i18n import _
from bot.services import Scope, TimelineFilter, list_events
from bot.services.reactions import all_reactions
from bot.transfer import cns
from bot.transfer.parsing import (
    MAX_JSON_DEPTH,
    EventRow,
    Parsed,
    ReactionRow,
    UnreadableFile,
    csv_records,
    header_key,
    json_too_deep,
)
from db import Store

#: `Event.as_record()`'s keys, in order: the CSV header.
EVENT_FIELDS = models.EVENT_RECORD
REACTION_FIELDS = (
    "id", "guild_id", "event_id", "event_external_id", "since", "until", "actor", "actor_kind",
    "speaker", "speaker_title", "affiliation", "stance", "summary", "quote", "said_on",
    "created_by", "created_at", "sources",
)  # fmt: skip
STORE_ASSIGNED = ("id", "guild_id", "created_by", "created_at", "updated_at", "revision")
_DATE_FIELDS = models.DATE_COLUMNS
#: Event fields passed to the services as they are (the date and confidence need care).
_PLAIN_EVENT_FIELDS = tuple(f for f in models.EDITABLE_FIELDS if f not in ("date", "confidence"))
_REACTION_INPUT = (
    "since", "until", "actor", "actor_kind", "speaker", "speaker_title", "affiliation",
    "stance", "summary", "quote", "said_on",
)  # fmt: skip
_REQUIRED_CSV = ("external_id", "occurred_on", "category", "summary")


# -- export -------------------------------------------------------------------------------
async def export_data(store: Store, scope: Scope, fmt: Literal["csv", "json"]) -> str:
    """The guild's own events (retracted ones too) and, in JSON, its reactions.

    Publisher guilds' events are theirs to export; a reaction of ours to one still names
    it by its external_id.
    """
    visible = await list_events(store, scope, TimelineFilter(), include_retracted=True)
    key_of = _keys(visible)
    events = [
        {**e.as_record(), "external_id": key_of[e.id]}
        for e in visible
        if e.guild_id == scope.guild_id
    ]
    if fmt == "json":
        reactions = []
        for r in await all_reactions(store, scope):
            record = r.as_record()
            ref = r.event_id
            record["event_external_id"] = (
                None if ref is None else key_of.get(ref, f"lw:{ref}")
            )  # fmt: skip
            reactions.append({k: record[k] for k in REACTION_FIELDS})
        doc = {"events": events, "reactions": reactions}
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EVENT_FIELDS, extrasaction="raise")
        writer.writeheader()
        for record in events:
            writer.writerow(
                {
                    **{k: "" if v is None else v for k, v in record.items()},
                    "sources": json.dumps(record["sources"], ensure_ascii=False),
                }
            )
        return out.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; use csv or json")


def _keys(events: Sequence[models.Event]) -> dict[int, str]:
    """Each event's import key: its external_id, else `lw:<id>` (suffixed in the odd case
    that a moderator already used that text as another event's external_id)."""
    taken = {e.external_id for e in events if e.external_id}
    keys: dict[int, str] = {}
    for e in events:
        key = e.external_id
        if key is None:
            key, n = f"lw:{e.id}", 1
            while key in taken:
                n += 1
                key = f"lw:{e.id}-{n}"
            taken.add(key)
        keys[e.id] = key
    return keys


# -- import: records to raw service input -------------------------------------------------
def event_row(line: int, record: Mapping[str, Any]) -> EventRow:
    """One exported event record as the services' raw input (or why it cannot be read)."""
    unreadable: dict[str, str] = {}
    try:
        raw: dict[str, Any] = {f: record[f] for f in _PLAIN_EVENT_FIELDS if f in record}
        raw["date"] = _record_date(record)
        try:
            raw["sources"] = _record_sources(record.get("sources"))
        except ValidationError as exc:
            raw["sources"], unreadable["sources"] = None, exc.fix
        confidence = record.get("confidence")
        reason = record.get("retraction_reason")
        retracted = isinstance(confidence, str) and confidence.strip().lower() == "retracted"
        if retracted and _blank(reason):
            raise ValidationError(
                "retraction_reason",
                _("is empty; a retracted event needs the reason it was retracted."),
            )
        if not retracted and not _blank(reason):
            raise ValidationError(
                "retraction_reason",
                _("is set but confidence is not retracted; clear one of them."),
            )
        if not retracted and "confidence" in record:
            raw["confidence"] = confidence
        return EventRow(
            line,
            raw=raw,
            retraction_reason=str(reason) if retracted else None,
            origin=_origin(record),
            unreadable=unreadable,
        )
    except ValidationError as exc:
        return EventRow(line, error=f"{exc.field}: {exc.fix}")


def reaction_row(line: int, record: Mapping[str, Any]) -> ReactionRow:
    """One exported reaction record; its event is named by `event_external_id`."""
    ref = record.get("event_external_id")
    if _blank(ref) and not _blank(record.get("event_id")):
        return ReactionRow(
            line,
            error="event_external_id: is missing; name the reaction's event by its "
            "external_id (event_id is the exporting server's own number).",
        )
    try:
        raw = {k: record[k] for k in _REACTION_INPUT if k in record}
        raw["sources"] = _record_sources(record.get("sources"))
    except ValidationError as exc:
        return ReactionRow(line, error=f"{exc.field}: {exc.fix}")
    return ReactionRow(line, raw=raw, event_external_id=None if _blank(ref) else str(ref).strip())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _record_date(record: Mapping[str, Any]) -> str:
    """occurred_on / date_precision / occurred_at, checked against each other."""
    on, precision, at = (record.get(f) for f in _DATE_FIELDS)
    if not _blank(at):
        when = PartialDate.parse(str(at), "occurred_at")
        if when.precision != "minute":
            raise ValidationError(
                "occurred_at",
                _("'{value}' has no time of day; use 2024-01-25T06:40Z.").format(value=at),
            )
        if not _blank(on) and str(on).strip() != when.text:
            raise ValidationError(
                "occurred_on",
                _("{day} is not the day of occurred_at {at}; correct one of them.").format(
                    day=on, at=at
                ),
            )
        text = str(at).strip()
    elif not _blank(on):
        when = PartialDate.parse(str(on), "occurred_on")
        text = str(on).strip()
    else:
        raise ValidationError("occurred_on", _("is empty; give a date such as 2024-01-25."))
    if not _blank(precision) and str(precision).strip().lower() != when.precision:
        raise ValidationError(
            "date_precision",
            _("says {said} but the date is known to the {known}; correct one of them.").format(
                said=precision, known=when.precision
            ),
        )
    return text


def _record_sources(value: Any) -> list[dict[str, Any]]:
    """Sources as a list of objects; a hand-made CSV cell may also hold plain URLs."""
    if _blank(value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return cns.parse_sources(text)
        if json_too_deep(text) is not None:
            raise ValidationError(
                "sources",
                _("nests deeper than {limit} levels; give a list like [{example}].").format(
                    limit=MAX_JSON_DEPTH, example='{"url": …}'
                ),
            )
        try:
            value = json.loads(text, parse_int=_json_int)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "sources",
                _("is not a JSON list ({why}); give a list like [{example}].").format(
                    why=exc.msg, example='{"url": …}'
                ),
            ) from None
    if not isinstance(value, list) or not all(isinstance(s, Mapping) for s in value):
        raise ValidationError(
            "sources", _("must be a list of objects with url, publisher, title, published_on.")
        )
    return [dict(s) for s in value]


def _origin(record: Mapping[str, Any]) -> tuple[int, int, str] | None:
    try:
        return int(record["guild_id"]), int(record["id"]), str(record["created_at"])
    except (KeyError, TypeError, ValueError):
        return None


# -- import: CSV --------------------------------------------------------------------------
def parse_csv(text: str, path: Path) -> Parsed:
    """Our CSV export: a header of the data model's field names, one event a row."""
    records = csv_records(text, path)
    first = next(records, None)
    if first is None:
        raise UnreadableFile(_("{path} holds no rows; export the data again.").format(path=path))
    header_line, header = first
    names = [header_key(h) for h in header]
    missing = [c for c in _REQUIRED_CSV if c not in names]
    if missing:
        if header_key("F1") in names:
            why = _(
                "{path} lacks the columns {columns} of a LaunchWatch CSV export (its header is "
                "line {line}). It looks like the CNS database: choose the cns format. Export "
                "again with the csv format, or add those columns."
            )
        else:
            why = _(
                "{path} lacks the columns {columns} of a LaunchWatch CSV export (its header is "
                "line {line}). Export again with the csv format, or add those columns."
            )
        raise UnreadableFile(why.format(path=path, columns=", ".join(missing), line=header_line))
    out = Parsed()
    out.notes.extend(_unknown_note(header_line, names, EVENT_FIELDS))
    for line, cells in records:
        record = {
            name: cells[i] if i < len(cells) and cells[i].strip() else None
            for i, name in enumerate(names)
            if name in EVENT_FIELDS
        }
        out.events.append(event_row(line, record))
    return out


def _unknown_note(line: int, keys: Iterable[str], known: Sequence[str]) -> list[tuple[int, str]]:
    unknown = sorted({k for k in keys if k and k not in known})
    if not unknown:
        return []
    ignored = _("ignored {fields}: not a LaunchWatch field.")
    return [(line, ignored.format(fields=", ".join(unknown)))]


# -- import: JSON -------------------------------------------------------------------------
def parse_json(text: str, path: Path) -> Parsed:
    """Our JSON export: `{"events": [...], "reactions": [...]}` (a bare list means events).

    A problem names the line where that object starts in the file.
    """
    deep = json_too_deep(text)
    if deep is not None:
        raise UnreadableFile(
            _(
                "{path} nests deeper than {limit} levels at line {line}; a LaunchWatch export "
                "nests 5 (an event's sources in the events list). Export it again, or fix it "
                "there."
            ).format(path=path, limit=MAX_JSON_DEPTH, line=deep)
        )
    try:
        doc = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            _(
                "{path} is not valid JSON (line {line}, column {column}: {why}); export it "
                "again, or fix it there."
            ).format(path=path, line=exc.lineno, column=exc.colno, why=exc.msg)
        ) from None
    if isinstance(doc, list):
        doc = {"events": doc}
    if not isinstance(doc, dict) or not any(k in doc for k in ("events", "reactions")):
        raise UnreadableFile(
            _(
                '{path} holds no "events" or "reactions" list; import a LaunchWatch JSON export.'
            ).format(path=path)
        )
    for key in ("events", "reactions"):
        if not isinstance(doc.get(key, []), list):
            raise UnreadableFile(
                _('{path}: "{key}" is not a list; import a LaunchWatch JSON export.').format(
                    path=path, key=key
                )
            )
    starts = _item_lines(text)
    out = Parsed()
    warned: set[str] = set()
    for key, known in (("events", EVENT_FIELDS), ("reactions", REACTION_FIELDS)):
        lines = starts.get(key, [])
        for index, item in enumerate(doc.get(key, [])):
            line = lines[index] if index < len(lines) else index + 1
            if not isinstance(item, dict):
                error = _("{key} item {number} is not an object.").format(key=key, number=index + 1)
                if key == "events":
                    out.events.append(EventRow(line, error=error))
                else:
                    out.reactions.append(ReactionRow(line, error=error))
                continue
            fresh = [k for k in item if k not in known and k not in warned]
            warned.update(fresh)
            out.notes.extend(_unknown_note(line, fresh, known))
            if key == "events":
                out.events.append(event_row(line, item))
            else:
                out.reactions.append(reaction_row(line, item))
    return out


def _json_int(digits: str) -> int | str:
    """A JSON integer; one too long for `int` (over 4300 digits) stays text, for its
    field's check to refuse, rather than a ValueError ending the import."""
    try:
        return int(digits)
    except ValueError:
        return digits


_WS = re.compile(r"[ \t\n\r]*")


def _item_lines(text: str) -> dict[str, list[int]]:
    """The line each item of the top-level "events" and "reactions" lists starts on.

    Walks the already-validated document with `raw_decode`, so offsets are exact; a bare
    list counts as "events". Duplicate keys: the last wins, as in `json.loads`.
    """
    decoder = json.JSONDecoder(parse_int=_json_int)
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    def skip(i: int) -> int:
        m = _WS.match(text, i)
        return m.end() if m else i

    def array_starts(i: int) -> tuple[list[int], int]:
        starts: list[int] = []
        i = skip(i + 1)
        while text[i] != "]":
            starts.append(line_of(i))
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
        return starts, i + 1

    out: dict[str, list[int]] = {}
    i = skip(0)
    if text[i] == "[":
        out["events"], _ = array_starts(i)
        return out
    i = skip(i + 1)
    while text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = skip(skip(i) + 1)  # the colon
        if key in ("events", "reactions") and text[i] == "[":
            out[key], i = array_starts(i)
        else:
            _, i = decoder.raw_decode(text, i)
        i = skip(i)
        if text[i] == ",":
            i = skip(i + 1)
    return out
