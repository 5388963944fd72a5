"""Drawing launch maps, in a worker: one event's (site, landing point, range rings) and a
period's (every site).

Drawn in the fixed projection of `geography.py`; the view is the smallest box with the
map's own aspect that holds what must be seen (the site, the landing point, the whole
of each ring) with a margin, no narrower than `MIN_WIDTH` so a lone site still shows
the coasts around it, and no wider than `MAX_WIDTH` (the committed geography's reach).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, PathPatch, Wedge
from matplotlib.path import Path

from bot.pictures import figure
from bot.pictures.colours import (
    BORDER,
    CARD,
    COAST,
    GRID,
    INK,
    LAND,
    LANDING,
    MUTED,
    SEA,
    category_colour,
    category_order,
)
from bot.pictures.geography import Array, project, project_point, projected, ring_paths
from bot.pictures.specs import REGION, Drawn, EventMapSpec, Frame, PeriodMapSpec

HEIGHT = 900
#: The map's axes in figure fractions (left, bottom, width, height): the title above.
BOX = (0.012, 0.015, 0.976, 0.875)
MIN_WIDTH = 1_700_000.0  # metres across: the peninsula and the sea on either side
MAX_WIDTH = 12_000_000.0  # within the committed geography, whichever site is centred
MARGIN = 0.08
SITE_SIZE = 15  # the event map's site marker, in pixels across
RING: dict[str, Any] = {"reported": "solid", "claimed": (0, (6, 4))}
SIZE_MIN, SIZE_MAX = 9.0, 42.0  # a period map's markers, pixels across
LABELLED_SITES = 6
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


def _view(points: Array, aspect: float) -> tuple[float, float, float, float]:
    """The box (x0, x1, y0, y1) holding `points` with a margin, at `aspect` (width over
    height), between MIN_WIDTH and MAX_WIDTH across. When the points are taller than
    the widest view, its bottom stays on theirs: a ring's southern reach (Guam, the
    Pacific) is kept, and its Arctic top is cut."""
    finite = points[np.isfinite(points).all(axis=1)]
    (xmin, ymin), (xmax, ymax) = finite.min(axis=0), finite.max(axis=0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    needed = (ymax - ymin) * (1 + 2 * MARGIN)
    width = max((xmax - xmin) * (1 + 2 * MARGIN), needed * aspect)
    width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    height = width / aspect
    if needed > height:
        y0 = ymin - (ymax - ymin) * MARGIN
        return cx - width / 2, cx + width / 2, y0, y0 + height
    return cx - width / 2, cx + width / 2, cy - height / 2, cy + height / 2


def _base(title: str, points: Array) -> tuple[Figure, Axes]:
    """The card, the title, and the sea, land, coasts, borders and graticule in view."""
    fig = figure.new_figure(figure.WIDTH, HEIGHT)
    ax = fig.add_axes(BOX)
    aspect = (BOX[2] * figure.WIDTH) / (BOX[3] * HEIGHT)
    x0, x1, y0, y1 = _view(points, aspect)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_facecolor(SEA)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(COAST)
    geo = projected()
    _graticule(ax, x1 - x0)
    land = Path.make_compound_path(*(Path(ring, closed=True) for ring in geo.land))
    # add_artist, not add_patch: the limits are fixed, and add_patch would walk the
    # 36,000 vertices to update them.
    ax.add_artist(
        PathPatch(land, facecolor=LAND, edgecolor="none", zorder=2, transform=ax.transData)
    )
    ax.add_collection(
        LineCollection(list(geo.coasts), colors=COAST, linewidths=0.8, zorder=3), autolim=False
    )
    ax.add_collection(
        LineCollection(
            list(geo.borders), colors=BORDER, linewidths=1.0, linestyles=(0, (4, 2)), zorder=3
        ),
        autolim=False,
    )
    figure.title(fig, title)
    return fig, ax


def _graticule(ax: Axes, width: float) -> None:
    """Parallels and meridians every 5° (10° on a wide map): faint, for orientation."""
    step = 5 if width < 5_000_000 else 10
    lines = []
    west, south, east, north = REGION
    for lat in range(int(south), int(north) + 1, step):
        lons = np.linspace(west, east, 216)
        lines.append(np.column_stack(project(lons, np.full_like(lons, lat))))
    for lon in range(int(west) + 5, int(east) + 1, step):
        lats = np.linspace(south, north, 126)
        lines.append(np.column_stack(project(np.full_like(lats, lon), lats)))
    ax.add_collection(LineCollection(lines, colors=GRID, linewidths=0.6, zorder=1.5), autolim=False)


def _finish(fig: Figure, ax: Axes, started: float) -> Drawn:
    """Render, then read where the axes landed: the frame maps lon/lat to image pixels."""
    built = time.perf_counter()
    data, timings = figure.png(fig)
    width, height = figure.pixel_size(fig)
    left, bottom, w, h = ax.bbox.bounds
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    frame = Frame(x0, x1, y0, y1, left, height - (bottom + h), w, h)
    return Drawn(data, width, height, frame, replace(timings, build_ms=(built - started) * 1000))


def _legend(ax: Axes, handles: Sequence[Line2D]) -> None:
    if not handles:
        return
    legend = ax.legend(
        handles=list(handles), loc="lower left", frameon=True, prop=figure.legend_font(),
        ncols=2 if len(handles) > 9 else 1,
        labelcolor=INK, facecolor=CARD, edgecolor=GRID, framealpha=0.92, borderpad=0.8,
        labelspacing=0.9, handlelength=2.6,
    )  # fmt: skip
    legend.set_zorder(10)


def _marker(colour: str, size: float, label: str, marker: str = "o") -> Line2D:
    return Line2D(
        [], [], linestyle="none", marker=marker, markersize=size * 0.72, markerfacecolor=colour,
        markeredgecolor=INK, markeredgewidth=0.8, label=label,
    )  # fmt: skip


def _ring_label(ax: Axes, path: Array, text: str, north: bool) -> None:
    """The ring's name at its northernmost (or southernmost) point well inside the view."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    mx, my = (x1 - x0) * 0.12, (y1 - y0) * 0.1
    inside = path[
        (path[:, 0] > x0 + mx) & (path[:, 0] < x1 - mx)
        & (path[:, 1] > y0 + my) & (path[:, 1] < y1 - my)
    ]  # fmt: skip
    if not len(inside):
        return
    x, y = inside[np.argmax(inside[:, 1]) if north else np.argmin(inside[:, 1])]
    ax.text(
        x, y, text, fontsize=figure.LEGEND_SIZE, fontfamily=figure.FONT, color=INK,
        ha="center", va="bottom" if north else "top", zorder=8, path_effects=HALO,
    )  # fmt: skip


def draw_event_map(spec: EventMapSpec) -> Drawn:
    """A launch: its site, its landing point when known, and rings of the reported and
    claimed distances around the site (geodesic)."""
    started = time.perf_counter()
    site = np.array([project_point(spec.lon, spec.lat)])
    rings: list[tuple[str, list[Array], str]] = []
    if spec.landing is None and spec.distance_km:
        rings.append(
            (
                "reported",
                ring_paths(spec.lon, spec.lat, spec.distance_km),
                spec.labels.reported_range,
            )
        )
    if spec.claimed_distance_km:
        rings.append(
            (
                "claimed",
                ring_paths(spec.lon, spec.lat, spec.claimed_distance_km),
                spec.labels.claimed_range,
            )
        )
    points = [site] + [p for _, paths, _ in rings for p in paths]
    landing = None
    if spec.landing is not None:
        landing = np.array([project_point(*spec.landing)])
        points.append(landing)
    fig, ax = _base(spec.title, np.vstack(points))
    handles = [_marker(category_colour(spec.category), SITE_SIZE, _category(spec))]
    for n, (kind, paths, label) in enumerate(rings):
        for path in paths:
            ax.plot(
                path[:, 0], path[:, 1], color=INK, linewidth=2.0, linestyle=RING[kind], zorder=5
            )
        if paths:
            _ring_label(ax, max(paths, key=len), label, north=n == 0)
            handles.append(
                Line2D([], [], color=INK, linewidth=2.0, linestyle=RING[kind], label=label)
            )
    if landing is not None:
        ax.plot(
            landing[:, 0], landing[:, 1], linestyle="none", marker="X", markersize=12,
            markerfacecolor=LANDING, markeredgecolor="white", markeredgewidth=1.2, zorder=6,
        )  # fmt: skip
        handles.append(_marker(LANDING, 14, spec.labels.landing, marker="X"))
    ax.plot(
        site[:, 0], site[:, 1], linestyle="none", marker="o", markersize=SITE_SIZE * 0.72,
        markerfacecolor=category_colour(spec.category), markeredgecolor=INK,
        markeredgewidth=1.0, zorder=7,
    )  # fmt: skip
    if spec.site:
        _site_name(ax, site[0], spec.site, SITE_SIZE)
    _legend(ax, handles)
    return _finish(fig, ax, started)


def _category(spec: EventMapSpec) -> str:
    return spec.labels.categories.get(spec.category, spec.category)


def _site_name(ax: Axes, xy: Array, name: str, size: float) -> None:
    ax.annotate(
        name, xy=(float(xy[0]), float(xy[1])), xytext=(size * 0.5 + 4, 0),
        textcoords="offset pixels", fontsize=figure.LEGEND_SIZE, fontfamily=figure.FONT,
        color=MUTED, va="center", ha="left", zorder=8, path_effects=HALO,
        annotation_clip=True,
    )  # fmt: skip


def _name_sites(ax: Axes, spec: PeriodMapSpec, x: Array, y: Array, largest: int) -> None:
    """Name the busiest sites, skipping one whose name would sit on a named one's."""
    (x0, x1), width = ax.get_xlim(), ax.bbox.width
    per_pixel = (x1 - x0) / width
    named: list[tuple[float, float]] = []
    for i in sorted(range(len(spec.sites)), key=lambda i: (-spec.sites[i].total, i)):
        site = spec.sites[i]
        if len(named) >= LABELLED_SITES or not site.name:
            continue
        if any(
            abs(x[i] - a) < 150 * per_pixel and abs(y[i] - b) < 24 * per_pixel for a, b in named
        ):
            continue
        named.append((x[i], y[i]))
        _site_name(ax, np.array([x[i], y[i]]), site.name, marker_size(site.total, largest))


def marker_size(count: int, largest: int) -> float:
    """Pixels across: area grows with the count, from SIZE_MIN (one launch) to SIZE_MAX
    (the busiest site on the map)."""
    if largest <= 1:
        return SIZE_MIN
    share = (count - 1) / (largest - 1)
    return math.sqrt(SIZE_MIN**2 + share * (SIZE_MAX**2 - SIZE_MIN**2))


def draw_period_map(spec: PeriodMapSpec) -> Drawn:
    """Every site of a period: a disc per site, its area by the site's launches, cut into
    slices by category (clockwise from the top, in the model's order of categories)."""
    started = time.perf_counter()
    lons = np.array([s.lon for s in spec.sites])
    lats = np.array([s.lat for s in spec.sites])
    x, y = project(lons, lats)
    fig, ax = _base(spec.title, np.column_stack([x, y]))
    (x0, x1) = ax.get_xlim()
    per_pixel = (x1 - x0) / ax.bbox.width  # metres per pixel, the same across and up
    largest = max(s.total for s in spec.sites)
    slices: list[Patch] = []
    colours: list[str] = []
    for i in sorted(range(len(spec.sites)), key=lambda i: (-spec.sites[i].total, i)):
        site = spec.sites[i]
        radius = marker_size(site.total, largest) / 2 * per_pixel
        order = category_order({c for c, _ in site.counts})
        counts = dict(site.counts)
        angle = 90.0
        for category in order:
            sweep = 360.0 * counts[category] / site.total
            if sweep >= 360.0:
                slices.append(Circle((x[i], y[i]), radius))
            else:
                slices.append(Wedge((x[i], y[i]), radius, angle - sweep, angle))
            colours.append(category_colour(category))
            angle -= sweep
    ax.add_collection(
        PatchCollection(slices, facecolors=colours, edgecolors="white", linewidths=0.8, zorder=7),
        autolim=False,
    )
    _name_sites(ax, spec, x, y, largest)
    present = category_order({c for s in spec.sites for c, _ in s.counts})
    handles = [_marker(category_colour(c), 12, spec.labels.categories.get(c, c)) for c in present]
    handles += [_marker(CARD, marker_size(n, largest), label) for n, label in spec.sizes]
    _legend(ax, handles)
    return _finish(fig, ax, started)
