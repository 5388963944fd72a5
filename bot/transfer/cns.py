"""The James Martin CNS North Korea Missile Test Database, as published, into raw events.

Each CSV row becomes the services' raw event input (validated later by the importer),
or a reason it cannot be read. How the columns map, and why:

- `F1` -> external_id `cns:<F1>`: the database's own row number, stable across releases,
  so importing a newer release updates the rows it changed.
- `Date` (`9-Apr-84`, `Sep-84` = month precision; `1984-04-09` and `4/9/1984` also read)
  and `Launch Time (UTC)` (`10:22:00 PM`, or 24-hour `22:22`) -> date, to the minute when
  the time is known. A time beside a month-only date is dropped: it names no instant.
  Two-digit years are 19xx when above the current year's two digits, else 20xx.
- `Missile Type` -> category (SLV -> space_launch, Cruise Missile -> cruise_missile, …);
  a type we cannot map is reported rather than filed under a wrong category.
- `Test Outcome` -> outcome: Success/Failure; anything else (Unknown, blank, a qualified
  "partial success") is `unknown`, because that is what we know.
- `Confirmation Status` Confirmed -> `confirmed` only when the row cites a source (our
  rule: a confirmed event needs one); otherwise, and for Unconfirmed, `reported`.
- `Missile Name` -> name, `Facility Name` (else `Facility Location`) -> launch_site,
  `Facility Latitude/Longitude`, `Landing Location` -> landing_area, `Apogee` and
  `Distance Travelled` (`1,380 km`; miles converted) -> apogee_km, distance_km.
  `Unknown`, `N/A` and blank mean empty. A range (`between 25 and 90 km`, `25-90 km`) is
  kept as its upper bound; a bound or an estimate (`less than 100 km`, `about 300 km`,
  `over 900 km`, `900+ km`) as its one figure. Either way the cell's text goes with the
  event as an import note in its change log, so what the figure stands for is not lost.
- `Additional Information` -> summary (clipped to the summary limit: the sources hold the
  rest), or a short generated line when empty. actor `DPRK`, region `korean-peninsula`.
- `Source(s)`: split on newlines and semicolons; each URL becomes a source with its url,
  the other text of a piece becomes one citation (its title). Duplicates are dropped and
  the first ten kept (an event holds at most ten).
- Not stored: `Date Entered/Updated` (CNS bookkeeping), `Other Name`, and `Launch
  Agency/Authority` (no field of ours means it; overseen_by names who oversaw a launch,
  and a re-import would overwrite a moderator's value there).

Fields CNS does not have (count, platform, claimed, claimed_distance_km, overseen_by) are
left out of the raw event, so re-importing a newer release never erases what a moderator
added.

Only F1, `Date` and `Missile Type` are needed to keep a row. Any other cell that cannot be
read (a coordinate, a measure, a launch time) is set aside in `EventRow.unreadable` and
the row imported without it; the importer warns, and keeps a stored value on re-import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot import validation
from bot.errors import ValidationError
from bot.i18n import _
from bot.transfer.parsing import (
    EventRow,
    Parsed,
    UnreadableFile,
    csv_records,
    header_key,
    is_empty,
)

COLUMNS = (
    "F1", "Date", "Date Entered/Updated", "Launch Time (UTC)", "Missile Name", "Missile Type",
    "Launch Agency/Authority", "Facility Name", "Facility Location", "Other Name",
    "Facility Latitude", "Facility Longitude", "Landing Location", "Apogee",
    "Distance Travelled", "Confirmation Status", "Test Outcome", "Additional Information",
    "Source(s)",
)  # fmt: skip
REQUIRED = ("F1", "Date", "Missile Type")
_BY_KEY = {header_key(c): c for c in COLUMNS}
_HEADER_SEARCH_ROWS = 5

#: Our field -> the CNS column it came from, so problems name the column a user sees.
LABELS = {
    "date": "Date",
    "category": "Missile Type",
    "name": "Missile Name",
    "launch_site": "Facility Name",
    "latitude": "Facility Latitude",
    "longitude": "Facility Longitude",
    "landing_area": "Landing Location",
    "apogee_km": "Apogee",
    "distance_km": "Distance Travelled",
    "outcome": "Test Outcome",
    "summary": "Additional Information",
    "sources": "Source(s)",
    "time": "Launch Time (UTC)",
    "confidence": "Confirmation Status",
    "source": "Source(s)",
    "source_url": "Source(s)",
    "external_id": "F1",
}

_CATEGORIES = {
    "srbm": "srbm",
    "mrbm": "mrbm",
    "irbm": "irbm",
    "icbm": "icbm",
    "slbm": "slbm",
    "slv": "space_launch",
    "satellite launch vehicle": "space_launch",
    "space launch vehicle": "space_launch",
    "cruise missile": "cruise_missile",
    "cruise": "cruise_missile",
    "hgv": "hypersonic",
    "hypersonic glide vehicle": "hypersonic",
    "hypersonic": "hypersonic",
    "artillery": "artillery",
    "unknown": "unknown",
    "": "unknown",
    "n/a": "unknown",
    "other": "other",
}
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[- /]([A-Za-z]{3,9})\.?[- /,]*(\d{4}|\d{2})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3,9})\.?[- /,]*(\d{4}|\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T]00:00(?::00)?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_TIME = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:([AaPp])\.?\s*[Mm]\.?)?\s*(?:UTC|Z|GMT)?$", re.I
)


def _quantity(name: str) -> str:
    """A figure (`1,380`, `12.5`), an optional `+` and unit: groups `name`, `name_plus`,
    `name_unit`."""
    return (
        rf"(?P<{name}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<{name}_plus>\+)?\s*"
        rf"(?P<{name}_unit>km|kms|kilometers|kilometres|mi|miles)?"
    )


#: One figure, maybe qualified: `1,380 km`, `~ 1,500 km`, `less than 100 km`, `900+ km`.
_MEASURE = re.compile(
    r"^(?P<qualifier>~|approx(?:\.|imately)?|about|around|roughly|ca\.?|c\.|nearly|almost|"
    r"(?:less|fewer|more|greater) than|under|below|up to|at most|at least|over|above|"
    r"in excess of|no more than|<=|>=|<|>)?\s*" + _quantity("n") + r"\s*(?P<plus>\+)?\.?$",
    re.I,
)
#: A range: `25-90 km`, `25 – 90 km`, `25 to 90 km`, `between 25 and 90 km`.
_RANGE = re.compile(
    r"^(?:between|from)?\s*"
    + _quantity("low")
    + r"\s*(?:-|–|—|~|to|and)\s*"
    + _quantity("high")
    + r"\.?$",
    re.I,
)
_COORDINATE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*°?\s*([NSEWnsew])?$")
_URL = re.compile(r"https?://[^\s<>\"']+", re.I)
_BOILERPLATE = re.compile(
    r"^(available (at|from|online)|retrieved from|see|source|url|link)$", re.I
)
_MILE_KM = 1.609344


def parse(text: str, path: Path, *, today: date | None = None) -> Parsed:
    """Read the CNS CSV: find its header, then turn each row into an `EventRow`."""
    today = today or datetime.now(UTC).date()
    records = csv_records(text, path)
    columns: dict[int, str] | None = None
    for searched, (_line, cells) in enumerate(records):
        found = {i: _BY_KEY[header_key(c)] for i, c in enumerate(cells) if header_key(c) in _BY_KEY}
        if all(name in found.values() for name in REQUIRED):
            columns = found
            break
        if searched + 1 >= _HEADER_SEARCH_ROWS:
            break
    if columns is None:
        raise UnreadableFile(
            _(
                "{path} has no CNS header row (columns {columns} …); import the CNS North Korea "
                "Missile Test Database saved as CSV, or choose the csv or json format for a "
                "LaunchWatch export."
            ).format(path=path, columns=", ".join(REQUIRED))
        )
    out = Parsed(labels=LABELS)
    for line, cells in records:
        cell = {name: _cell(cells, i) for i, name in columns.items()}
        try:
            out.events.append(row_to_event(line, cell, today))
        except ValidationError as exc:
            out.events.append(EventRow(line, error=f"{exc.field}: {exc.fix}"))
    return out


def _cell(cells: list[str], index: int) -> str:
    """A cell's text, trimmed, with Excel's CRLF inside quoted cells made plain newlines."""
    text = cells[index] if index < len(cells) else ""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def row_to_event(line: int, cell: dict[str, str], today: date) -> EventRow:
    """One CNS row (column -> stripped text) as the services' raw event input.

    Raises ValidationError only for what the row cannot be kept without (F1, Date,
    Missile Type); any other cell that cannot be read is left out and named in
    `unreadable`, and a qualified measure's text is kept in `notes`.
    """
    f1 = cell.get("F1", "")
    if is_empty(f1):
        raise ValidationError("F1", _("is empty; every CNS row has a number in F1."))
    unreadable: dict[str, str] = {}
    notes: dict[str, str] = {}

    def read(field: str, parse: Callable[..., Any], *args: str) -> Any:
        try:
            return parse(*args)
        except ValidationError as exc:
            unreadable[field] = exc.fix
            return None

    day = parse_date(cell.get("Date", ""), today)
    category = parse_category(cell.get("Missile Type", ""))
    at = read("time", parse_time, cell.get("Launch Time (UTC)", ""))
    when = f"{day}T{at}Z" if at and len(day) == 10 else day
    name = _value(cell.get("Missile Name"))
    site = _value(cell.get("Facility Name")) or _value(cell.get("Facility Location"))
    landing = _value(cell.get("Landing Location"))
    outcome = parse_outcome(cell.get("Test Outcome", ""))
    sources = parse_sources(cell.get("Source(s)", ""))
    confirmed = (cell.get("Confirmation Status") or "").strip().lower() == "confirmed"
    summary = _value(cell.get("Additional Information")) or _generated_summary(
        cell.get("Missile Type", ""), name, site, landing, outcome
    )
    limit = validation.MAX_LENGTH["summary"]
    if len(summary) > limit:
        summary = summary[: limit - 1].rstrip() + "…"
    measures: dict[str, float | None] = {}
    for field, column in (("apogee_km", "Apogee"), ("distance_km", "Distance Travelled")):
        figure = read(field, parse_measure, *_column(cell, column))
        measures[field] = None if figure is None else figure[0]
        if figure is not None and figure[1] is not None:
            notes[field] = figure[1]
    raw = {
        "external_id": f"cns:{_f1(f1)}",
        "date": when,
        "actor": "DPRK",
        "category": category,
        "name": name,
        "launch_site": site,
        "latitude": read("latitude", parse_coordinate, *_column(cell, "Facility Latitude")),
        "longitude": read("longitude", parse_coordinate, *_column(cell, "Facility Longitude")),
        "landing_area": landing,
        **measures,
        "outcome": outcome,
        "region": "korean-peninsula",
        "summary": summary,
        "confidence": "confirmed" if confirmed and sources else "reported",
        "sources": sources,
    }
    return EventRow(line, raw=raw, unreadable=unreadable, notes=notes)


def _column(cell: dict[str, str], column: str) -> tuple[str, str]:
    """(column, its text): the arguments of the parse_* functions."""
    return column, cell.get(column, "")


def _value(text: str | None) -> str | None:
    return None if is_empty(text) else (text or "").strip()


def _f1(text: str) -> str:
    """`245`, or `245.0` as a spreadsheet may save it, -> `245`."""
    text = text.strip()
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def full_year(two_or_four: str, today: date) -> int:
    """`84` -> 1984, `17` -> 2017: 19xx when above this year's two digits, else 20xx."""
    year = int(two_or_four)
    if len(two_or_four) == 4:
        return year
    return 1900 + year if year > today.year % 100 else 2000 + year


def _month(name: str) -> int | None:
    low = name.lower()
    for number, full in enumerate(_MONTH_NAMES, 1):
        if full.startswith(low) or (low == "sept" and number == 9):
            return number
    return None


def parse_date(text: str, today: date) -> str:
    """A CNS date as ISO text: `9-Apr-84` -> `1984-04-09`, `Sep-84` -> `1984-09`."""
    raw = text.strip()
    year: int | None = None
    month: int | None = None
    day: int | None = None
    if m := _DAY_MONTH_YEAR.match(raw):
        day, month, year = int(m[1]), _month(m[2]), full_year(m[3], today)
    elif m := _MONTH_YEAR.match(raw):
        month, year = _month(m[1]), full_year(m[2], today)
    elif m := _ISO.match(raw):
        year, month, day = int(m[1]), int(m[2]), int(m[3]) if m[3] else None
    elif m := _US.match(raw):
        month, day, year = int(m[1]), int(m[2]), full_year(m[3], today)
    if year is None or month is None:
        raise ValidationError(
            "Date",
            _("'{value}' is not a date; use a form such as 9-Apr-84, Sep-84 or 1984-04-09.").format(
                value=raw
            ),
        )
    try:
        date(year, month, day or 1)
    except ValueError:
        raise ValidationError(
            "Date", _("'{value}' is not a real calendar date.").format(value=raw)
        ) from None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def parse_time(text: str) -> str | None:
    """`10:22:00 PM` -> `22:22`, `22:22:30` -> `22:22:30`; Unknown/N/A/blank -> None."""
    if is_empty(text):
        return None
    m = _TIME.match(text.strip())
    if m:
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        meridiem = (m[4] or "").lower()
        ok = minute < 60 and second < 60
        if meridiem:
            ok = ok and 1 <= hour <= 12
            hour = hour % 12 + (12 if meridiem == "p" else 0)
        ok = ok and hour < 24
        if ok:
            return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")
    raise ValidationError(
        "Launch Time (UTC)",
        _("'{value}' is not a time of day; use 10:22:00 PM or 22:22.").format(value=text.strip()),
    )


def parse_category(text: str) -> str:
    """A Missile Type as our category; an unknown type is an error, not a guess."""
    key = " ".join(text.split()).lower()
    if key in _CATEGORIES:
        return _CATEGORIES[key]
    try:
        category = validation.enum("category", key)
    except ValidationError:
        category = None
    if category is None:
        known = "SRBM, MRBM, IRBM, ICBM, SLBM, SLV, Cruise Missile, HGV, Unknown"
        raise ValidationError(
            "Missile Type",
            _("'{value}' is not a type LaunchWatch knows; use one of {known}.").format(
                value=text.strip(), known=known
            ),
        )
    return category


def parse_outcome(text: str) -> str:
    key = text.strip().lower()
    if key in ("success", "successful", "succeeded"):
        return "success"
    if key in ("failure", "fail", "failed"):
        return "failure"
    return "unknown"


def parse_measure(column: str, text: str) -> tuple[float, str | None] | None:
    """A distance in kilometres, and the cell's text when it is not one plain figure.

    `1,380 km` -> (1380.0, None); `500 mi` -> kilometres; `between 25 and 90 km` or
    `25-90 km` -> (90.0, the text): a range is kept as its upper bound; `about 300 km`,
    `less than 100 km` -> (the figure, the text). Unknown/N/A/blank -> None.
    """
    if is_empty(text):
        return None
    raw = text.strip()
    if m := _MEASURE.match(raw):
        value = _kilometres(m["n"], m["n_unit"])
        return value, raw if m["qualifier"] or m["n_plus"] or m["plus"] else None
    if m := _RANGE.match(raw):
        # A unit written once, after the second figure, applies to both.
        low = _kilometres(m["low"], m["low_unit"] or m["high_unit"])
        high = _kilometres(m["high"], m["high_unit"] or m["low_unit"])
        return max(low, high), raw
    raise ValidationError(
        column,
        _(
            "'{value}' is not a distance; give a figure such as 1,380 km or a range such as "
            "25-90 km."
        ).format(value=raw),
    )


def _kilometres(figure: str, unit: str | None) -> float:
    value = float(figure.replace(",", ""))
    if (unit or "").lower() in ("mi", "miles"):
        value = round(value * _MILE_KM, 1)
    return value


def parse_coordinate(column: str, text: str) -> float | None:
    """`39.66`, `39.66 N`, `125.5° E`; S and W are negative. Unknown/N/A/blank -> None."""
    if is_empty(text):
        return None
    m = _COORDINATE.match(text.strip())
    if not m:
        raise ValidationError(
            column, _("'{value}' is not a coordinate; give e.g. 39.66.").format(value=text.strip())
        )
    value = float(m[1])
    return -abs(value) if (m[2] or "").upper() in ("S", "W") else value


def parse_sources(text: str) -> list[dict[str, Any]]:
    """A Source(s) cell: each URL a source, other text a citation (its title).

    Pieces are lines or `;`-separated parts. Text beside a piece's only URL titles that
    URL (`KCNA statement: https://…`); beside several URLs it is a citation of its own.
    """
    found: list[dict[str, Any]] = []
    for piece in re.split(r"[\r\n;]+", text or ""):
        urls = [u.rstrip(".,)]}>") for u in _URL.findall(piece)]
        rest = " ".join(_URL.sub(" ", piece).split()).strip(" ,.:-–—")
        title = _citation(rest)
        if len(urls) == 1:
            found.append({"url": urls[0], "title": title} if title else {"url": urls[0]})
            continue
        found.extend({"url": url} for url in urls)
        if title:
            found.append({"title": title})
    unique: list[dict[str, Any]] = []
    for source in found:
        if source not in unique:
            unique.append(source)
    return unique[: validation.MAX_SOURCES]


def _citation(text: str) -> str | None:
    """Citation text worth keeping (not "Available at:"), clipped to a title's length."""
    if not re.search(r"\w", text) or is_empty(text) or _BOILERPLATE.match(text):
        return None
    limit = validation.MAX_LENGTH["title"]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _generated_summary(
    missile_type: str, name: str | None, site: str | None, landing: str | None, outcome: str
) -> str:
    """A one-line summary for a row without Additional Information (summary is required)."""
    kind = missile_type.strip() if not is_empty(missile_type) else "Missile"
    text = f"{kind} launch" + (f" ({name})" if name else "")
    if site:
        text += f" from {site}"
    if landing:
        text += f", landing in {landing}"
    return text + f"; outcome {outcome}. (CNS North Korea Missile Test Database)"
