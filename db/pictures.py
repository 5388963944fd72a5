"""The pictures' SQL: counts instead of events, and a change counter to key their cache.

A chart of 10,000 events needs only how many fell in each month and category, and a
period map how many came from each site: `GROUP BY` answers both in a few milliseconds,
where reading every `Event` with its sources took about 300 ms (bench/pictures.py). The
portable SQL here is its own module, constructed from a connection
(`PictureQueries(q.conn)` inside `store.read()`), with its own copy of the timeline's
filter: it reads any filter shaped like `db.queries.EventFilter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from db.store import Conn

#: A chart's cell is a month at most, so dates are grouped by their first seven
#: characters: `2024-01-25` and `2024-01` fall in `2024-01`, a bare year stays `2024`.
MONTH_OF = "substr(occurred_on, 1, 7)"


class Filtered(Protocol):
    """What a timeline asks for (`db.queries.EventFilter` has it): visible guilds and ISO
    bounds already widened for partial dates."""

    @property
    def guild_ids(self) -> Sequence[int]: ...
    @property
    def since(self) -> str | None: ...
    @property
    def until(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def include_retracted(self) -> bool: ...


@dataclass(frozen=True)
class Tally:
    """Launches of one category in one month (or a year, for dates known only to the year)
    known to one precision: `events` launches, `missiles` the sum of their known counts,
    `unknown` those with no count."""

    month: str
    precision: str
    category: str
    events: int
    missiles: int
    unknown: int


@dataclass(frozen=True)
class SiteTally:
    """Launches of one category from one site as recorded (name and position as given;
    either may be missing)."""

    launch_site: str | None
    latitude: float | None
    longitude: float | None
    category: str
    events: int


@dataclass(frozen=True)
class Changes:
    """The store's change counter for some guilds' events: any add, edit (each bumps a
    revision), retraction or removal changes it. Part of a chart's cache key."""

    events: int
    last_id: int
    revisions: int
    last_update: str | None


class PictureQueries:
    """The pictures' statements, on one connection."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def changes(self, guild_ids: Sequence[int]) -> Changes:
        """One row from the guilds' events: count, newest id, the sum of revisions (every
        change adds one) and the last update. Clock-free but for the last: an id reused
        after a removal still moves the update time."""
        row = await self.conn.fetchone(
            "SELECT COUNT(*) AS events, MAX(id) AS last_id, SUM(revision) AS revisions, "
            f"MAX(updated_at) AS last_update FROM event WHERE guild_id IN ({_marks(guild_ids)})",
            list(guild_ids),
        )
        row = row or {}
        return Changes(
            events=int(row.get("events") or 0),
            last_id=int(row.get("last_id") or 0),
            revisions=int(row.get("revisions") or 0),
            last_update=row.get("last_update"),
        )

    async def tallies(self, f: Filtered) -> list[Tally]:
        """The chart's counts: per month (or year), date precision and category."""
        where, params = _where(f)
        rows = await self.conn.fetchall(
            f"SELECT {MONTH_OF} AS month, date_precision AS precision, category, "
            "COUNT(*) AS events, "
            "SUM(CASE WHEN count IS NULL THEN 0 ELSE count END) AS missiles, "
            "SUM(CASE WHEN count IS NULL THEN 1 ELSE 0 END) AS unknown "
            f"FROM event WHERE {where} "
            f"GROUP BY {MONTH_OF}, date_precision, category ORDER BY 1, 2, 3",
            params,
        )
        return [
            Tally(
                month=str(r["month"]),
                precision=str(r["precision"]),
                category=str(r["category"]),
                events=int(r["events"]),
                missiles=int(r["missiles"] or 0),
                unknown=int(r["unknown"] or 0),
            )
            for r in rows
        ]

    async def sites(self, f: Filtered) -> list[SiteTally]:
        """The period map's counts: per site name, position and category."""
        where, params = _where(f)
        rows = await self.conn.fetchall(
            "SELECT launch_site, latitude, longitude, category, COUNT(*) AS events "
            f"FROM event WHERE {where} "
            "GROUP BY launch_site, latitude, longitude, category",
            params,
        )
        tallies = [
            SiteTally(
                launch_site=r["launch_site"],
                latitude=None if r["latitude"] is None else float(r["latitude"]),
                longitude=None if r["longitude"] is None else float(r["longitude"]),
                category=str(r["category"]),
                events=int(r["events"]),
            )
            for r in rows
        ]
        # The backends order NULLs differently: sorted here, so both give the same list.
        return sorted(tallies, key=_site_order)


def _site_order(t: SiteTally) -> tuple[Any, ...]:
    return (
        t.launch_site is None,
        t.launch_site or "",
        t.latitude is None,
        t.latitude or 0.0,
        t.longitude is None,
        t.longitude or 0.0,
        t.category,
    )


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _where(f: Filtered) -> tuple[str, list[Any]]:
    """The filter as SQL, as the timeline reads it (db/queries.py `_event_where`)."""
    where = [f"guild_id IN ({_marks(f.guild_ids)})"]
    params: list[Any] = list(f.guild_ids)
    for column, op, value in (
        ("occurred_on", ">= ?", f.since),
        ("occurred_on", "<= ?", f.until),
        ("category", "= ?", f.category),
        ("LOWER(actor)", "= LOWER(?)", f.actor),  # as subscriptions match: case forgiven
        ("LOWER(region)", "= LOWER(?)", f.region),
    ):
        if value is not None:
            where.append(f"{column} {op}")
            params.append(value)
    if not f.include_retracted:
        where.append("confidence <> 'retracted'")
    return " AND ".join(where), params
