"""Events and their revisions: the queries of the event aggregate.

Events come back whole, as `Event`s with their sources (read after the row, in one query
for a page of events). Changes are written as column -> value mappings of the event's own
store columns (`EVENT_COLUMNS`, read from the dataclass), so an update writes only what
changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.fields import columns, unknown
from bot.models import EVENT_COLUMNS, Event, Revision
from db.base import Aggregate, Sources, marks

if TYPE_CHECKING:
    from db.store import Conn, Row

REVISION_COLUMNS = columns(Revision)
#: Timeline order, and newest first: what the event_visible indexes hold (migration 004).
TIMELINE = "occurred_on, occurred_at NULLS FIRST, id"
TIMELINE_DESC = "occurred_on DESC, occurred_at DESC NULLS LAST, id DESC"


@dataclass(frozen=True)
class EventFilter:
    """What a timeline asks for. Dates are ISO text bounds, already widened for partial dates."""

    guild_ids: Sequence[int]
    since: str | None = None
    until: str | None = None
    category: str | None = None
    actor: str | None = None
    region: str | None = None
    include_retracted: bool = False


class Events(Aggregate):
    """Events, their sources and their change log."""

    def __init__(self, conn: Conn) -> None:
        super().__init__(conn)
        self.sources = Sources(conn, "event_id")

    async def loaded(self, rows: Sequence[Row]) -> list[Event]:
        """The rows as events, with their sources (one query for them all)."""
        sources = await self.sources.of([r["id"] for r in rows])
        return [Event.from_row(r, sources[r["id"]]) for r in rows]

    async def _one(self, row: Row | None) -> Event | None:
        return None if row is None else (await self.loaded([row]))[0]

    # -- writing --------------------------------------------------------------------------
    async def add(self, event: Event) -> Event:
        """Store a new event and its sources; the event with its id."""
        row = event.to_row()
        event_id = await self.conn.insert(
            f"INSERT INTO event ({', '.join(row)}) VALUES ({marks(len(row))}) RETURNING id",
            list(row.values()),
        )
        await self.sources.add([(event_id, s) for s in event.sources])
        return replace(event, id=event_id)

    async def add_many(self, events: Sequence[Event]) -> list[Event]:
        """Many new events at once (imports), with their sources; the events with their ids."""
        if not events:
            return []
        ids = await self.conn.insert_many(
            "event", EVENT_COLUMNS, [list(e.to_row().values()) for e in events]
        )
        stored = [replace(e, id=i) for e, i in zip(events, ids, strict=True)]
        await self.sources.add([(e.id, s) for e in stored for s in e.sources])
        return stored

    async def update(self, event_id: int, changes: Mapping[str, Any]) -> None:
        """Write these store columns of the event (and nothing else)."""
        assert not unknown(Event, changes), unknown(Event, changes)
        sets = ", ".join(f"{c} = ?" for c in changes)
        await self.conn.execute(
            f"UPDATE event SET {sets} WHERE id = ?", [*changes.values(), event_id]
        )

    async def lock_external_ids(self, guild_id: int, keys: Sequence[str]) -> None:
        """Serialise the use of these external ids with other transactions until this one
        ends: checked free, then inserted, without another inserting them in between (an
        id not yet in use has no row to lock)."""
        await self.conn.lock([f"external_id:{guild_id}:{key}" for key in keys])

    async def lock_twin(self, guild_id: int, occurred_on: str, category: str) -> None:
        """Serialise recording a launch of this day and category with other transactions,
        so a retry waits for the first to commit and then finds it."""
        await self.conn.lock([f"twin:{guild_id}:{occurred_on}:{category}"])

    # -- reading --------------------------------------------------------------------------
    async def get(self, event_id: int) -> Event | None:
        """The event: its row, then its sources."""
        return await self._one(
            await self.conn.fetchone("SELECT * FROM event WHERE id = ?", [event_id])
        )

    async def get_for_update(self, event_id: int) -> Event | None:
        """The event, read to be changed: no other transaction can change it (and so take
        the same next revision number) until this one ends."""
        return await self._one(
            await self.conn.fetchone(
                self.conn.for_update("SELECT * FROM event WHERE id = ?"), [event_id]
            )
        )

    async def by_external_id(self, guild_id: int, external_id: str) -> Event | None:
        return await self._one(
            await self.conn.fetchone(
                "SELECT * FROM event WHERE guild_id = ? AND external_id = ?",
                [guild_id, external_id],
            )
        )

    async def by_ids(self, ids: Sequence[int], guild_ids: Sequence[int]) -> list[Event]:
        """These events, in this order, if they belong to these guilds."""
        if not ids:
            return []
        rows = await self.conn.fetchall(
            f"SELECT * FROM event WHERE id IN ({marks(len(ids))}) "
            f"AND guild_id IN ({marks(len(guild_ids))})",
            [*ids, *guild_ids],
        )
        found = {r["id"]: r for r in rows}
        return await self.loaded([found[i] for i in ids if i in found])

    async def taken_external_ids(self, guild_id: int, keys: Sequence[str]) -> set[str]:
        """Which of these external ids the guild's events already use (a batch's check)."""
        taken: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            rows = await self.conn.fetchall(
                f"SELECT external_id FROM event WHERE guild_id = ? AND external_id IN ({marks(len(chunk))})",
                [guild_id, *chunk],
            )
            taken.update(r["external_id"] for r in rows)
        return taken

    async def recent_twin(
        self, guild_id: int, occurred_on: str, category: str, summary: str, since: str
    ) -> Event | None:
        """The guild's event with this date, category and summary recorded since `since`."""
        return await self._one(
            await self.conn.fetchone(
                "SELECT * FROM event WHERE guild_id = ? AND occurred_on = ? AND category = ? "
                "AND summary = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
                [guild_id, occurred_on, category, summary, since],
            )
        )

    def _where(
        self, f: EventFilter, guild_ids: Sequence[int] | None = None
    ) -> tuple[str, list[Any]]:
        """The filter as SQL, for its guilds or the `guild_ids` given (one arm of a merge)."""
        guilds = f.guild_ids if guild_ids is None else guild_ids
        where = [f"guild_id IN ({marks(len(guilds))})"]
        params: list[Any] = list(guilds)
        for column, op, value in (
            ("occurred_on", ">=", f.since),
            ("occurred_on", "<=", f.until),
            ("category", "=", f.category),
            ("LOWER(actor)", "= LOWER(?)", f.actor),  # as subscriptions match: case forgiven
            ("LOWER(region)", "= LOWER(?)", f.region),
        ):
            if value is not None:
                where.append(f"{column} {op}" if "?" in op else f"{column} {op} ?")
                params.append(value)
        if not f.include_retracted:
            where.append("confidence <> 'retracted'")  # the event_visible indexes' condition
        return " AND ".join(where), params

    def _page_ids(
        self, f: EventFilter, order: str, limit: int, offset: int
    ) -> tuple[str, list[Any]]:
        """SQL for the ids of one page in `order`, reading index entries only.

        Each guild's rows come in order from its own range of an event_visible index and
        the ranges are merged (SQLite's MERGE of a compound SELECT, PostgreSQL's Merge
        Append: each needs its arm ordered, PostgreSQL in the arm itself), reading only as
        far as the page; `guild_id IN (...)` would read every guild's whole range and
        sort it. The rows themselves are read for the page
        alone, so a deep page skips index entries rather than rows."""
        arms: list[str] = []
        params: list[Any] = []
        for guild in f.guild_ids:
            where, args = self._where(f, [guild])
            arms.append(
                f"SELECT * FROM (SELECT id, occurred_on, occurred_at FROM event WHERE {where} "
                f"ORDER BY {order}) AS arm{len(arms)}"
            )
            params += args
        sql = (
            f"SELECT id FROM ({' UNION ALL '.join(arms)} ORDER BY {order} LIMIT ? OFFSET ?) AS page"
        )
        return sql, [*params, limit, offset]

    async def timeline(self, f: EventFilter, limit: int, offset: int = 0) -> list[Event]:
        """One page of events in timeline order."""
        ids, params = self._page_ids(f, TIMELINE, limit, offset)
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM event WHERE id IN ({ids}) ORDER BY {TIMELINE}", params
            )
        )

    async def count(self, f: EventFilter, cap: int | None = None) -> int:
        """How many events match; with `cap`, counting stops there (min(count, cap))."""
        where, params = self._where(f)
        if cap is None:
            sql = f"SELECT COUNT(*) AS n FROM event WHERE {where}"
        else:
            sql = f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM event WHERE {where} LIMIT ?) AS capped"
            params.append(cap)
        row = await self.conn.fetchone(sql, params)
        return int(row["n"]) if row else 0

    async def latest(self, f: EventFilter, limit: int) -> list[Event]:
        """The `limit` newest events, returned oldest first."""
        ids, params = self._page_ids(f, TIMELINE_DESC, limit, 0)
        rows = await self.conn.fetchall(
            f"SELECT * FROM event WHERE id IN ({ids}) ORDER BY {TIMELINE_DESC}", params
        )
        return await self.loaded(rows[::-1])

    async def of_guilds(self, guild_ids: Sequence[int]) -> list[Event]:
        """Every event of these guilds, in timeline order."""
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM event WHERE guild_id IN ({marks(len(guild_ids))}) "
                f"ORDER BY {TIMELINE}",
                list(guild_ids),
            )
        )

    async def created_between(self, guild_ids: Sequence[int], start: str, end: str) -> list[Event]:
        """Events recorded in [start, end) (a digest's period), oldest launch first."""
        return await self.loaded(
            await self.conn.fetchall(
                f"SELECT * FROM event WHERE guild_id IN ({marks(len(guild_ids))}) "
                "AND created_at >= ? AND created_at < ? AND confidence <> 'retracted' "
                "ORDER BY occurred_on, id",
                [*guild_ids, start, end],
            )
        )

    async def total(self, guild_ids: Sequence[int] | None = None) -> int:
        """How many events these guilds hold (all guilds: None)."""
        return await self.total_of("event", guild_ids)

    # -- revisions ------------------------------------------------------------------------
    async def add_revisions(self, revisions: Sequence[Revision]) -> None:
        if revisions:
            await self.conn.executemany(
                f"INSERT INTO event_revision ({', '.join(REVISION_COLUMNS)}) "
                f"VALUES ({marks(len(REVISION_COLUMNS))})",
                [[getattr(r, c) for c in REVISION_COLUMNS] for r in revisions],
            )

    async def revisions(self, event_id: int) -> list[Revision]:
        """The event's change log, oldest first."""
        rows = await self.conn.fetchall(
            "SELECT revision, changed_by, changed_at, field, old, new FROM event_revision "
            "WHERE event_id = ? ORDER BY revision, id",
            [event_id],
        )
        return [Revision(**r, event_id=event_id) for r in rows]
