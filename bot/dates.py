"""Partial dates: `2024`, `2024-01`, `2024-01-25`, kept as precise as the reports are.

`datetime.date` cannot hold `2024-01`, so dates travel as this small value type. Its
text form sorts correctly as text, which is what the store relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from bot.errors import ValidationError
from bot.i18n import _

Precision = Literal["year", "month", "day", "minute"]
PRECISIONS: tuple[Precision, ...] = ("year", "month", "day", "minute")

_PATTERN = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?P<z>Z|[+-]\d{2}:?\d{2})?)?)?)?$",
    re.ASCII,  # only 0-9: a stored date must sort as text
)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, month, day or minute. `text` is the ISO day part."""

    text: str
    precision: Precision
    at: datetime | None = None  # UTC instant, only for precision "minute"

    @classmethod
    def parse(cls, value: str, field: str = "date") -> PartialDate:
        """Read an ISO date that may be partial; raise ValidationError naming the forms."""
        raw = (value or "").strip()
        m = _PATTERN.match(raw)
        if not m:
            raise ValidationError(
                field,
                _(
                    "'{value}' is not a date; use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MMZ."
                ).format(value=_clip(raw)),
            )
        y, mo, d = m["y"], m["m"], m["d"]
        try:
            if d is not None:
                day = date(int(y), int(mo), int(d))
            elif mo is not None:
                date(int(y), int(mo), 1)
        except ValueError:
            raise ValidationError(
                field,
                _(
                    "'{value}' is not a real calendar date; use YYYY, YYYY-MM, YYYY-MM-DD or "
                    "YYYY-MM-DDTHH:MMZ."
                ).format(value=_clip(raw)),
            ) from None
        if int(y) < 1900:
            raise ValidationError(field, _("years before 1900 are not accepted."))
        if m["H"] is not None:
            try:
                naive = datetime(
                    day.year, day.month, day.day, int(m["H"]), int(m["M"]), int(m["S"] or 0)
                )
            except ValueError:
                raise ValidationError(
                    field, _("'{value}' has no such time of day.").format(value=_clip(raw))
                ) from None
            z, offset = m["z"], _offset(m["z"])
            if z not in (None, "Z") and (int(z[-2:]) > 59 or abs(offset) > timedelta(hours=14)):
                raise ValidationError(
                    field,
                    _("'{value}' has no such UTC offset; use Z or one such as +09:00.").format(
                        value=_clip(raw)
                    ),
                )
            at = naive.replace(tzinfo=UTC) - offset
            return cls(at.date().isoformat(), "minute", at)
        if d is not None:
            return cls(f"{y}-{mo}-{d}", "day")
        if mo is not None:
            return cls(f"{y}-{mo}", "month")
        return cls(y, "year")

    @classmethod
    def from_store(cls, text: str, precision: str, at: datetime | str | None) -> PartialDate:
        """Rebuild from stored columns, trusting them (they were validated on the way in)."""
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return cls(text, precision, at)  # type: ignore[arg-type]

    @property
    def first_day(self) -> date:
        """The earliest day this date may mean."""
        parts = [int(p) for p in self.text.split("-")] + [1, 1]
        return date(parts[0], parts[1], parts[2])

    @property
    def last_day(self) -> date:
        """The latest day this date may mean."""
        first = self.first_day
        if self.precision == "year":
            return date(first.year, 12, 31)
        if self.precision == "month":
            nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return nxt - timedelta(days=1)
        return first

    def iso(self) -> str:
        """The form a person typed it in: the day part, or the UTC minute when known."""
        if self.at is not None:
            return self.at.strftime("%Y-%m-%dT%H:%MZ")
        return self.text

    def check_not_future(self, field: str, now: datetime | None = None) -> None:
        """Refuse a date more than a day in the future (typos such as 2042 for 2024)."""
        limit = (now or datetime.now(UTC)) + timedelta(days=1)
        if (self.at > limit) if self.at is not None else (self.first_day > limit.date()):
            raise ValidationError(
                field,
                _("{date} is in the future; launches are recorded after they happen.").format(
                    date=self.iso()
                ),
            )

    def __str__(self) -> str:
        return self.iso()


def _offset(z: str | None) -> timedelta:
    if not z or z == "Z":
        return timedelta(0)
    sign = 1 if z[0] == "+" else -1
    digits = z[1:].replace(":", "")
    return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def since_bound(value: PartialDate) -> str:
    """The smallest occurred_on text a `since` filter admits."""
    return value.text


def until_bound(value: PartialDate) -> str:
    """A text greater than every occurred_on that an `until` filter admits (`2024-01` -> all Jan)."""
    return value.text + "~"
