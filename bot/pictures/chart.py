"""The timeline chart's numbers: launches (or missiles) per month, quarter or year and
category, counted on the caller's side (pure Python, no matplotlib) into a `ChartSpec`
that a worker draws (`chart_drawing.py`).

It counts every event it is given: the caller chooses them (the visible guilds, the
filters, no retracted events: `services.list_events(..., include_retracted=False)`).
Counting 10,000 events takes about 8 ms on the event loop."""

from __future__ import annotations

from collections.abc import Iterable
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


def period_index(when: PartialDate, period: Period) -> int:
    """Months since year 0, rounded down to the period's start (a date known only to the
    year falls in January, its first possible month)."""
    parts = when.text.split("-")
    months = int(parts[0]) * 12 + (int(parts[1]) - 1 if len(parts) > 1 else 0)
    step = MONTHS_IN[period]
    return months - months % step


def period_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


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
    step = MONTHS_IN[period]
    cells: dict[tuple[str, int], int] = {}
    imprecise = unknown = 0
    for event in events:
        index = period_index(event.date, period)
        if event.date.precision not in _PRECISE_ENOUGH[period]:
            imprecise += 1
        weight = 1
        if count == "missiles":
            if event.count is None:
                unknown += 1
            else:
                weight = max(int(event.count), 0)
        key = (event.category, index)
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
