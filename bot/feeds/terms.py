"""Watch terms: which feed items are about what a guild watches.

A term matches as a whole word or phrase, ignoring case: `ICBM` matches "an ICBM flew"
but not "ICBMX"; `North Korea` matches "north  Korea" (any spacing) but not "North
Koreans"; the words of a phrase may be joined by a hyphen (`Kim Jong Un`, "Kim Jong-un"). A term also matches its plural and possessive (`missile` finds "missiles",
"missile's"), since headlines are written that way; other forms (`launched`) are terms
of their own. Title and summary are searched; the link is not (a slug is not a claim).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.feeds.items import FeedItem

#: Launch vocabulary and the actors' names; a guild's own list replaces this one.
DEFAULT_TERMS: tuple[str, ...] = (
    "missile", "launch", "launched", "launching", "ballistic", "ICBM", "SLBM", "IRBM",
    "MRBM", "SRBM", "cruise missile", "satellite", "rocket", "nuclear test", "hypersonic",
    "warhead", "DPRK", "North Korea", "North Korean", "Pyongyang", "Kim Jong Un", "KCNA",
)  # fmt: skip

_SUFFIX = r"(?:e?s|['’]s)?"


@lru_cache(maxsize=1024)
def _pattern(term: str) -> re.Pattern[str] | None:
    words = term.split()
    if not words:
        return None
    body = r"[\s\-‐‑]+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}{_SUFFIX}(?!\w)", re.IGNORECASE)


def matched_terms(item: FeedItem, terms: Iterable[str]) -> list[str]:
    """The terms found in the item's title or summary, in the order given."""
    text = f"{item.title}\n{item.summary}"
    found: list[str] = []
    for term in terms:
        pattern = _pattern(term.strip())
        if pattern is not None and term not in found and pattern.search(text):
            found.append(term)
    return found


def matches(item: FeedItem, terms: Iterable[str]) -> bool:
    """True when any watch term occurs in the item: only such items become drafts."""
    return bool(matched_terms(item, terms))
