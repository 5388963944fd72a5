"""A matplotlib figure on the Agg canvas, and its PNG: the same bytes for the same input.

matplotlib's object API only: pyplot keeps global state (current figure, registry of
figures) that is not thread-safe and would hold every figure until closed. A `Figure`
on its own `FigureCanvasAgg` is freed with its last reference. Determinism: a fixed DPI,
matplotlib's bundled DejaVu Sans named on every text, and no `Software` tag in the PNG
(it carries matplotlib's version).
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.pictures.colours import CARD, INK, MUTED

DPI = 100
#: Discord shows an image inline at any size, but a small one arrives sooner.
MAX_BYTES = 500_000
WIDTH = 1200
FONT = "DejaVu Sans"
TITLE_SIZE = 17
NOTE_SIZE = 11.5
LABEL_SIZE = 12.5
TICK_SIZE = 11
LEGEND_SIZE = 11


def new_figure(width: int, height: int) -> Figure:
    """An opaque card of `width` × `height` pixels."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor=CARD)
    FigureCanvasAgg(fig)
    return fig


def title(fig: Figure, text: str, note: str | None = None) -> None:
    """The caller's title at the top left, and an optional note under it."""
    fig.text(
        0.015, 0.975, text, fontsize=TITLE_SIZE, fontweight="bold", color=INK,
        fontfamily=FONT, va="top", ha="left", wrap=True,
    )  # fmt: skip
    if note:
        fig.text(
            0.015, 0.925, note, fontsize=NOTE_SIZE, color=MUTED, fontfamily=FONT,
            va="top", ha="left",
        )  # fmt: skip


def style_ticks(ax: Axes) -> None:
    ax.tick_params(colors=MUTED, labelsize=TICK_SIZE, labelfontfamily=FONT, labelcolor=INK)


def legend_font() -> dict[str, Any]:
    return {"family": FONT, "size": LEGEND_SIZE}


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, with no metadata that changes between versions or runs;
    past `MAX_BYTES`, in 256 colours (the maps and charts use far fewer)."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=DPI, facecolor=CARD, metadata={"Software": None},
    )  # fmt: skip
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        image = Image.open(io.BytesIO(data)).convert("RGB").quantize(256)
        buffer = io.BytesIO()
        image.save(buffer, format="png", optimize=True)
        data = buffer.getvalue()
    return data


def pixel_size(fig: Figure) -> tuple[int, int]:
    width, height = fig.canvas.get_width_height()
    return int(width), int(height)
