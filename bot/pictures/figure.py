"""A matplotlib figure on the Agg canvas, and its PNG: the same bytes for the same input.

matplotlib's object API only: pyplot keeps global state (current figure, registry of
figures) that is not thread-safe and would hold every figure until closed. A `Figure`
on its own `FigureCanvasAgg` is freed with its last reference. Determinism: a fixed DPI,
matplotlib's bundled DejaVu Sans named on every text, and no `Software` tag in the PNG
(it carries matplotlib's version).
"""

from __future__ import annotations

import io
import time
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.pictures.colours import CARD, INK, MUTED
from bot.pictures.specs import Timings

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


def png(fig: Figure) -> tuple[bytes, Timings]:
    """Rasterize the figure (Agg) and encode it as PNG (Pillow), timing each step.

    Encoded from the Agg buffer rather than through `savefig`, so the steps can be timed
    apart; as with `savefig(metadata={"Software": None})`, the PNG carries no text chunk
    (no matplotlib version) and the same figure gives the same bytes. Opaque RGB: the card
    has no transparency to keep. Past `MAX_BYTES`, 256 colours (the pictures use fewer).
    """
    started = time.perf_counter()
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    rasterized = time.perf_counter()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=3)  # 6 (default): 30 % slower, 4 % smaller
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        buffer = io.BytesIO()
        image.quantize(256).save(buffer, format="png", optimize=True)
        data = buffer.getvalue()
    encoded = time.perf_counter()
    return data, Timings(
        raster_ms=(rasterized - started) * 1000, encode_ms=(encoded - rasterized) * 1000
    )


def pixel_size(fig: Figure) -> tuple[int, int]:
    width, height = fig.canvas.get_width_height()
    return int(width), int(height)
