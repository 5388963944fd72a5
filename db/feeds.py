"""The SQL of feeds: the feeds a guild watches, the items each has seen, its watch terms.

Self-contained (migration 008): built on a transaction's or a read view's connection,
`FeedQueries(q.conn)`, so it needs nothing of `db/queries.py`. Rows come back as dicts
keyed by the column names; `bot/services/feeds.py` turns them into `bot.feeds.models`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.store import Conn, Row

FEED_COLUMNS = (
    "guild_id", "url", "name", "interval_s", "state", "broken_reason", "etag", "last_modified",
    "failures", "last_error", "last_polled_at", "last_success_at", "next_poll_at", "created_by",
    "created_at",
)  # fmt: skip

#: A feed row with its item counts, for /feeds list.
_WITH_COUNTS = (
    "SELECT f.*, "
    "(SELECT COUNT(*) FROM feed_item i WHERE i.feed_id = f.id) AS items, "
    "(SELECT COUNT(*) FROM feed_item i WHERE i.feed_id = f.id AND i.matched = 1) AS matched "
    "FROM feed f"
)


@dataclass
class FeedQueries:
    """Feeds, seen items and watch terms, on one connection."""

    conn: Conn

    async def insert_feed(self, values: Row) -> int:
        cols = [c for c in FEED_COLUMNS if c in values]
        return await self.conn.insert(
            f"INSERT INTO feed ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            "RETURNING id",
            [values[c] for c in cols],
        )

    async def get_feed(self, feed_id: int) -> Row | None:
        return await self.conn.fetchone(f"{_WITH_COUNTS} WHERE f.id = ?", [feed_id])

    async def get_feed_for_update(self, feed_id: int) -> Row | None:
        """The feed row, locked until the transaction ends: one poll's outcome at a time."""
        return await self.conn.fetchone(
            self.conn.for_update("SELECT * FROM feed WHERE id = ?"), [feed_id]
        )

    async def feed_by_url(self, guild_id: int, url: str) -> Row | None:
        return await self.conn.fetchone(
            "SELECT * FROM feed WHERE guild_id = ? AND url = ?", [guild_id, url]
        )

    async def list_feeds(self, guild_id: int) -> list[Row]:
        return await self.conn.fetchall(
            f"{_WITH_COUNTS} WHERE f.guild_id = ? ORDER BY f.id", [guild_id]
        )

    async def active_feeds(self, guild_id: int | None = None) -> list[Row]:
        """Every feed to poll (of one guild, or of all)."""
        if guild_id is None:
            return await self.conn.fetchall(
                f"{_WITH_COUNTS} WHERE f.state = 'active' ORDER BY f.id"
            )
        return await self.conn.fetchall(
            f"{_WITH_COUNTS} WHERE f.state = 'active' AND f.guild_id = ? ORDER BY f.id", [guild_id]
        )

    async def count_feeds(self, guild_id: int) -> int:
        row = await self.conn.fetchone(
            "SELECT COUNT(*) AS n FROM feed WHERE guild_id = ?", [guild_id]
        )
        return int(row["n"]) if row else 0

    async def update_feed(self, feed_id: int, values: Row) -> None:
        cols = [c for c in FEED_COLUMNS if c in values]
        await self.conn.execute(
            f"UPDATE feed SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            [*(values[c] for c in cols), feed_id],
        )

    async def delete_feed(self, feed_id: int) -> None:
        await self.conn.execute("DELETE FROM feed_item WHERE feed_id = ?", [feed_id])
        await self.conn.execute("DELETE FROM feed WHERE id = ?", [feed_id])

    # -- seen items -----------------------------------------------------------------------
    async def seen_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        """Which of `keys` the feed has already shown."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            if not chunk:
                continue
            rows = await self.conn.fetchall(
                f"SELECT item_key FROM feed_item WHERE feed_id = ? "
                f"AND item_key IN ({', '.join('?' * len(chunk))})",
                [feed_id, *chunk],
            )
            found |= {r["item_key"] for r in rows}
        return found

    async def mark_seen(
        self, feed_id: int, key: str, title: str, matched: bool, stamp: str
    ) -> bool:
        """Record an item as seen; False when it already was (another poll got there first)."""
        changed = await self.conn.execute(
            "INSERT INTO feed_item (feed_id, item_key, title, matched, seen_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (feed_id, item_key) DO NOTHING",
            [feed_id, key, title, 1 if matched else 0, stamp],
        )
        return changed > 0

    # -- watch terms (draft_settings.watch_terms) ----------------------------------------
    async def watch_terms(self, guild_id: int) -> list[str] | None:
        """The guild's own terms, or None when it uses the default list."""
        row = await self.conn.fetchone(
            "SELECT watch_terms FROM draft_settings WHERE guild_id = ?", [guild_id]
        )
        if row is None or row["watch_terms"] is None:
            return None
        terms: Any = json.loads(row["watch_terms"])
        return [str(t) for t in terms]

    async def set_watch_terms(self, guild_id: int, terms: Sequence[str] | None) -> None:
        value = None if terms is None else json.dumps(list(terms), ensure_ascii=False)
        await self.conn.execute(
            "INSERT INTO draft_settings (guild_id, watch_terms) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET watch_terms = excluded.watch_terms",
            [guild_id, value],
        )
