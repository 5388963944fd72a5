"""Turn raw input (from a command, the CLI or an import) into values the store accepts.

Every rule raises `ValidationError(field, fix)` naming the field and what to type instead,
before anything is written, so rejected input changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from bot import models
from bot.dates import PartialDate
from bot.errors import ValidationError
from bot.fields import specs
from bot.i18n import _
from bot.text import strip_bidi

#: Each event field's rules, as its dataclass declares them (bot/models.py).
_EVENT = specs(models.Event)
#: Longest text each field may hold, in characters (declared on the row dataclasses).
MAX_LENGTH = models.MAX_LENGTH
MAX_SOURCES = 10
MAX_COUNT = int(_EVENT["count"].high or 0)
_ENUMS: dict[str, tuple[str, ...]] = {
    **{name: spec.choices for name, spec in _EVENT.items() if spec.choices},
    "actor_kind": models.ACTOR_KINDS,
    "stance": models.STANCES,
    "min_confidence": tuple(models.CONFIDENCE_RANK),
    "mode": models.MODES,
    "digest_every": models.DIGEST_EVERY,
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(field: str, value: Any, *, required: bool = False) -> str | None:
    """Trimmed text within its length bound, bidi controls removed; None when blank and optional."""
    if value is not None:
        value = strip_bidi(str(value))
    if _blank(value):
        if required:
            raise ValidationError(
                field, _("{field} is required; give a short text.").format(field=field)
            )
        return None
    value = " ".join(value.split()) if field != "summary" and field != "quote" else value.strip()
    if "\x00" in value:
        raise ValidationError(field, _("contains a NUL character; remove it."))
    limit = MAX_LENGTH.get(field, 200)
    if len(value) > limit:
        raise ValidationError(
            field,
            _("is {length} characters long; keep it to {limit}.").format(
                length=len(value), limit=limit
            ),
        )
    return value


def enum(field: str, value: Any, *, required: bool = False) -> str | None:
    """One of the field's allowed values (case and spaces forgiven: `Cruise Missile`)."""
    if _blank(value):
        if required:
            raise ValidationError(
                field,
                _("{field} is required; use one of {values}.").format(
                    field=field, values=", ".join(_ENUMS[field])
                ),
            )
        return None
    norm = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if norm not in _ENUMS[field]:
        raise ValidationError(
            field,
            _("'{value}' is not allowed; use one of {values}.").format(
                value=_clip(str(value)), values=", ".join(_ENUMS[field])
            ),
        )
    return norm


_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def number(
    field: str, value: Any, *, low: float | None = None, high: float | None = None
) -> float | None:
    if _blank(value):
        return None
    try:
        out = (
            float(_THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), str(value).strip()))
            if not isinstance(value, int | float)
            else float(value)
        )
    except ValueError:
        raise ValidationError(
            field,
            _("'{value}' is not a number; give digits such as 150 or 12.5.").format(
                value=_clip(str(value))
            ),
        ) from None
    if isinstance(value, bool) or not math.isfinite(out):
        raise ValidationError(field, _("must be a finite number."))
    if low is not None and out < low:
        raise ValidationError(field, _("must be at least {low}.").format(low=f"{low:g}"))
    if high is not None and out > high:
        raise ValidationError(field, _("must be at most {high}.").format(high=f"{high:g}"))
    return out


_CLOCK = re.compile(r"^([01]?\d|2[0-3])(?::([0-5]\d))?$")


def clock_time(field: str, value: Any) -> str | None:
    """A wall-clock time as `HH:MM` (24-hour); `8`, `8:30` and `18:05` are accepted."""
    if _blank(value):
        return None
    match = _CLOCK.match(str(value).strip())
    if match is None:
        raise ValidationError(
            field,
            _("'{value}' is not a time of day; use HH:MM, e.g. 08:00 or 18:30.").format(
                value=_clip(str(value))
            ),
        )
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def count(value: Any) -> int | None:
    if _blank(value):
        return None
    try:
        n = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(
            "count",
            _(
                "'{value}' is not a whole number; give 1 or more, or leave it empty when reports "
                "don't say."
            ).format(value=_clip(str(value))),
        ) from None
    if isinstance(value, bool) or n < 1:
        raise ValidationError(
            "count", _("must be 1 or more; leave it empty when reports don't say.")
        )
    if n > MAX_COUNT:
        raise ValidationError("count", _("must be at most {high}.").format(high=MAX_COUNT))
    return n


def partial_date(
    field: str, value: Any, *, required: bool = False, now: datetime | None = None
) -> PartialDate | None:
    if isinstance(value, PartialDate):
        value.check_not_future(field, now)
        return value
    if _blank(value):
        if required:
            raise ValidationError(
                field,
                _("{field} is required; use YYYY, YYYY-MM or YYYY-MM-DD.").format(field=field),
            )
        return None
    parsed = PartialDate.parse(str(value), field)
    parsed.check_not_future(field, now)
    return parsed


def source(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A source: an http(s) URL, or a citation with at least a title or publisher."""
    url = text("url", raw.get("url"))
    if url is not None:
        try:
            parsed = urlparse(url)
        except ValueError:  # `http://[oops`: a broken IPv6 host
            parsed = urlparse("")
        if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in url:
            raise ValidationError(
                "source_url",
                _(
                    "'{value}' is not a web address; use one starting with https:// or http://."
                ).format(value=_clip(url)),
            )
    out = {
        "url": url,
        "publisher": text("publisher", raw.get("publisher")),
        "title": text("title", raw.get("title")),
        "published_on": None,
    }
    published = partial_date("published_on", raw.get("published_on"))
    out["published_on"] = published.text if published else None
    if not any((out["url"], out["publisher"], out["title"])):
        raise ValidationError("source", _("a source needs a URL, a title or a publisher."))
    return out


def sources(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str | bytes | Mapping) or not hasattr(raw, "__iter__"):
        raise ValidationError(
            "sources", _("must be a list of sources, each with a url, title or publisher.")
        )
    items = list(raw)
    if len(items) > MAX_SOURCES:
        raise ValidationError(
            "sources",
            _("has {count} sources; keep it to {limit}.").format(
                count=len(items), limit=MAX_SOURCES
            ),
        )
    out = []
    for item in items:
        if not isinstance(item, Mapping) and not hasattr(item, "as_dict"):
            raise ValidationError("sources", _("each source needs a url, a title or a publisher."))
        out.append(source(item if isinstance(item, Mapping) else item.as_dict()))
    return out


def event_field(field: str, value: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Validate one editable field; returns the store columns it sets."""
    if field == "date":
        d = partial_date("date", value, required=True, now=now)
        assert d is not None
        return {
            "occurred_on": d.text,
            "date_precision": d.precision,
            "occurred_at": d.at.isoformat() if d.at else None,
        }
    if field not in models.EDITABLE_FIELDS:
        raise ValidationError(
            field,
            _("is not a field of an event; editable fields: {fields}.").format(
                fields=", ".join(models.EDITABLE_FIELDS)
            ),
        )
    spec = _EVENT[field]  # what its dataclass field declares: kind, bounds, required
    if spec.choices:
        v = enum(field, value, required=spec.required)
        if field == "confidence" and v == "retracted":
            raise ValidationError(
                "confidence", _("use /event retract with a reason to retract an event.")
            )
        return {field: v}
    if spec.whole:
        return {field: count(value)}
    if spec.low is not None or spec.high is not None:
        return {field: number(field, value, low=spec.low, high=spec.high)}
    return {field: text(field, value, required=spec.required)}


def event(
    raw: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A whole new event: its columns, and its sources. Unknown keys are refused."""
    known = set(models.EDITABLE_FIELDS) | {"sources"}
    for key in raw:
        if key not in known:
            raise ValidationError(
                key,
                _("is not a field of an event; fields: {fields}.").format(
                    fields=", ".join(sorted(known))
                ),
            )
    values: dict[str, Any] = dict(models.EVENT_DEFAULTS)
    for field in models.EDITABLE_FIELDS:
        if field in raw and not (_blank(raw[field]) and field in models.EVENT_DEFAULTS):
            values.update(event_field(field, raw[field], now=now))
        elif _EVENT[field].required and field not in models.EVENT_DEFAULTS:
            values.update(event_field(field, None, now=now))
    srcs = sources(raw.get("sources"))
    if not srcs and values["confidence"] not in ("reported", "retracted"):
        if values["confidence"] == "confirmed":
            fix = _(
                "a confirmed event needs at least one source; add source_url or source_title, "
                "or set confidence to reported."
            )
        else:
            fix = _(
                "a disputed event needs at least one source; add source_url or source_title, "
                "or set confidence to reported."
            )
        raise ValidationError("source", fix)
    return values, srcs


def reaction(
    raw: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A reaction to one event (event_id) or to a series of events (since, until)."""
    values: dict[str, Any] = {
        "actor": text("actor", raw.get("actor"), required=True),
        "actor_kind": enum("actor_kind", raw.get("actor_kind")) or "government",
        "stance": enum("stance", raw.get("stance"), required=True),
        "summary": text("summary", raw.get("summary"), required=True),
        "speaker": text("speaker", raw.get("speaker")),
        "speaker_title": text("speaker_title", raw.get("speaker_title")),
        "affiliation": text("affiliation", raw.get("affiliation")),
        "quote": text("quote", raw.get("quote")),
        "event_id": raw.get("event_id"),
    }
    said = partial_date("said_on", raw.get("said_on"), now=now)
    since = partial_date("since", raw.get("since"), now=now)
    until = partial_date("until", raw.get("until"), now=now)
    values["said_on"] = said.text if said else None
    values["since"] = since.text if since else None
    values["until"] = until.text if until else None
    if values["event_id"] is None and since is None:
        raise ValidationError(
            "event",
            _("a reaction answers an event, or a series: give event, or since (and until)."),
        )
    if values["event_id"] is not None and (since or until):
        raise ValidationError("since", _("give either an event or a since/until series, not both."))
    if since and until and until.last_day < since.first_day:
        raise ValidationError(
            "until",
            _("{until} is before since {since}; swap them.").format(until=until, since=since),
        )
    return values, sources(raw.get("sources"))


def _clip(value: str, n: int = 40) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"
