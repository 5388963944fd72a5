"""The gazetteer (places.toml): launch sites, seas and areas, with their coordinates and
sources; and the places a sentence says a launch came from or came down in.

A place counts when a preposition leads to it: "from the Sunan area", "near North
Korea's Punggye-ri test site", "into the Sea of Japan", "towards the East Sea". Words
such as "the", "area of", "vicinity of", "its" may stand between. "Over" (a flight
over Japan) and "outside" (outside Japan's EEZ) rule a place out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.drafting.data import load

KINDS = ("site", "sea", "area")
_SITE_PREPOSITIONS = {"from", "near", "in", "at", "around", "off", "outside"}
_LANDING_PREPOSITIONS = {"into", "in", "inside", "within", "toward", "towards", "to", "off"}
_FILLERS = {
    "the", "a", "an", "its", "their", "area", "areas", "of", "vicinity", "capital", "city",
    "waters", "water", "sea", "port", "coast", "province", "county", "outskirts", "region",
    "island", "north", "south", "east", "west", "northeast", "northwest", "southeast",
    "southwest", "northern", "southern", "eastern", "western", "central", "korea's",
    "korea’s", "nearby",
}  # fmt: skip


@dataclass(frozen=True)
class Place:
    """A gazetteer entry."""

    name: str
    aliases: tuple[str, ...]
    lat: float | None
    lon: float | None
    kind: str
    source: str


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    place: Place


@cache
def gazetteer() -> tuple[Place, ...]:
    """Every entry of places.toml."""
    return tuple(
        Place(
            name=p["name"],
            aliases=tuple(p.get("aliases", ())),
            lat=p.get("lat"),
            lon=p.get("lon"),
            kind=p["kind"],
            source=p["source"],
        )
        for p in load("places")["place"]
    )


@cache
def _index() -> tuple[re.Pattern[str], dict[str, Place]]:
    names: dict[str, Place] = {}
    for place in gazetteer():
        for alias in (place.name, *place.aliases):
            names.setdefault(_key(alias), place)
    alternation = "|".join(
        re.escape(a).replace("'", "['’]").replace(r"\ ", r"\s+")
        for a in sorted(names, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE), names


def _key(name: str) -> str:
    return " ".join(name.replace("’", "'").lower().split())


def lookup(name: str) -> Place | None:
    """The entry a name or alias stands for ("Tongchang-ri" -> Sohae)."""
    return _index()[1].get(_key(name))


def find_places(text: str) -> list[PlaceMention]:
    """Places in `text` that a launch came from (sites) or came down in (seas, areas)."""
    pattern, names = _index()
    out = []
    for m in pattern.finditer(text):
        place = names[_key(m.group(0))]
        if m.group(0).lower().startswith("off "):
            out.append(PlaceMention(m.start(), m.end(), place))
            continue
        word = _leading_preposition(text[: m.start()])
        allowed = _SITE_PREPOSITIONS if place.kind == "site" else _LANDING_PREPOSITIONS
        if word in allowed and not (word == "outside" and place.kind != "site"):
            out.append(PlaceMention(m.start(), m.end(), place))
    return out


def _leading_preposition(before: str) -> str | None:
    """The word that leads to a place: the last one before it that is not a filler."""
    words = before.split()
    for word in reversed(words[-7:]):
        if word.endswith((",", ".", ";", ":")):
            return None
        low = word.lower().strip('("“')
        if low in _FILLERS or low.endswith(("'s", "’s")):
            continue
        return low
    return None
