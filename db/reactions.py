"""Reactions: the queries of the reaction aggregate (reactions and their sources)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.models import Reaction
from db.base import Aggregate, Sources, marks

if TYPE_CHECKING:
    from db.store import Conn, Row


@dataclass(frozen=True)
class ReactionFilter:
    guild_ids: Sequence[int]
    event_id: int | None = None
    event_day: str | None = None  # reactions to a series covering this day also count
    # (a partial `until`, or a lone `since`, covers its whole month or year: `2024-01~`)
    actor: str | None = None
    since: str | None = None
    until: str | None = None


class Reactions(Aggregate):
    def __init__(self, conn: Conn) -> None:
        super().__init__(conn)
        self.sources = Sources(conn, "reaction_id")

    async def loaded(self, rows: Sequence[Row]) -> list[Reaction]:
        sources = await self.sources.of([r["id"] for r in rows])
        return [Reaction.from_row(r, sources[r["id"]]) for r in rows]

    async def add(self, reaction: Reaction) -> Reaction:
        """Store a new reaction and its sources; the reaction with its id."""
        row = reaction.to_row()
        reaction_id = await self.conn.insert(
            f"INSERT INTO reaction ({', '.join(row)}) VALUES ({marks(len(row))}) RETURNING id",
            list(row.values()),
        )
        await self.sources.add([(reaction_id, s) for s in reaction.sources])
        return replace(reaction, id=reaction_id)

    async def get(self, reaction_id: int) -> Reaction | None:
        row = await self.conn.fetchone("SELECT * FROM reaction WHERE id = ?", [reaction_id])
        return None if row is None else (await self.loaded([row]))[0]

    async def remove(self, reaction_id: int) -> None:
        await self.conn.execute("DELETE FROM reaction WHERE id = ?", [reaction_id])

    def _where(self, f: ReactionFilter) -> tuple[str, list[Any]]:
        where = [f"guild_id IN ({marks(len(f.guild_ids))})"]
        params: list[Any] = list(f.guild_ids)
        if f.event_id is not None:
            if f.event_day is not None:
                where.append(
                    "(event_id = ? OR (event_id IS NULL AND since <= ? AND COALESCE(until, since) || '~' >= ?))"
                )
                params += [f.event_id, f.event_day, f.event_day]
            else:
                where.append("event_id = ?")
                params.append(f.event_id)
        if f.actor is not None:
            where.append("LOWER(actor) = LOWER(?)")
            params.append(f.actor)
        if f.since is not None:
            where.append("COALESCE(said_on, until, since, '') >= ?")
            params.append(f.since)
        if f.until is not None:
            where.append("COALESCE(said_on, since, '') <= ?")
            params.append(f.until)
        return " AND ".join(where), params

    async def page(self, f: ReactionFilter, limit: int, offset: int = 0) -> list[Reaction]:
        """Governments' statements first, grouped by actor; analysts' after."""
        where, params = self._where(f)
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM reaction WHERE {where} "
                "ORDER BY CASE WHEN actor_kind = 'analyst' THEN 1 ELSE 0 END, actor, "
                "COALESCE(said_on, since) NULLS FIRST, id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        )

    async def count(self, f: ReactionFilter) -> int:
        where, params = self._where(f)
        row = await self.conn.fetchone(f"SELECT COUNT(*) AS n FROM reaction WHERE {where}", params)
        return int(row["n"]) if row else 0

    async def created_between(
        self, guild_ids: Sequence[int], start: str, end: str
    ) -> list[Reaction]:
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM reaction WHERE guild_id IN ({marks(len(guild_ids))}) "
                "AND created_at >= ? AND created_at < ? ORDER BY actor_kind = 'analyst', actor, id",
                [*guild_ids, start, end],
            )
        )

    async def of_guilds(self, guild_ids: Sequence[int]) -> list[Reaction]:
        """Every reaction of these guilds, oldest first."""
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM reaction WHERE guild_id IN ({marks(len(guild_ids))}) ORDER BY id",
                list(guild_ids),
            )
        )

    async def total(self, guild_ids: Sequence[int] | None = None) -> int:
        return await self.total_of("reaction", guild_ids)
