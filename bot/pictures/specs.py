"""What to draw and what comes back: plain, picklable values.

A spec holds everything a drawing needs (numbers, colours by category, the caller's
strings), so it can cross to a worker thread or process; the drawing returns bytes and
the frame that maps lon/lat to pixels, and the description is written on the caller's
side from the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Period = Literal["month", "quarter", "year"]
CountMode = Literal["events", "missiles"]
PERIODS: tuple[Period, ...] = ("month", "quarter", "year")
COUNT_MODES: tuple[CountMode, ...] = ("events", "missiles")
#: The committed geography's reach (west, south, east, north; east past 180 runs on over
#: the antimeridian): a site outside it has no map. `geography.py` checks the file agrees.
REGION = (25.0, -40.0, 240.0, 85.0)


@dataclass(frozen=True)
class ChartLabels:
    """The strings a chart shows: its axes, the legend's category names, and a note under
    the title (e.g. how unknown missile counts were counted). From the caller, or
    `labels.chart_labels` (templates/pictures/labels.j2)."""

    x: str
    y: str
    categories: Mapping[str, str]
    note: str | None = None


@dataclass(frozen=True)
class MapLabels:
    """The strings a map shows in its legend and beside its rings."""

    reported_range: str
    claimed_range: str
    landing: str
    categories: Mapping[str, str]


@dataclass(frozen=True)
class ChartSpec:
    """Stacked bars: `values[c][p]` launches (or missiles) of `categories[c]` in the period
    starting `starts[p]`. Periods run without gaps from the first launch to the last."""

    title: str
    period: Period
    count: CountMode
    starts: tuple[date, ...]
    categories: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]
    labels: ChartLabels
    #: Events known less precisely than the period (a year in a monthly chart): each is
    #: counted in the first period its date could be.
    imprecise: int = 0
    #: Missiles mode: events without a count, each counted as one.
    unknown_counts: int = 0

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.values)

    def totals(self) -> list[int]:
        """Each period's height."""
        return [sum(column) for column in zip(*self.values, strict=True)] if self.values else []


@dataclass(frozen=True)
class EventMapSpec:
    """One launch: its site, where it came down when known, and the distances reported."""

    title: str
    lon: float
    lat: float
    category: str
    labels: MapLabels
    site: str | None = None
    landing: tuple[float, float] | None = None  # lon, lat
    distance_km: float | None = None
    claimed_distance_km: float | None = None
    event_id: int | None = None
    revision: int | None = None


@dataclass(frozen=True)
class Site:
    """One launch site of a period: launches by category, the most common first."""

    lon: float
    lat: float
    name: str | None
    counts: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True)
class PeriodMapSpec:
    """Every launch site of a period. `left_out` launches had no position on the map.
    `sizes` are the legend's marker sizes: (launches, label), e.g. (1, "1 launch")."""

    title: str
    sites: tuple[Site, ...]
    labels: MapLabels
    left_out: int = 0
    sizes: tuple[tuple[int, str], ...] = ()

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sites)


Spec = ChartSpec | EventMapSpec | PeriodMapSpec


@dataclass(frozen=True)
class Frame:
    """How a map's lon/lat land on its image: the view in projected metres and the axes'
    box in image pixels (origin top left, as PIL reads a PNG)."""

    x0: float
    x1: float
    y0: float
    y1: float
    left: float
    top: float
    width: float
    height: float

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """The image pixel (column, row) where a lon/lat is drawn."""
        from bot.pictures.geography import project_point  # numpy and pyproj: worker side

        x, y = project_point(lon, lat)
        col = self.left + (x - self.x0) / (self.x1 - self.x0) * self.width
        row = self.top + (self.y1 - y) / (self.y1 - self.y0) * self.height
        return col, row


@dataclass(frozen=True)
class Timings:
    """Where a picture's time went, in the worker (bench/pictures.py reads them)."""

    build_ms: float = 0.0  # making the figure's artists
    raster_ms: float = 0.0  # Agg drawing them
    encode_ms: float = 0.0  # PNG


@dataclass(frozen=True)
class Drawn:
    """A worker's answer: the PNG, how long it took and, for a map, its frame."""

    png: bytes
    width: int
    height: int
    frame: Frame | None = None
    timings: Timings = field(default_factory=Timings)


@dataclass(frozen=True)
class Picture:
    """A finished picture: PNG bytes, size, and a description (alt text) in words."""

    png: bytes
    width: int
    height: int
    description: str
    frame: Frame | None = field(default=None, repr=False)
    timings: Timings = field(default_factory=Timings, repr=False)


@dataclass(frozen=True)
class NothingToDraw:
    """The answer for an empty period or an event with no position: the caller's sentence,
    to send instead of an empty picture."""

    sentence: str


Outcome = Picture | NothingToDraw | None
