"""Deliveries and their claims: the outbox the dispatcher sends (docs/architecture.md,
"Dispatch" and "Delivery: exactly once")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.fields import columns, unknown
from bot.models import Delivery
from db.base import Aggregate, marks

DELIVERY_COLUMNS = columns(Delivery)


class Deliveries(Aggregate):
    #: Whether this transaction queued deliveries: its commit wakes the dispatchers.
    wrote = False

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        """Queue deliveries; one that exists already (same subscription, event, revision
        and kind, or same subscription and period) is kept as it is."""
        if not deliveries:
            return
        await self.conn.executemany(
            f"INSERT INTO delivery ({', '.join(DELIVERY_COLUMNS)}) "
            f"VALUES ({marks(len(DELIVERY_COLUMNS))}) ON CONFLICT DO NOTHING",
            [list(d.to_row().values()) for d in deliveries],
        )
        self.wrote = True

    async def claim(
        self,
        now: str,
        until: str,
        limit: int,
        shards: Sequence[int] = (),
        shard_count: int = 1,
        *,
        per_channel: int | None = None,
    ) -> list[Delivery]:
        """Claim due, unclaimed deliveries of these shards' guilds until `until`, taking
        the channels in turn: every channel's oldest due row, then every channel's next.

        With `per_channel`, no channel holds more than that many claimed rows (those still
        claimed from before count), so a channel with a backlog cannot take the slots that
        other channels' alerts need. The picked rows are locked past other claims
        (`Conn.skip_locked`), so processes that claim at the same moment never share a row."""
        due, params = _due_where(now, shards, shard_count, alias="d.")
        held = "d.claimed_until > ?"
        ranked = (
            "SELECT d.id, ROW_NUMBER() OVER (PARTITION BY d.channel_id "
            f"ORDER BY CASE WHEN {held} THEN 0 ELSE 1 END, d.id) AS lane, "
            f"CASE WHEN {held} THEN 1 ELSE 0 END AS held FROM delivery d "
            f"WHERE d.status = 'pending' AND ({held} OR d.next_attempt_at <= ?)"
        )
        ranked_params: list[Any] = [now, now, now, now]
        if shards:
            ranked += f" AND ((d.guild_id >> 22) % ?) IN ({marks(len(shards))})"
            ranked_params += [shard_count, *shards]
        cap = " AND r.lane <= ?" if per_channel is not None else ""
        cap_params = [per_channel] if per_channel is not None else []
        # The due test is repeated on the locked row itself: PostgreSQL re-checks it on the
        # newest version of a row another claim updated meanwhile.
        picked = self.conn.skip_locked(
            f"SELECT d.id FROM delivery d JOIN ({ranked}) r ON r.id = d.id "
            f"WHERE r.held = 0{cap} AND {due} ORDER BY r.lane, d.id LIMIT ?",
            "d",
        )
        rows = await self.conn.fetchall(
            f"UPDATE delivery SET claimed_until = ? WHERE id IN ({picked}) RETURNING *",
            [until, *ranked_params, *cap_params, *params, limit],
        )
        return sorted((Delivery.from_row(r) for r in rows), key=lambda d: d.id)

    async def release_claims(self, shards: Sequence[int] = (), shard_count: int = 1) -> int:
        """Forget claims on these shards' deliveries: their owner restarted."""
        sql = "UPDATE delivery SET claimed_until = NULL WHERE status = 'pending' AND claimed_until IS NOT NULL"
        params: list[Any] = []
        if shards:
            sql += f" AND ((guild_id >> 22) % ?) IN ({marks(len(shards))})"
            params = [shard_count, *shards]
        return await self.conn.execute(sql, params)

    async def release(
        self,
        ids: Sequence[int] = (),
        *,
        claimed_until: str | None = None,
        next_attempt_at: str | None = None,
    ) -> int:
        """Give back claims this process holds but will not finish: the rows `ids`, or every
        row of one claim (its `claimed_until`, unique to it). Pending rows only; with
        `next_attempt_at`, they fall due again then (a back-off)."""
        sets, params = "claimed_until = NULL", list[Any]()
        if next_attempt_at is not None:
            sets += ", next_attempt_at = ?"
            params.append(next_attempt_at)
        if claimed_until is not None:
            where, args = "claimed_until = ?", list[Any]([claimed_until])
        elif ids:
            where, args = f"id IN ({marks(len(ids))})", list[Any](ids)
        else:
            return 0
        return await self.conn.execute(
            f"UPDATE delivery SET {sets} WHERE status = 'pending' AND {where}", [*params, *args]
        )

    async def next_due_at(
        self, after: str, shards: Sequence[int] = (), shard_count: int = 1
    ) -> str | None:
        """When the next unclaimed delivery of these shards falls due, later than `after`
        (None: nothing queued). Rows due by `after` are left out: a claim at `after` took
        those it could, and the rest wait for a channel or a slot to free up."""
        where = "status = 'pending' AND next_attempt_at > ? AND (claimed_until IS NULL OR claimed_until <= ?)"
        params: list[Any] = [after, after]
        if shards:
            where += f" AND ((guild_id >> 22) % ?) IN ({marks(len(shards))})"
            params += [shard_count, *shards]
        row = await self.conn.fetchone(
            f"SELECT MIN(next_attempt_at) AS t FROM delivery WHERE {where}", params
        )
        return row["t"] if row else None

    async def get(self, delivery_id: int) -> Delivery | None:
        row = await self.conn.fetchone("SELECT * FROM delivery WHERE id = ?", [delivery_id])
        return None if row is None else Delivery.from_row(row)

    async def sent_alert(self, subscription_id: int, event_id: int) -> Delivery | None:
        """The alert a subscription received for an event (its message id), if any."""
        return await self._one(
            "SELECT * FROM delivery WHERE subscription_id = ? AND event_id = ? AND kind = 'alert' "
            "ORDER BY id LIMIT 1",
            [subscription_id, event_id],
        )

    async def posted_alert(self, event_id: int, guild_id: int) -> Delivery | None:
        """An alert for the event sent to one of this guild's channels (for a link to it)."""
        return await self._one(
            "SELECT * FROM delivery WHERE event_id = ? AND guild_id = ? "
            "AND kind = 'alert' AND status = 'sent' AND message_id IS NOT NULL "
            "ORDER BY id LIMIT 1",
            [event_id, guild_id],
        )

    async def _one(self, sql: str, params: Sequence[Any]) -> Delivery | None:
        row = await self.conn.fetchone(sql, params)
        return None if row is None else Delivery.from_row(row)

    async def update(self, delivery_id: int, *, pending_only: bool = False, **changes: Any) -> int:
        """Change columns of a delivery; with `pending_only`, only while it is pending (an
        outcome never overwrites another). Returns how many rows changed (0 or 1)."""
        assert changes and not unknown(Delivery, changes), changes
        where = "id = ? AND status = 'pending'" if pending_only else "id = ?"
        return await self.conn.execute(
            f"UPDATE delivery SET {', '.join(f'{c} = ?' for c in changes)} WHERE {where}",
            [*changes.values(), delivery_id],
        )

    async def skip_pending(self, subscription_id: int, reason: str) -> None:
        """Settle a subscription's pending deliveries without sending (it is broken or gone)."""
        await self.conn.execute(
            "UPDATE delivery SET status = 'failed', last_error = ? "
            "WHERE subscription_id = ? AND status = 'pending'",
            [reason, subscription_id],
        )

    async def for_event(self, event_id: int) -> list[Delivery]:
        rows = await self.conn.fetchall(
            "SELECT * FROM delivery WHERE event_id = ? ORDER BY id", [event_id]
        )
        return [Delivery.from_row(r) for r in rows]

    async def count(self, status: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) AS n FROM delivery", list[Any]()
        if status is not None:
            sql, params = sql + " WHERE status = ?", [status]
        row = await self.conn.fetchone(sql, params)
        return int(row["n"]) if row else 0


def _due_where(
    now: str, shards: Sequence[int], shard_count: int, alias: str = ""
) -> tuple[str, list[Any]]:
    a = alias
    where = (
        f"{a}status = 'pending' AND {a}next_attempt_at <= ? "
        f"AND ({a}claimed_until IS NULL OR {a}claimed_until <= ?)"
    )
    params: list[Any] = [now, now]
    if shards:
        where += f" AND (({a}guild_id >> 22) % ?) IN ({marks(len(shards))})"
        params += [shard_count, *shards]
    return where, params
