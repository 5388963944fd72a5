"""Drawing the timeline chart: stacked bars on a light card, in a worker.

Forty years of months are 480 periods × 12 categories. Each category's bars are one
compound path, filled by Agg in one pass: a `bar()` patch per rectangle takes seconds,
and even a `PolyCollection` rasterizes each rectangle on its own (130 ms here).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

from bot.pictures import figure
from bot.pictures.chart import MONTHS_IN
from bot.pictures.colours import GRID, INK, MUTED, category_colour, category_hatch
from bot.pictures.specs import ChartSpec, Drawn, Period

HEIGHT = 700
#: Past this many bars, bars touch: a gap narrower than a pixel only blurs them.
GAPLESS = 160
#: Up to this many bars, each is named under it.
FEW = 16
#: The axis spans at least this many periods, so one bar is not a wall.
MIN_SPAN = 6


def _edges(spec: ChartSpec) -> tuple[np.ndarray, np.ndarray]:
    """Each bar's left and right edge in matplotlib date numbers."""
    step = MONTHS_IN[spec.period]
    last = spec.starts[-1]
    months = last.year * 12 + last.month - 1 + step
    end = date(months // 12, months % 12 + 1, 1)
    bounds = mdates.date2num([*spec.starts, end])
    left, right = bounds[:-1], bounds[1:]
    if len(spec.starts) <= GAPLESS:
        inset = (right - left) * 0.08
        left, right = left + inset, right - inset
    return left, right


def _rectangles(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> Path:
    """Many rectangles as one compound path: Agg fills it in one pass, where a collection
    rasterizes each rectangle on its own (130 ms for forty years of months)."""
    corners = [np.column_stack(c) for c in ((x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0))]
    vertices = np.stack(corners, axis=1).reshape(-1, 2)
    codes = np.tile(
        [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], len(x0)
    ).astype(Path.code_type)
    return Path(vertices, codes)


def _period_name(start: date, period: Period) -> str:
    if period == "year":
        return str(start.year)
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1}\n{start.year}"
    return f"{start:%b}\n{start.year}"


def _date_ticks(ax: Axes, spec: ChartSpec, centres: np.ndarray) -> None:
    """A few periods: one tick under each bar, naming its period (days between would
    suggest a finer count than there is). Many: matplotlib's date locator, which picks
    months, years or decades for the span, and its concise formatter."""
    if len(spec.starts) <= FEW:
        ax.xaxis.set_major_locator(FixedLocator(list(centres)))
        names = [_period_name(s, spec.period) for s in spec.starts]
        ax.xaxis.set_major_formatter(FixedFormatter(names))
        return
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def draw_chart(spec: ChartSpec) -> Drawn:
    """The chart as PNG."""
    started = time.perf_counter()
    fig, _ = chart_figure(spec)
    built = time.perf_counter()
    data, timings = figure.png(fig)
    width, height = figure.pixel_size(fig)
    return Drawn(data, width, height, timings=replace(timings, build_ms=(built - started) * 1000))


def chart_figure(spec: ChartSpec) -> tuple[Figure, Axes]:
    """The stacked bars, axes, legend and title on a light card."""
    fig = figure.new_figure(figure.WIDTH, HEIGHT)
    note = 0.05 if spec.labels.note else 0.0
    ax = fig.add_axes((0.075, 0.13, 0.745, 0.75 - note))
    ax.set_facecolor("white")
    left, right = _edges(spec)
    bottom = np.zeros(len(spec.starts))
    handles = []
    for category, row in zip(spec.categories, spec.values, strict=True):
        heights = np.asarray(row, dtype=float)
        shown = heights > 0
        bars = _rectangles(left[shown], right[shown], bottom[shown], (bottom + heights)[shown])
        colour, hatch = category_colour(category), category_hatch(category)
        style: dict[str, Any] = {
            "facecolor": colour,
            "edgecolor": "white",
            "linewidth": 0,
            "hatch": hatch,
        }
        # add_artist, not add_patch: the limits are set below, and add_patch would walk
        # every rectangle's Bézier segments to update them (a second per chart).
        ax.add_artist(PathPatch(bars, transform=ax.transData, **style))
        bottom += heights
        label = spec.labels.categories.get(category, category)
        handles.append(Patch(label=label, **style))
    span = right[-1] - left[0]
    # One or two bars stay bar-shaped: the axis spans at least MIN_SPAN periods.
    pad = max(span * 0.01 + 1, (span / len(spec.starts) * MIN_SPAN - span) / 2)
    ax.set_xlim(left[0] - pad, right[-1] + pad)
    ax.set_ylim(0, max(1.0, float(bottom.max())) * 1.08)
    _date_ticks(ax, spec, (left + right) / 2)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.yaxis.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    figure.style_ticks(ax)
    ax.set_xlabel(spec.labels.x, fontsize=figure.LABEL_SIZE, fontfamily=figure.FONT, color=INK)
    ax.set_ylabel(spec.labels.y, fontsize=figure.LABEL_SIZE, fontfamily=figure.FONT, color=INK)
    ax.legend(
        handles=handles[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
        prop=figure.legend_font(), labelcolor=INK, handlelength=1.4, handleheight=1.1,
    )  # fmt: skip
    figure.title(fig, spec.title, spec.labels.note)
    return fig, ax
