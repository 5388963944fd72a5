"""Launch maps' contents, gathered on the caller's side from events: an event's site,
landing point and ranges; a period's sites with their launches by category. Drawing is
`map_drawing.py`'s, in a worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Protocol

from bot.pictures.colours import category_order
from bot.pictures.labels import launches, map_labels
from bot.pictures.specs import REGION, EventMapSpec, MapLabels, PeriodMapSpec, Site

#: Positions are rounded to this many decimals of a degree (about a kilometre) to make
#: one site of reports that differ in the last digits.
SITE_PRECISION = 2


class Located(Protocol):
    """What the maps read of an event (`bot.models.Event` has it)."""

    @property
    def category(self) -> str: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def launch_site(self) -> str | None: ...


def in_region(lon: float, lat: float) -> bool:
    """Inside the committed geography? (Longitudes are taken east, 0-360, so 170°W is
    190°E.)"""
    west, south, east, north = REGION
    east_lon = lon % 360.0
    return south <= lat <= north and (west <= east_lon <= east)


def event_map_spec(
    event: Located,
    *,
    title: str,
    distance_km: float | None = None,
    claimed_distance_km: float | None = None,
    landing: tuple[float, float] | None = None,
    labels: MapLabels | None = None,
    event_id: int | None = None,
    revision: int | None = None,
) -> EventMapSpec | None:
    """An event's map, or None when it has no position the map can show (the caller then
    says so in words). `landing` is (lon, lat); without it, the reported distance is a
    ring. The claimed distance is a number the caller passes (the model may lack it)."""
    lon, lat = event.longitude, event.latitude
    if lon is None or lat is None or not in_region(lon, lat):
        return None
    if landing is not None and not in_region(*landing):
        landing = None
    ring = distance_km if distance_km and distance_km > 0 and landing is None else None
    claimed = claimed_distance_km if claimed_distance_km and claimed_distance_km > 0 else None
    return EventMapSpec(
        title=title,
        lon=lon,
        lat=lat,
        category=event.category,
        labels=labels or map_labels(distance_km=ring, claimed_distance_km=claimed),
        site=event.launch_site,
        landing=landing,
        distance_km=ring,
        claimed_distance_km=claimed,
        event_id=event_id,
        revision=revision,
    )


def period_map_spec(
    events: Iterable[Located], *, title: str, labels: MapLabels | None = None
) -> PeriodMapSpec | None:
    """Every site of the events, with its launches by category; None when not one event
    has a position on the map."""
    counts: dict[tuple[float, float], Counter[str]] = {}
    names: dict[tuple[float, float], Counter[str]] = {}
    left_out = 0
    for event in events:
        lon, lat = event.longitude, event.latitude
        if lon is None or lat is None or not in_region(lon, lat):
            left_out += 1
            continue
        key = (round(lon, SITE_PRECISION), round(lat, SITE_PRECISION))
        counts.setdefault(key, Counter())[event.category] += 1
        if event.launch_site:
            names.setdefault(key, Counter())[event.launch_site] += 1
    if not counts:
        return None
    sites = []
    for key in sorted(counts):
        by_category = counts[key]
        order = {c: i for i, c in enumerate(category_order(set(by_category)))}
        ranked = sorted(by_category.items(), key=lambda item: (-item[1], order[item[0]]))
        name = (
            min(names[key].items(), key=lambda item: (-item[1], item[0]))[0]
            if key in names
            else None
        )
        sites.append(Site(lon=key[0], lat=key[1], name=name, counts=tuple(ranked)))
    largest = max(s.total for s in sites)
    steps = sorted({1, max(1, largest // 4), largest}) if largest >= 8 else sorted({1, largest})
    return PeriodMapSpec(
        title=title,
        sites=tuple(sites),
        labels=labels or map_labels(),
        left_out=left_out,
        sizes=tuple((n, launches(n)) for n in steps),
    )
