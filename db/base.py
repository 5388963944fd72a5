"""What every aggregate's queries share: the connection, placeholders, and sources.

A source row belongs to an event or to a reaction (one of `event_id`, `reaction_id`), so
both aggregates read and write the one `source` table through `Sources`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.fields import columns
from bot.models import Source

if TYPE_CHECKING:
    from db.store import Conn

SOURCE_COLUMNS = columns(Source)


def marks(n: int) -> str:
    """`n` placeholders: `?, ?, ?`."""
    return ", ".join("?" * n)


def like(word: str) -> str:
    """A word for LIKE, with its wildcards escaped."""
    return word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Aggregate:
    """The queries of one aggregate, on one connection (a transaction, or a read view)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def total_of(self, table: str, guild_ids: Sequence[int] | None) -> int:
        """Rows of `table` these guilds own (every guild's: None)."""
        sql, params = f"SELECT COUNT(*) AS n FROM {table}", list[Any]()
        if guild_ids is not None:
            sql += f" WHERE guild_id IN ({marks(len(guild_ids))})"
            params = list(guild_ids)
        row = await self.conn.fetchone(sql, params)
        return int(row["n"]) if row else 0


class Sources(Aggregate):
    """The sources of one kind of owner: `event_id` or `reaction_id`."""

    def __init__(self, conn: Conn, owner: str) -> None:
        super().__init__(conn)
        assert owner in ("event_id", "reaction_id")
        self.owner = owner

    async def add(self, sources: Sequence[tuple[int, Source]]) -> None:
        """Sources of many owners: (owner id, source) pairs, kept in this order."""
        if sources:
            await self.conn.executemany(
                f"INSERT INTO source ({self.owner}, {', '.join(SOURCE_COLUMNS)}) "
                f"VALUES ({marks(len(SOURCE_COLUMNS) + 1)})",
                [[owner, *(getattr(s, c) for c in SOURCE_COLUMNS)] for owner, s in sources],
            )

    async def remove(self, owner_id: int) -> None:
        await self.conn.execute(f"DELETE FROM source WHERE {self.owner} = ?", [owner_id])

    async def of(self, ids: Sequence[int]) -> dict[int, list[Source]]:
        """Sources of many owners in one query, each owner's in the order they were added."""
        out: dict[int, list[Source]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.conn.fetchall(
            f"SELECT {self.owner} AS owner, {', '.join(SOURCE_COLUMNS)} FROM source "
            f"WHERE {self.owner} IN ({marks(len(ids))}) ORDER BY id",
            list(ids),
        )
        for row in rows:
            out[row.pop("owner")].append(Source(**row))
        return out
