"""The timeline chart's numbers: launches (or missiles) per month, quarter or year and
category, counted on the caller's side (pure Python, no matplotlib) into a `ChartSpec`
that a worker draws (`chart_drawing.py`).

It counts every event it is given: the caller chooses them (the visible guilds, the
filters, no retracted events: `services.list_events(..., include_retracted=False)`).
Counting 10,000 events takes about 8 ms on the event loop. `counted_chart_spec` takes
counts a `GROUP BY` has made instead (`db/pictures.py`), so the bot never loads the
events at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bot.dates import PartialDate
from bot.pictures.colours import category_order
from bot.pictures.labels import chart_labels
from bot.pictures.specs import ChartLabels, ChartSpec, CountMode, Period

MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}
_PRECISE_ENOUGH = {
    "month": {"month", "day", "minute"},
    "quarter": {"month", "day", "minute"},
    "year": {"year", "month", "day", "minute"},
}


class Dated(Protocol):
    """What the chart reads of an event (`bot.models.Event` has it)."""

    @property
    def date(self) -> PartialDate: ...
    @property
    def category(self) -> str: ...
    @property
    def count(self) -> int | None: ...


def period_index(when: PartialDate | str, period: Period) -> int:
    """Months since year 0, rounded down to the period's start (a date known only to the
    year falls in January, its first possible month)."""
    parts = (when if isinstance(when, str) else when.text).split("-")
    months = int(parts[0]) * 12 + (int(parts[1]) - 1 if len(parts) > 1 else 0)
    step = MONTHS_IN[period]
    return months - months % step


def period_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


class Counted(Protocol):
    """Launches already counted: `events` of one category in one month (`2024-01`, or
    `2024` for dates known only to the year) whose dates are known to `precision`;
    `missiles` the sum of their known counts, `unknown` how many had none
    (`db.pictures.Tally`, from a `GROUP BY`)."""

    @property
    def month(self) -> str: ...
    @property
    def precision(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def events(self) -> int: ...
    @property
    def missiles(self) -> int: ...
    @property
    def unknown(self) -> int: ...


@dataclass(frozen=True)
class _One:
    """One event, counted."""

    month: str
    precision: str
    category: str
    events: int
    missiles: int
    unknown: int


def _counted(event: Dated) -> _One:
    known = event.count is not None
    return _One(
        month=event.date.text,
        precision=event.date.precision,
        category=event.category,
        events=1,
        missiles=max(int(event.count), 0) if event.count is not None else 0,
        unknown=0 if known else 1,
    )


def chart_spec(
    events: Iterable[Dated],
    *,
    title: str,
    period: Period,
    count: CountMode,
    labels: ChartLabels | None = None,
) -> ChartSpec | None:
    """Count events (or missiles: each event's `count`, an unknown count as one) per period
    and category; None when there is nothing to count. Without `labels`, the defaults of
    templates/pictures/labels.j2, whose note says how many counts were unknown or dates
    imprecise."""
    return counted_chart_spec(
        (_counted(e) for e in events), title=title, period=period, count=count, labels=labels
    )


def counted_chart_spec(
    tallies: Iterable[Counted],
    *,
    title: str,
    period: Period,
    count: CountMode,
    labels: ChartLabels | None = None,
) -> ChartSpec | None:
    """`chart_spec` of launches the store has already counted (a chart of 10,000 events
    from a few hundred rows); the same spec as `chart_spec` of those events."""
    step = MONTHS_IN[period]
    cells: dict[tuple[str, int], int] = {}
    imprecise = unknown = 0
    for tally in tallies:
        index = period_index(tally.month, period)
        if tally.precision not in _PRECISE_ENOUGH[period]:
            imprecise += tally.events
        weight = tally.events
        if count == "missiles":
            unknown += tally.unknown
            weight = tally.missiles + tally.unknown
        key = (tally.category, index)
        cells[key] = cells.get(key, 0) + weight
    if not cells:
        return None
    first = min(i for _, i in cells)
    last = max(i for _, i in cells)
    indices = range(first, last + 1, step)
    categories = tuple(category_order({c for c, _ in cells}))
    values = tuple(tuple(cells.get((c, i), 0) for i in indices) for c in categories)
    unknown = unknown if count == "missiles" else 0
    if labels is None:
        labels = chart_labels(period, count, unknown_counts=unknown, imprecise=imprecise)
    return ChartSpec(
        title=title,
        period=period,
        count=count,
        starts=tuple(period_start(i) for i in indices),
        categories=categories,
        values=values,
        labels=labels,
        imprecise=imprecise,
        unknown_counts=unknown,
    )
