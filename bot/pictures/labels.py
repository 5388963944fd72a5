"""The words on and about the pictures, from templates/pictures/: the default labels a
caller may pass (or replace with its own, translated), and the descriptions (alt text).

The drawing code composes no sentence: it draws the strings in a spec. Descriptions are
written on the caller's side from the spec, so a worker process needs no templates.
"""

from __future__ import annotations

from typing import Any

from bot.models import CATEGORIES
from bot.pictures.specs import (
    ChartLabels,
    ChartSpec,
    CountMode,
    EventMapSpec,
    MapLabels,
    Period,
    PeriodMapSpec,
    Spec,
)
from bot.render import clip, environment, render

#: Discord's limit on an attachment's description.
DESCRIPTION_LIMIT = 1024
#: A period map's description names this many sites, the busiest first.
NAMED_SITES = 5


def _macro(name: str, *args: Any) -> str:
    module = environment().get_template("pictures/labels.j2").module
    return " ".join(str(getattr(module, name)(*args)).split())


def category_names() -> dict[str, str]:
    """Every category's legend name: `icbm` -> `ICBM`."""
    return {c: _macro("category", c) for c in CATEGORIES}


def chart_labels(
    period: Period, count: CountMode, *, unknown_counts: int = 0, imprecise: int = 0
) -> ChartLabels:
    """Axis names, category names, and a note on how missiles or imprecise dates were
    counted (None when there is nothing to say)."""
    note = _macro("chart_note", count, unknown_counts, imprecise, period)
    return ChartLabels(
        x=_macro("chart_x", period),
        y=_macro("chart_y", count),
        categories=category_names(),
        note=note or None,
    )


def map_labels(
    *, distance_km: float | None = None, claimed_distance_km: float | None = None
) -> MapLabels:
    """Legend and ring names, with the distances in them."""
    return MapLabels(
        reported_range=_macro("reported_range", distance_km or 0),
        claimed_range=_macro("claimed_range", claimed_distance_km or 0),
        landing=_macro("landing"),
        categories=category_names(),
    )


def launches(n: int) -> str:
    """`1 launch`, `12 launches`: a period map's size key."""
    return _macro("launches", n)


def describe(spec: Spec) -> str:
    """The picture's description in words, one paragraph within Discord's 1,024
    characters."""
    if isinstance(spec, ChartSpec):
        text = render("pictures/chart.j2", **_chart_context(spec))
    elif isinstance(spec, EventMapSpec):
        text = render("pictures/event_map.j2", spec=spec)
    else:
        text = render("pictures/period_map.j2", **_period_context(spec))
    return clip(" ".join(text.split()), DESCRIPTION_LIMIT)


def _chart_context(spec: ChartSpec) -> dict[str, Any]:
    totals = spec.totals()
    top = max(range(len(totals)), key=lambda i: (totals[i], -i))
    by_category = sorted(
        ((c, sum(row)) for c, row in zip(spec.categories, spec.values, strict=True)),
        key=lambda item: -item[1],
    )
    return {
        "spec": spec,
        "busiest": (spec.starts[top], totals[top]),
        "by_category": [(c, n) for c, n in by_category if n],
    }


def _period_context(spec: PeriodMapSpec) -> dict[str, Any]:
    sites = sorted(spec.sites, key=lambda s: -s.total)[:NAMED_SITES]
    return {"spec": spec, "sites": sites}
