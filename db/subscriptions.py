"""Subscriptions: which channels get alerts and digests (one subscription per channel)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.models import Subscription
from db.base import Aggregate, marks

#: Columns a new subscription of the same channel leaves as they were.
_KEPT = ("channel_id", "created_at", "last_digest_at")


class Subscriptions(Aggregate):
    async def upsert(self, sub: Subscription) -> int:
        """Store a channel's subscription, replacing the one it had (when it was made and
        its last digest kept)."""
        row = sub.to_row()
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c not in _KEPT)
        return await self.conn.insert(
            f"INSERT INTO subscription ({', '.join(row)}) VALUES ({marks(len(row))}) "
            f"ON CONFLICT (channel_id) DO UPDATE SET {updates} RETURNING id",
            list(row.values()),
        )

    async def get(self, subscription_id: int) -> Subscription | None:
        row = await self.conn.fetchone("SELECT * FROM subscription WHERE id = ?", [subscription_id])
        return None if row is None else Subscription.from_row(row)

    async def for_channel(self, channel_id: int) -> Subscription | None:
        row = await self.conn.fetchone(
            "SELECT * FROM subscription WHERE channel_id = ?", [channel_id]
        )
        return None if row is None else Subscription.from_row(row)

    async def remove(self, subscription_id: int) -> None:
        await self.conn.execute("DELETE FROM subscription WHERE id = ?", [subscription_id])

    async def set_state(self, subscription_id: int, state: str, reason: str | None) -> None:
        await self.conn.execute(
            "UPDATE subscription SET state = ?, broken_reason = ? WHERE id = ?",
            [state, reason, subscription_id],
        )

    async def set_last_digest(self, subscription_id: int, stamp: str) -> None:
        await self.conn.execute(
            "UPDATE subscription SET last_digest_at = ? WHERE id = ?", [stamp, subscription_id]
        )

    async def of_guild(self, guild_id: int) -> list[Subscription]:
        """The guild's subscriptions with what `/alerts list` shows of their deliveries."""
        rows = await self.conn.fetchall(
            "SELECT s.*, "
            "(SELECT MAX(sent_at) FROM delivery d WHERE d.subscription_id = s.id) AS last_sent_at, "
            "(SELECT COUNT(*) FROM delivery d WHERE d.subscription_id = s.id "
            " AND (d.status = 'dead' OR (d.status = 'failed' AND d.last_error NOT LIKE 'skipped: %'))) AS failures, "
            "(SELECT COUNT(*) FROM delivery d WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending, "
            "(SELECT d.last_error FROM delivery d WHERE d.subscription_id = s.id AND d.status = 'dead' "
            " ORDER BY d.id DESC LIMIT 1) AS last_failure "
            "FROM subscription s WHERE s.guild_id = ? ORDER BY s.id",
            [guild_id],
        )
        return [Subscription.from_row(r) for r in rows]

    async def instant(self, guild_ids: Sequence[int] | None) -> list[Subscription]:
        """Active subscriptions that alert at once; None means every guild (a publisher's event)."""
        sql = "SELECT * FROM subscription WHERE state = 'active' AND mode IN ('instant', 'both')"
        params: list[Any] = []
        if guild_ids is not None:
            sql += f" AND guild_id IN ({marks(len(guild_ids))})"
            params = list(guild_ids)
        return [
            Subscription.from_row(r) for r in await self.conn.fetchall(sql + " ORDER BY id", params)
        ]

    async def digests(self) -> list[Subscription]:
        """Active subscriptions that get digests."""
        rows = await self.conn.fetchall(
            "SELECT * FROM subscription WHERE state = 'active' AND mode IN ('digest', 'both') ORDER BY id"
        )
        return [Subscription.from_row(r) for r in rows]

    async def total(self, guild_ids: Sequence[int] | None = None) -> int:
        return await self.total_of("subscription", guild_ids)
