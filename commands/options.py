"""Options shared by the families: stored values as choices people read, and the help of
the filters that /timeline and /chart share."""

from __future__ import annotations

from collections.abc import Iterable

from discord import app_commands

from bot.models import CATEGORIES
from bot.render import english_label


def choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """One choice a value, named as `bot.render.label` names it (`icbm` shows as ICBM,
    `cruise_missile` as cruise missile) but in English: built at import, it is command
    metadata, which Discord translates (`app_commands.Translator`); the command receives
    the value."""
    return [app_commands.Choice(name=english_label(v), value=v) for v in values]


#: `/timeline category` and `/event add category`.
CATEGORY_CHOICES = choices(CATEGORIES)

#: Help text of the filters `/timeline`, `/chart timeline` and `/chart map` share.
FILTER_HELP = {
    "since": "From this date: 2024, 2024-01 or 2024-01-25",
    "until": "Up to this date, inclusive: 2024, 2024-01 or 2024-01-25",
    "category": "Only this kind of launch",
    "actor": "Only launches by this actor, e.g. DPRK",
}
