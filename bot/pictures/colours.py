"""Colours of the pictures: the alert embeds' category colours, on a light card.

Discord shows images on a dark (#313338) or a light (#FFFFFF) background. An opaque
near-white card with dark ink reads on both, and the category colours were chosen for
embeds' side bars, which Discord draws on both themes: they are mid-tone and stay
distinct against a light card. `bot.embeds.COLOURS` is the one source of truth.
"""

from __future__ import annotations

from bot.embeds import COLOURS
from bot.models import CATEGORIES

CARD = "#f6f7f9"  # the figure's background: opaque, so a transparent PNG never shows through
INK = "#1f2328"  # text, axes and the range rings
MUTED = "#5c6670"  # tick labels, site labels
GRID = "#d5d9de"
SEA = "#d6e4ef"
LAND = "#ebe6da"
COAST = "#7d8a96"
BORDER = "#a39d90"
LANDING = "#1f2328"
#: Hatching for a category whose colour another category already has (`unknown` and
#: `other` share a grey): the second one drawn gets stripes, so a stack still tells them
#: apart.
SHARED_HATCH = "////"


def hex_colour(value: int) -> str:
    return f"#{value:06x}"


def category_colour(category: str) -> str:
    """The embed colour of a category; an unknown category gets `unknown`'s."""
    return hex_colour(COLOURS.get(category, COLOURS["unknown"]))


def category_hatch(category: str) -> str | None:
    """Stripes for a category sharing its colour with one earlier in `CATEGORIES`."""
    colour = COLOURS.get(category)
    earlier = CATEGORIES[: CATEGORIES.index(category)] if category in CATEGORIES else CATEGORIES
    return SHARED_HATCH if any(COLOURS.get(c) == colour for c in earlier) else None


def category_order(categories: set[str] | frozenset[str]) -> list[str]:
    """The model's order (`CATEGORIES`), then any others alphabetically: stacks and legends
    keep one order from picture to picture."""
    known = [c for c in CATEGORIES if c in categories]
    return known + sorted(categories - set(CATEGORIES))
