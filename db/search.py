"""Search, for the autocomplete of `/launch`, `/event …` and `/reaction remove`.

Events are found through each backend's full-text index (migration 004), behind one
method, `Conn.search_events`: SQLite's FTS5 table, PostgreSQL's tsvectors. Both index the
guild (`g<id>`), the date's month and month-day (`m01`, `md0129`) and the descriptive
text; a typed word is a token prefix, and `-01-29` or `-01-` (what services make of
`jan 29`, `jan`) is a month-day or a month. Reactions are few per guild and matched with
LIKE, the same SQL on both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.models import Event, Reaction
from db.base import Aggregate, like, marks
from db.events import Events
from db.reactions import Reactions

#: A word made of a month (`-01-`) or a month and day (`-01-29`).
_CALENDAR = re.compile(r"-(\d\d)-(\d\d)?")


def calendar_token(word: str) -> str | None:
    """`-01-29` -> `md0129`, `-01-` -> `m01`: the cal tokens migration 004 indexes."""
    m = _CALENDAR.fullmatch(word)
    if m is None:
        return None
    return f"md{m[1]}{m[2]}" if m[2] else f"m{m[1]}"


class Search(Aggregate):
    def __init__(self, events: Events, reactions: Reactions) -> None:
        super().__init__(events.conn)
        self._events = events
        self._reactions = reactions

    async def events(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[Event]:
        """Events whose date or descriptive text holds every word as a token prefix
        (`kim`, `hwasong-1`), newest first (occurred_on, then id)."""
        if not guild_ids:
            return []
        ids = await self.conn.search_events(guild_ids, words, limit)
        return await self._events.by_ids(ids, guild_ids)

    async def reactions(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[Reaction]:
        """Reactions whose actor, speaker, stance or summary holds every word (newest first)."""
        where = [f"guild_id IN ({marks(len(guild_ids))})"]
        params: list[Any] = list(guild_ids)
        haystack = "LOWER(actor || ' ' || COALESCE(speaker, '') || ' ' || stance || ' ' || summary)"
        for word in words:
            where.append(f"{haystack} LIKE ? ESCAPE '\\'")
            params.append("%" + like(word) + "%")
        rows = await self.conn.fetchall(
            f"SELECT * FROM reaction WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return await self._reactions.loaded(rows)
