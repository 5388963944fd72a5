"""The SQL of drafts: what the extractor proposed, waiting for a moderator's click.

Self-contained (migration 008): `DraftQueries(q.conn)`. The JSON columns (`fields`,
`evidence`, `sources`, `reactions`) are encoded and decoded here, so callers see lists and
dicts; `bot/services/drafts.py` turns rows into `bot.drafting.models.Draft`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.store import Conn, Row

DRAFT_COLUMNS = (
    "guild_id", "kind", "event_id", "status", "origin", "title", "fields", "evidence", "sources",
    "reactions", "occurred_on", "category", "review_channel_id", "review_message_id",
    "revision", "posted_revision", "decided_by", "decided_at", "result_event_id", "created_by",
    "created_at", "updated_at",
)  # fmt: skip
_JSON = ("fields", "evidence", "sources", "reactions")


def _decode(row: Row | None) -> Row | None:
    if row is not None:
        for key in _JSON:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
    return row


def _encode(key: str, value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if key in _JSON else value


@dataclass
class DraftQueries:
    """Drafts and the review channel, on one connection."""

    conn: Conn

    async def insert_draft(self, values: Row) -> int:
        cols = [c for c in DRAFT_COLUMNS if c in values]
        return await self.conn.insert(
            f"INSERT INTO draft ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            "RETURNING id",
            [_encode(c, values[c]) for c in cols],
        )

    async def get_draft(self, draft_id: int) -> Row | None:
        return _decode(await self.conn.fetchone("SELECT * FROM draft WHERE id = ?", [draft_id]))

    async def get_draft_for_update(self, draft_id: int) -> Row | None:
        sql = self.conn.for_update("SELECT * FROM draft WHERE id = ?")
        return _decode(await self.conn.fetchone(sql, [draft_id]))

    async def update_draft(self, draft_id: int, values: Row) -> None:
        cols = [c for c in DRAFT_COLUMNS if c in values]
        await self.conn.execute(
            f"UPDATE draft SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            [*(_encode(c, values[c]) for c in cols), draft_id],
        )

    async def decide(self, draft_id: int, status: str, user_id: int | None, stamp: str) -> bool:
        """Move a pending draft to `status`; False when it is no longer pending (another
        click decided it first). The one statement is the claim: two clicks at once cannot
        both win it."""
        changed = await self.conn.execute(
            "UPDATE draft SET status = ?, decided_by = ?, decided_at = ?, updated_at = ?, "
            "revision = revision + 1 WHERE id = ? AND status = 'pending'",
            [status, user_id, stamp, stamp, draft_id],
        )
        return changed > 0

    async def undecide(self, draft_id: int, stamp: str) -> None:
        """Give a claimed draft back (the event could not be stored)."""
        await self.conn.execute(
            "UPDATE draft SET status = 'pending', decided_by = NULL, decided_at = NULL, "
            "updated_at = ?, revision = revision + 1 WHERE id = ?",
            [stamp, draft_id],
        )

    async def list_drafts(
        self, guild_id: int, statuses: Sequence[str] = ("pending",), limit: int = 100
    ) -> list[Row]:
        marks = ", ".join("?" * len(statuses))
        rows = await self.conn.fetchall(
            f"SELECT * FROM draft WHERE guild_id = ? AND status IN ({marks}) "
            "ORDER BY occurred_on, id LIMIT ?",
            [guild_id, *statuses, limit],
        )
        return [r for r in (_decode(r) for r in rows) if r is not None]

    async def pending_near(self, guild_id: int, category: str, first: str, last: str) -> list[Row]:
        """Pending drafts of a category dated between two days (ISO text bounds): the
        candidates a new draft of the same launch merges into."""
        rows = await self.conn.fetchall(
            "SELECT * FROM draft WHERE guild_id = ? AND status = 'pending' AND category = ? "
            "AND occurred_on >= ? AND occurred_on <= ? ORDER BY id",
            [guild_id, category, first, last],
        )
        return [r for r in (_decode(r) for r in rows) if r is not None]

    async def to_render(self, guild_ids: Sequence[int] | None = None) -> list[Row]:
        """Drafts whose review card is owed: pending ones never posted, and posted ones
        changed since (merged, edited, decided), oldest first."""
        sql = (
            "SELECT * FROM draft WHERE ((status = 'pending' AND review_message_id IS NULL) "
            "OR (review_message_id IS NOT NULL AND posted_revision < revision))"
        )
        params: list[Any] = []
        if guild_ids is not None:
            if not guild_ids:
                return []
            sql += f" AND guild_id IN ({', '.join('?' * len(guild_ids))})"
            params = list(guild_ids)
        rows = await self.conn.fetchall(sql + " ORDER BY id", params)
        return [r for r in (_decode(r) for r in rows) if r is not None]

    async def mark_posted(
        self, draft_id: int, channel_id: int, message_id: int, revision: int
    ) -> None:
        """The card now shows `revision` (a later change is shown by the next render)."""
        await self.conn.execute(
            "UPDATE draft SET review_channel_id = ?, review_message_id = ?, posted_revision = ? "
            "WHERE id = ? AND (posted_revision IS NULL OR posted_revision < ?)",
            [channel_id, message_id, revision, draft_id, revision],
        )

    async def count_drafts(self, guild_id: int, status: str = "pending") -> int:
        row = await self.conn.fetchone(
            "SELECT COUNT(*) AS n FROM draft WHERE guild_id = ? AND status = ?", [guild_id, status]
        )
        return int(row["n"]) if row else 0

    # -- the review channel (draft_settings.review_channel_id) ----------------------------
    async def review_channel(self, guild_id: int) -> int | None:
        row = await self.conn.fetchone(
            "SELECT review_channel_id FROM draft_settings WHERE guild_id = ?", [guild_id]
        )
        return int(row["review_channel_id"]) if row and row["review_channel_id"] else None

    async def set_review_channel(self, guild_id: int, channel_id: int | None) -> None:
        await self.conn.execute(
            "INSERT INTO draft_settings (guild_id, review_channel_id) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET review_channel_id = excluded.review_channel_id",
            [guild_id, channel_id],
        )
