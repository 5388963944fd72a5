"""Date and time phrases in a sentence, found by our own patterns and resolved here.

`dateparser` only normalises a phrase once found ("Sept. 4th" -> September 4): on prose
its own search returns noise. The rules, relative to the publication date:

- a weekday is the latest such day on or before publication (the day itself counts);
  "last Tuesday" is the one before;
- a month and day without a year take the latest year that puts them on or before
  publication; a bare day ("the 29th") the latest month that does;
- "the day before" and "the next day" count from the sentence's own date;
- a month without a day stays a month ("in January" is `2024-01`).

A time is kept with its zone: "local time" (or none) means the actor's zone, so
7:22 a.m. on 4 October 2022 in Pyongyang is 2022-10-03T22:22Z.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import dateparser

from bot.dates import PartialDate

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\d:])"
_YEAR = r"(?:19[5-9]\d|20\d\d)"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"

_ISO = re.compile(rf"\b(?P<y>{_YEAR})-(?P<m>\d\d)-(?P<d>\d\d)\b")
_DAY_MONTH = re.compile(rf"\b(?P<d>{_DAY})\s+(?:of\s+)?(?P<mon>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?\b")
_MONTH_DAY = re.compile(
    rf"\b(?P<mon>{_MONTH})\s+(?P<d>{_DAY})\b(?P<more>(?:(?:,\s*|\s+and\s+|\s+or\s+|,\s+and\s+)"
    rf"(?:the\s+)?{_DAY}\b)*)(?:,?\s+(?P<y>{_YEAR})\b)?"
)
_MONTH_YEAR = re.compile(rf"\b(?P<mon>{_MONTH})\s+(?P<y>{_YEAR})\b")
_MONTH_ALONE = re.compile(
    rf"\b(?:in|since|during|until|by|from|of|early|late|mid-?|last|this)\s+(?:early\s+|late\s+|mid-?)?"
    rf"(?P<mon>(?-i:{_MONTH}))(?![\w-])"
)
_YEAR_ALONE = re.compile(
    rf"\b(?:in|since|during|until|by|of|from)\s+(?:early\s+|late\s+|mid-?)?(?P<y>{_YEAR})\b"
)
_WEEKDAY_RE = re.compile(
    rf"\b(?P<last>last\s+)?(?P<wd>{_WEEKDAY})(?!s\b)(?P<lw>\s+(?:of\s+)?last\s+week)?\b"
)
_BARE_DAY = re.compile(rf"\bthe\s+(?P<d>{_DAY})(?!\s+(?:century|anniversary|{_MONTH}))\b")
_RELATIVE = re.compile(
    r"\b(?P<w>today|tonight|this morning|this afternoon|this evening|earlier today|yesterday|"
    r"last night|the day before|the previous day|(?:a|one) day earlier|the day earlier|"
    r"the next day|the following day|(?:a|one) day later|the day after|(?:a|one) day after|"
    r"(?:a|one) day before|earlier this month|last month)\b",
    re.IGNORECASE,
)
_BACKGROUND = re.compile(
    r"(?:\bsince|\bafter|\bfollowing|\bbefore|\buntil|\bahead of|\bthan|\bprior to)\s+"
    r"(?:(?:the|a|an|its|last|early|late|mid-?)\s+)*$",
    re.IGNORECASE,
)
_SPEECH = re.compile(
    r"\b(?:said|says|announced|reported|told reporters|added|stated|confirmed|revealed|claimed|"
    r"released the following report)\s+(?:(?:on|late|early)\s+)?$",
    re.IGNORECASE,
)
_DATELINE_AFTER = re.compile(r"^\s*(?:\([A-Za-z .]+\)\s*)?(?:-|–|—|--)")

_ZONES = {
    "gmt": "UTC", "utc": "UTC", "z": "UTC", "kst": "Asia/Seoul", "seoul time": "Asia/Seoul",
    "korea time": "Asia/Seoul", "jst": "Asia/Tokyo", "tokyo time": "Asia/Tokyo",
    "japan time": "Asia/Tokyo", "pyongyang time": "Asia/Pyongyang", "local time": None,
}  # fmt: skip
_ZONE = r"(?P<zone>local time|Seoul time|Pyongyang time|Tokyo time|Japan time|Korea time|KST|JST|GMT|UTC)"
_TIME = re.compile(
    rf"\b(?P<h>[01]?\d|2[0-3])(?:(?P<sep>[:.])(?P<m>[0-5]\d))?(?::[0-5]\d)?\s*"
    rf"(?P<ampm>[ap]\.?\s?m\b\.?)?(?:\s*\(?{_ZONE}\)?)?",
    re.IGNORECASE,
)
_MILITARY = re.compile(
    rf"\b(?P<hm>[0-2]\d[0-5]\d)\s*(?P<zone>GMT|UTC|KST|JST)\b(?:\s+(?:on\s+)?(?P<wd>{_WEEKDAY}))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    """A date phrase: where it stands, the local date it means, and what it dates."""

    start: int
    end: int
    date: PartialDate
    #: Introduced by "since", "after", "than": it dates something else than the sentence.
    background: bool = False
    #: The date of a statement ("said on Wednesday") or a dateline, not of a launch.
    speech: bool = False


@dataclass(frozen=True)
class TimeMention:
    """A time of day; `zone` None means the actor's local time."""

    start: int
    end: int
    hour: int
    minute: int
    zone: str | None
    #: The UTC day written beside a UTC time ("1817 GMT Tuesday").
    utc_day: date | None = None


def find_times(text: str, published: date) -> list[TimeMention]:
    """Times of day in `text`: `7:22 a.m.`, `09:00`, `10 p.m. local time`, `(0049 GMT)`."""
    out: list[TimeMention] = []
    for m in _MILITARY.finditer(text):
        day = weekday(m["wd"], published) if m["wd"] else None
        hm = m["hm"]
        out.append(TimeMention(m.start(), m.end(), int(hm[:2]), int(hm[2:]), _zone(m["zone"]), day))
    for m in _TIME.finditer(text):
        if any(t.start <= m.start() < t.end for t in out):
            continue
        ampm, zone, sep = m["ampm"], m["zone"], m["sep"]
        if not ampm and not (sep == ":" and zone) and not (sep == ":" and _clock_cue(text, m)):
            continue
        hour = int(m["h"])
        if ampm:
            if hour > 12 or hour == 0:
                continue
            hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
        out.append(
            TimeMention(m.start(), m.end(), hour, int(m["m"] or 0), _zone(zone) if zone else None)
        )
    return sorted(out, key=lambda t: t.start)


def _clock_cue(text: str, m: re.Match[str]) -> bool:
    """A 24-hour `09:00` without a zone counts after "at" or before "on"."""
    before = text[: m.start()].rstrip().lower()
    return before.endswith(("at", "around", "about")) or text[m.end() :].lstrip().startswith("on ")


def _zone(name: str | None) -> str | None:
    return _ZONES.get((name or "local time").lower())


def find_dates(
    text: str, published: date, anchor: date | None = None, skip: Sequence[tuple[int, int]] = ()
) -> list[DateMention]:
    """Date phrases in a sentence, in order. `anchor` is the date the sentence continues
    from (the one before it), used by "the day before" when the sentence has no date of
    its own; `skip` spans (times) are not read again."""
    found: list[DateMention] = []
    taken = list(skip)

    def add(start: int, end: int, value: PartialDate | None) -> None:
        if value is None or any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(_classify(text, start, end, value))

    for m in _ISO.finditer(text):
        add(m.start(), m.end(), _day(int(m["y"]), int(m["m"]), int(m["d"])))
    for m in _MONTH_DAY.finditer(text):
        month, day, year = _normalise(f"{m['mon']} {_digits(m['d'])}", m["y"])
        if month is None:
            continue
        add(m.start(), m.end(), _resolve(month, day, year, published))
        if m["more"]:  # "January 25th and 29th": the other days of that month
            for extra in re.finditer(_DAY, m["more"]):
                value = _resolve(month, int(_digits(extra.group(0))), year, published)
                found.append(_classify(text, m.start(), m.end(), value) if value else found[-1])
    for m in _DAY_MONTH.finditer(text):
        month, day, year = _normalise(f"{_digits(m['d'])} {m['mon']}", m["y"])
        if month is not None:
            add(m.start(), m.end(), _resolve(month, day, year, published))
    for m in _MONTH_YEAR.finditer(text):
        month, _, year = _normalise(m["mon"], m["y"])
        if month is not None and year is not None:
            add(m.start("mon"), m.end(), PartialDate.parse(f"{year}-{month:02d}"))
    for m in _MONTH_ALONE.finditer(text):
        if m["mon"].rstrip(".") == "May" and not re.search(
            r"(?i)\b(?:in|since|during|until|early|late|mid)\s+$", text[: m.start("mon")]
        ):
            continue
        month, _, _ = _normalise(m["mon"], None)
        if month is not None:
            year = published.year if month <= published.month else published.year - 1
            if m.group(0).lower().startswith("last") and month == published.month:
                year -= 1
            add(m.start("mon"), m.end(), PartialDate.parse(f"{year}-{month:02d}"))
    for m in _YEAR_ALONE.finditer(text):
        add(m.start("y"), m.end(), PartialDate.parse(m["y"]))
    for m in _WEEKDAY_RE.finditer(text):
        on = weekday(m["wd"], published, before=bool(m["last"]), weeks_back=1 if m["lw"] else 0)
        add(m.start(), m.end(), PartialDate.parse(on.isoformat()))
    for m in _BARE_DAY.finditer(text):
        add(m.start(), m.end(), _bare_day(int(_digits(m["d"])), published))
    own = next(
        (d.date for d in found if not d.background and not d.speech and d.date.precision == "day"),
        None,
    )
    base = own.first_day if own else anchor
    for m in _RELATIVE.finditer(text):
        add(m.start(), m.end(), _relative(m["w"].lower(), published, base))
    return sorted(found, key=lambda d: d.start)


def _classify(text: str, start: int, end: int, value: PartialDate) -> DateMention:
    before = text[:start]
    speech = bool(_SPEECH.search(before)) or (
        len(before.strip()) < 40 and bool(_DATELINE_AFTER.match(text[end:]))
    )
    if not text[:start].strip() and not text[end:].strip(" ,.;"):
        speech = True  # a line that is only a date: the statement's own date
    phrase = text[start:end].lower()
    relative_other = phrase.startswith(
        ("the day after", "a day after", "one day after", "a day before", "one day before")
    )
    background = bool(_BACKGROUND.search(before)) or (
        relative_other and bool(re.match(r"\s+\w", text[end:]))
    )
    return DateMention(start, end, value, background=background, speech=speech)


@lru_cache(maxsize=2048)
def _normalise(phrase: str, year: str | None) -> tuple[int | None, int, int | None]:
    """dateparser reads the month and day of a phrase we found (any spelling of the
    month); the year is ours to decide when the phrase has none."""
    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={
            "PREFER_DAY_OF_MONTH": "first",
            "RELATIVE_BASE": datetime(2000, 1, 1),  # a leap year: 29 February parses
            "REQUIRE_PARTS": ["month"],
        },
    )
    if parsed is None:
        return None, 1, None
    return parsed.month, parsed.day, int(year) if year else None


def _digits(day: str) -> str:
    return re.sub(r"\D", "", day)


def _day(year: int, month: int, day: int) -> PartialDate | None:
    try:
        return PartialDate.parse(date(year, month, day).isoformat())
    except ValueError:
        return None


def _resolve(month: int, day: int, year: int | None, published: date) -> PartialDate | None:
    """A month and day, in the given year or the latest one on or before publication."""
    if year is not None:
        return _day(year, month, day)
    for y in range(published.year, published.year - 9, -1):
        try:
            candidate = date(y, month, day)
        except ValueError:
            continue
        if candidate <= published:
            return PartialDate.parse(candidate.isoformat())
    return None


def weekday(name: str, published: date, *, before: bool = False, weeks_back: int = 0) -> date:
    """The latest such weekday on or before publication ("last …": before it)."""
    back = (published.weekday() - WEEKDAYS.index(name.lower())) % 7
    if before and back == 0:
        back = 7
    return published - timedelta(days=back + 7 * weeks_back)


def _bare_day(day: int, published: date) -> PartialDate | None:
    """ "The 29th": the latest month holding that day on or before publication."""
    year, month = published.year, published.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) <= published:
            return PartialDate.parse(date(year, month, day).isoformat())
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _relative(word: str, published: date, base: date | None) -> PartialDate | None:
    if word in (
        "today",
        "tonight",
        "this morning",
        "this afternoon",
        "this evening",
        "earlier today",
    ):
        return PartialDate.parse(published.isoformat())
    if word in ("yesterday", "last night"):
        return PartialDate.parse((published - timedelta(days=1)).isoformat())
    if word == "earlier this month":
        return PartialDate.parse(published.isoformat()[:7])
    if word == "last month":
        first = published.replace(day=1) - timedelta(days=1)
        return PartialDate.parse(first.isoformat()[:7])
    if base is None:
        return None
    step = -1 if ("before" in word or "previous" in word or "earlier" in word) else 1
    return PartialDate.parse((base + timedelta(days=step)).isoformat())


def at_utc(day: date, time: TimeMention, actor_zone: str) -> PartialDate:
    """The UTC minute of a time on a local day. A UTC time without its own day takes the
    UTC day on which it falls within that local day in the actor's zone."""
    if time.zone == "UTC":
        if time.utc_day is not None:
            moment = datetime(
                time.utc_day.year,
                time.utc_day.month,
                time.utc_day.day,
                time.hour,
                time.minute,
                tzinfo=UTC,
            )
        else:
            moment = datetime(day.year, day.month, day.day, time.hour, time.minute, tzinfo=UTC)
            for shift in (0, -1, 1):
                candidate = moment + timedelta(days=shift)
                if candidate.astimezone(ZoneInfo(actor_zone)).date() == day:
                    moment = candidate
                    break
    else:
        zone = ZoneInfo(time.zone or actor_zone)
        moment = datetime(day.year, day.month, day.day, time.hour, time.minute, tzinfo=zone)
    return PartialDate.parse(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"))
