"""Governments and organisations named in a sentence (actors.toml), by name, adjective,
capital or institution: "Japan", "Japanese Prime Minister …", "Tokyo said", "the White
House". The launching state (`launcher = true`) is found too: its words are claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.drafting.data import load


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str
    launcher: bool = False
    event_actor: str | None = None
    zone: str | None = None


@dataclass(frozen=True)
class ActorMention:
    start: int
    end: int
    actor: Actor
    #: Named by a military institution ("the Joint Chiefs of Staff").
    military: bool = False


@cache
def actors() -> tuple[Actor, ...]:
    return tuple(
        Actor(
            a["name"],
            a["kind"],
            bool(a.get("launcher")),
            a.get("event_actor"),
            a.get("zone"),
        )
        for a in load("actors")["actor"]
    )


def launcher() -> Actor:
    """The state whose launches are drafted (DPRK)."""
    return next(a for a in actors() if a.launcher)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, tuple[Actor, bool]]]:
    table: dict[str, tuple[Actor, bool]] = {}
    exact: list[str] = []
    loose: list[str] = []
    for raw, actor in zip(load("actors")["actor"], actors(), strict=True):
        for key in ("names", "adjectives", "capitals"):
            for word in raw.get(key, ()):
                table.setdefault(word, (actor, False))
                exact.append(word)
        for key, military in (("bodies", False), ("military_bodies", True)):
            for word in raw.get(key, ()):
                table.setdefault(word.lower(), (actor, military))
                loose.append(word)

    def alternation(words: list[str]) -> str:
        return "|".join(
            re.escape(w).replace("'", "['’]") for w in sorted(set(words), key=len, reverse=True)
        )

    edge_l, edge_r = r"(?<![\w.-])", r"(?![\w-])"
    return (
        re.compile(rf"{edge_l}(?:{alternation(exact)}){edge_r}"),
        re.compile(rf"{edge_l}(?:{alternation(loose)}){edge_r}", re.IGNORECASE),
        table,
    )


def find_actors(text: str) -> list[ActorMention]:
    """Every actor named in `text`, in order, the longest name winning where two overlap."""
    exact, loose, table = _patterns()
    found = []
    for m in loose.finditer(text):
        actor, military = table[m.group(0).replace("’", "'").lower()]
        found.append(ActorMention(m.start(), m.end(), actor, military))
    for m in exact.finditer(text):
        if any(f.start <= m.start() < f.end or m.start() <= f.start < m.end() for f in found):
            continue
        actor, military = table[m.group(0).replace("’", "'")]
        found.append(ActorMention(m.start(), m.end(), actor, military))
    return sorted(found, key=lambda f: f.start)


@cache
def official_titles() -> tuple[str, ...]:
    return tuple(load("actors")["titles"]["official"])
