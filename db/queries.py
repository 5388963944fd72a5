"""Every SQL statement the services run, written once in portable SQL (`?` placeholders).

Rows come back as dicts keyed by the data model's field names (docs/architecture.md,
"Data model"); JSON-list columns (subscription filters, moderator roles) are decoded here
so callers see lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from db.store import Conn, Row

EVENT_COLUMNS = (
    "guild_id", "external_id", "occurred_on", "date_precision", "occurred_at", "actor",
    "category", "name", "count", "platform", "launch_site", "latitude", "longitude",
    "landing_area", "distance_km", "apogee_km", "outcome", "claimed", "overseen_by", "region",
    "summary", "confidence", "retraction_reason", "created_by", "created_at", "updated_at",
    "revision",
)  # fmt: skip
SOURCE_COLUMNS = ("url", "publisher", "title", "published_on")
REACTION_COLUMNS = (
    "guild_id", "event_id", "since", "until", "actor", "actor_kind", "speaker",
    "speaker_title", "affiliation", "stance", "summary", "quote", "said_on", "created_by",
    "created_at",
)  # fmt: skip
SUBSCRIPTION_COLUMNS = (
    "guild_id", "channel_id", "regions", "categories", "actors", "min_confidence",
    "mention_role_id", "mode", "digest_every", "digest_time", "timezone", "last_digest_at",
    "state", "broken_reason", "created_by", "created_at",
)  # fmt: skip
_JSON_LISTS = ("regions", "categories", "actors", "moderator_role_ids")
DELIVERY_COLUMNS = (
    "subscription_id", "guild_id", "channel_id", "event_id", "revision", "period", "kind",
    "status", "attempts", "next_attempt_at", "nonce", "created_at",
)  # fmt: skip


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


@dataclass(frozen=True)
class ReactionFilter:
    guild_ids: Sequence[int]
    event_id: int | None = None
    event_day: str | None = None  # reactions to a series covering this day also count
    # (a partial `until`, or a lone `since`, covers its whole month or year: `2024-01~`)
    actor: str | None = None
    since: str | None = None
    until: str | None = None


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _like(word: str) -> str:
    """A word for LIKE, with its wildcards escaped."""
    return word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: Timeline order, and newest first: what the event_visible indexes hold (migration 004).
_TIMELINE = "occurred_on, occurred_at NULLS FIRST, id"
_TIMELINE_DESC = "occurred_on DESC, occurred_at DESC NULLS LAST, id DESC"
#: SQLite's event_search rowid is (occurred_on as YYYYMMDD) * 2^36 + event id.
_SEARCH_ID_SPAN = 1 << 36
#: PostgreSQL: how many of a guild's newest events a search tests before the GIN index.
SEARCH_RECENT = 2000
#: A word `_search_words` made of a month (`-01-`) or a month and day (`-01-29`).
_CALENDAR = re.compile(r"-(\d\d)-(\d\d)?")


def _calendar_token(word: str) -> str | None:
    """`-01-29` -> `md0129`, `-01-` -> `m01`: the cal tokens migration 004 indexes."""
    m = _CALENDAR.fullmatch(word)
    if m is None:
        return None
    return f"md{m[1]}{m[2]}" if m[2] else f"m{m[1]}"


def _fts_match(guild_ids: Sequence[int], words: Sequence[str]) -> str:
    """An FTS5 query: one of the guilds, and every word (a token prefix, or a cal token).

    A word is an FTS5 string, so the table's own tokenizer splits it as it split the
    text (`hwasong-18` is the phrase hwasong 18) and nothing in it is query syntax."""
    parts = ["guild : (" + " OR ".join(f"g{int(g)}" for g in guild_ids) + ")"]
    for word in words:
        token = _calendar_token(word)
        if token is not None:
            parts.append(f"cal : {token}")
        else:
            parts.append('{day body} : "' + word.replace('"', '""') + '"*')
    return " AND ".join(parts)


def _tsquery(words: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL for a tsquery matching every word (PostgreSQL; `event_search_term` makes a
    typed word's lexemes as the document's were made), and its parameters; "" for none."""
    parts, params = [], []
    for word in words:
        token = _calendar_token(word)
        parts.append("to_tsquery('simple', ?)" if token else "event_search_term(?)")
        params.append(token or word)
    return " && ".join(parts), params


def _decode(row: Row | None) -> Row | None:
    if row is None:
        return None
    for key in _JSON_LISTS:
        if key in row and isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


def _encode(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list) else value


@dataclass
class Queries:
    """The store's operations on one connection (inside a transaction, or a read view)."""

    conn: Conn
    wrote_deliveries: bool = field(default=False)

    # -- events ---------------------------------------------------------------------------
    async def insert_event(self, values: Row) -> int:
        cols = [c for c in EVENT_COLUMNS if c in values]
        sql = f"INSERT INTO event ({', '.join(cols)}) VALUES ({_marks(len(cols))}) RETURNING id"
        return await self.conn.insert(sql, [values[c] for c in cols])

    async def insert_events(self, rows: Sequence[Row]) -> list[int]:
        """Many events at once (imports); every row has the same columns. Ids in order."""
        if not rows:
            return []
        cols = [c for c in EVENT_COLUMNS if c in rows[0]]
        sql = f"INSERT INTO event ({', '.join(cols)}) VALUES ({_marks(len(cols))})"
        return await self.conn.insert_many(sql, [[r[c] for c in cols] for r in rows])

    async def insert_sources_many(self, owner: str, sources: Sequence[tuple[int, Row]]) -> None:
        """Sources of many owners: (owner id, source) pairs."""
        column = {"event": "event_id", "reaction": "reaction_id"}[owner]
        if sources:
            await self.conn.executemany(
                f"INSERT INTO source ({column}, {', '.join(SOURCE_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                [[owner_id, *(s.get(c) for c in SOURCE_COLUMNS)] for owner_id, s in sources],
            )

    async def update_event(self, event_id: int, values: Row) -> None:
        cols = [c for c in values if c in EVENT_COLUMNS]
        sets = ", ".join(f"{c} = ?" for c in cols)
        await self.conn.execute(
            f"UPDATE event SET {sets} WHERE id = ?", [values[c] for c in cols] + [event_id]
        )

    async def get_event(self, event_id: int) -> Row | None:
        return await self.conn.fetchone("SELECT * FROM event WHERE id = ?", [event_id])

    async def get_event_for_update(self, event_id: int) -> Row | None:
        """The event, read to be changed: no other transaction can change it (and so take
        the same next revision number) until this one ends."""
        return await self.conn.fetchone(
            self.conn.for_update("SELECT * FROM event WHERE id = ?"), [event_id]
        )

    async def lock_external_ids(self, guild_id: int, keys: Sequence[str]) -> None:
        """Serialise the use of these external ids with other transactions until this one
        ends: checked free, then inserted, without another inserting them in between (an
        id not yet in use has no row to lock)."""
        await self.conn.lock([f"external_id:{guild_id}:{key}" for key in keys])

    async def event_by_external_id(self, guild_id: int, external_id: str) -> Row | None:
        return await self.conn.fetchone(
            "SELECT * FROM event WHERE guild_id = ? AND external_id = ?", [guild_id, external_id]
        )

    async def taken_external_ids(self, guild_id: int, keys: Sequence[str]) -> set[str]:
        """Which of these external ids the guild's events already use (a batch's check)."""
        taken: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            rows = await self.conn.fetchall(
                f"SELECT external_id FROM event WHERE guild_id = ? AND external_id IN ({_marks(len(chunk))})",
                [guild_id, *chunk],
            )
            taken.update(r["external_id"] for r in rows)
        return taken

    async def recent_twin(
        self, guild_id: int, occurred_on: str, category: str, summary: str, since: str
    ) -> Row | None:
        """The guild's event with this date, category and summary recorded since `since`."""
        return await self.conn.fetchone(
            "SELECT * FROM event WHERE guild_id = ? AND occurred_on = ? AND category = ? "
            "AND summary = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
            [guild_id, occurred_on, category, summary, since],
        )

    def _event_where(
        self, f: EventFilter, guild_ids: Sequence[int] | None = None
    ) -> tuple[str, list[Any]]:
        """The filter as SQL, for its guilds or the `guild_ids` given (one arm of a merge)."""
        guilds = f.guild_ids if guild_ids is None else guild_ids
        where = [f"guild_id IN ({_marks(len(guilds))})"]
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
            where, args = self._event_where(f, [guild])
            arms.append(
                f"SELECT * FROM (SELECT id, occurred_on, occurred_at FROM event WHERE {where} "
                f"ORDER BY {order}) AS arm{len(arms)}"
            )
            params += args
        sql = (
            f"SELECT id FROM ({' UNION ALL '.join(arms)} ORDER BY {order} LIMIT ? OFFSET ?) AS page"
        )
        return sql, [*params, limit, offset]

    async def list_events(self, f: EventFilter, limit: int, offset: int = 0) -> list[Row]:
        ids, params = self._page_ids(f, _TIMELINE, limit, offset)
        return await self.conn.fetchall(
            f"SELECT * FROM event WHERE id IN ({ids}) ORDER BY {_TIMELINE}", params
        )

    async def count_events(self, f: EventFilter, cap: int | None = None) -> int:
        """How many events match; with `cap`, counting stops there (min(count, cap))."""
        where, params = self._event_where(f)
        if cap is None:
            sql = f"SELECT COUNT(*) AS n FROM event WHERE {where}"
        else:
            sql = f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM event WHERE {where} LIMIT ?) AS capped"
            params.append(cap)
        row = await self.conn.fetchone(sql, params)
        return int(row["n"]) if row else 0

    async def latest_events(self, f: EventFilter, limit: int) -> list[Row]:
        """The `limit` newest events, returned oldest first."""
        ids, params = self._page_ids(f, _TIMELINE_DESC, limit, 0)
        rows = await self.conn.fetchall(
            f"SELECT * FROM event WHERE id IN ({ids}) ORDER BY {_TIMELINE_DESC}", params
        )
        return rows[::-1]

    async def search_events(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[Row]:
        """Events whose date or descriptive text holds every word as a token prefix
        (`kim`, `hwasong-1`), newest first (occurred_on, then id). A word `-01-29` or
        `-01-` is a month-day or a month (services turn `jan 29`, `jan` into these).
        Migration 004 builds the index each backend searches."""
        if not guild_ids:
            return []
        if self.conn.dialect == "postgres":
            return await self._search_events_postgres(guild_ids, words, limit)
        return await self.conn.fetchall(
            "SELECT e.* FROM event_search s CROSS JOIN event e ON e.id = s.rowid % "
            f"{_SEARCH_ID_SPAN} WHERE event_search MATCH ? ORDER BY s.rowid DESC LIMIT ?",
            [_fts_match(guild_ids, words), limit],
        )

    async def _search_events_postgres(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[Row]:
        """Each guild's newest rows first: the tsvectors of its SEARCH_RECENT newest events
        are tested in date order, which finds a common word's `limit` newest matches at
        once. A guild where they hold fewer is searched through the GIN index (cost follows
        the number of matches, not of events), and the answers are merged."""
        query, params = _tsquery(words)
        test = "document @@ (SELECT query FROM q)" if query else "TRUE"
        arms = []
        arm_params: list[Any] = []
        for n, guild in enumerate(guild_ids):
            arms.append(
                f"SELECT * FROM (SELECT guild_id, event_id, occurred_on FROM (SELECT guild_id, "
                "event_id, occurred_on, document FROM event_search WHERE guild_id = ? "
                f"ORDER BY occurred_on DESC, event_id DESC LIMIT {SEARCH_RECENT}) AS recent "
                f"WHERE {test} ORDER BY occurred_on DESC, event_id DESC LIMIT ?) AS arm{n}"
            )
            arm_params += [guild, limit]
        found = await self.conn.fetchall(
            f"WITH q AS MATERIALIZED (SELECT {query or 'NULL::tsquery'} AS query) "
            + " UNION ALL ".join(arms),
            [*params, *arm_params],
        )
        per_guild: dict[int, int] = {}
        for row in found:
            per_guild[row["guild_id"]] = per_guild.get(row["guild_id"], 0) + 1
        rest = [g for g in guild_ids if per_guild.get(g, 0) < limit]
        hits = [r for r in found if r["guild_id"] not in rest]
        if rest:
            guilds = " | ".join(f"g{int(g)}" for g in rest)
            # OFFSET 0 keeps the planner from reading event_search_recent backwards and
            # testing every row (fast for a common word, a full scan for a rare one).
            hits += await self.conn.fetchall(
                f"WITH q AS MATERIALIZED (SELECT {query + ' && ' if query else ''}"
                "to_tsquery('simple', ?) AS query) "
                "SELECT event_id, occurred_on FROM (SELECT event_id, occurred_on "
                "FROM event_search WHERE document @@ (SELECT query FROM q) OFFSET 0) AS found "
                "ORDER BY occurred_on DESC, event_id DESC LIMIT ?",
                [*params, guilds, limit],
            )
        hits.sort(key=lambda r: (r["occurred_on"], r["event_id"]), reverse=True)
        ids = [r["event_id"] for r in hits[:limit]]
        if not ids:
            return []
        rows = {
            r["id"]: r
            for r in await self.conn.fetchall(
                f"SELECT * FROM event WHERE id IN ({_marks(len(ids))}) "
                f"AND guild_id IN ({_marks(len(guild_ids))})",
                [*ids, *guild_ids],
            )
        }
        return [rows[i] for i in ids if i in rows]

    async def all_events(self, guild_ids: Sequence[int]) -> list[Row]:
        return await self.conn.fetchall(
            f"SELECT * FROM event WHERE guild_id IN ({_marks(len(guild_ids))}) "
            "ORDER BY occurred_on, occurred_at NULLS FIRST, id",
            list(guild_ids),
        )

    async def events_created_between(
        self, guild_ids: Sequence[int], start: str, end: str
    ) -> list[Row]:
        """Events recorded in [start, end) (a digest's period), oldest launch first."""
        return await self.conn.fetchall(
            f"SELECT * FROM event WHERE guild_id IN ({_marks(len(guild_ids))}) "
            "AND created_at >= ? AND created_at < ? AND confidence <> 'retracted' "
            "ORDER BY occurred_on, id",
            [*guild_ids, start, end],
        )

    # -- sources --------------------------------------------------------------------------
    async def insert_sources(self, owner: str, owner_id: int, sources: Iterable[Row]) -> None:
        column = {"event": "event_id", "reaction": "reaction_id"}[owner]
        rows = [[owner_id, *(s.get(c) for c in SOURCE_COLUMNS)] for s in sources]
        if rows:
            await self.conn.executemany(
                f"INSERT INTO source ({column}, {', '.join(SOURCE_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    async def delete_sources(self, owner: str, owner_id: int) -> None:
        column = {"event": "event_id", "reaction": "reaction_id"}[owner]
        await self.conn.execute(f"DELETE FROM source WHERE {column} = ?", [owner_id])

    async def sources_for(self, owner: str, ids: Sequence[int]) -> dict[int, list[Row]]:
        """Sources of many events (or reactions) in one query, in the order they were added."""
        column = {"event": "event_id", "reaction": "reaction_id"}[owner]
        out: dict[int, list[Row]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = await self.conn.fetchall(
            f"SELECT {column} AS owner, {', '.join(SOURCE_COLUMNS)} FROM source "
            f"WHERE {column} IN ({_marks(len(ids))}) ORDER BY id",
            list(ids),
        )
        for row in rows:
            out[row.pop("owner")].append(row)
        return out

    # -- revisions ------------------------------------------------------------------------
    async def insert_revisions(self, rows: Sequence[Row]) -> None:
        cols = ("event_id", "revision", "changed_by", "changed_at", "field", "old", "new")
        if rows:
            await self.conn.executemany(
                f"INSERT INTO event_revision ({', '.join(cols)}) VALUES ({_marks(len(cols))})",
                [[r[c] for c in cols] for r in rows],
            )

    async def revisions(self, event_id: int) -> list[Row]:
        return await self.conn.fetchall(
            "SELECT revision, changed_by, changed_at, field, old, new FROM event_revision "
            "WHERE event_id = ? ORDER BY revision, id",
            [event_id],
        )

    # -- reactions ------------------------------------------------------------------------
    async def insert_reaction(self, values: Row) -> int:
        cols = [c for c in REACTION_COLUMNS if c in values]
        sql = f"INSERT INTO reaction ({', '.join(cols)}) VALUES ({_marks(len(cols))}) RETURNING id"
        return await self.conn.insert(sql, [values[c] for c in cols])

    async def get_reaction(self, reaction_id: int) -> Row | None:
        return await self.conn.fetchone("SELECT * FROM reaction WHERE id = ?", [reaction_id])

    async def delete_reaction(self, reaction_id: int) -> None:
        await self.conn.execute("DELETE FROM reaction WHERE id = ?", [reaction_id])

    def _reaction_where(self, f: ReactionFilter) -> tuple[str, list[Any]]:
        where = [f"guild_id IN ({_marks(len(f.guild_ids))})"]
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

    async def list_reactions(self, f: ReactionFilter, limit: int, offset: int = 0) -> list[Row]:
        where, params = self._reaction_where(f)
        return await self.conn.fetchall(
            f"SELECT * FROM reaction WHERE {where} "
            "ORDER BY CASE WHEN actor_kind = 'analyst' THEN 1 ELSE 0 END, actor, "
            "COALESCE(said_on, since) NULLS FIRST, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    async def count_reactions(self, f: ReactionFilter) -> int:
        where, params = self._reaction_where(f)
        row = await self.conn.fetchone(f"SELECT COUNT(*) AS n FROM reaction WHERE {where}", params)
        return int(row["n"]) if row else 0

    async def reactions_created_between(
        self, guild_ids: Sequence[int], start: str, end: str
    ) -> list[Row]:
        return await self.conn.fetchall(
            f"SELECT * FROM reaction WHERE guild_id IN ({_marks(len(guild_ids))}) "
            "AND created_at >= ? AND created_at < ? ORDER BY actor_kind = 'analyst', actor, id",
            [*guild_ids, start, end],
        )

    async def digest_subscriptions(self) -> list[Row]:
        rows = await self.conn.fetchall(
            "SELECT * FROM subscription WHERE state = 'active' AND mode IN ('digest', 'both') ORDER BY id"
        )
        return [r for r in map(_decode, rows) if r is not None]

    async def set_last_digest(self, subscription_id: int, stamp: str) -> None:
        await self.conn.execute(
            "UPDATE subscription SET last_digest_at = ? WHERE id = ?", [stamp, subscription_id]
        )

    async def search_reactions(
        self, guild_ids: Sequence[int], words: Sequence[str], limit: int
    ) -> list[Row]:
        """Reactions whose actor, speaker or summary holds every word (newest first)."""
        where = [f"guild_id IN ({_marks(len(guild_ids))})"]
        params: list[Any] = list(guild_ids)
        haystack = "LOWER(actor || ' ' || COALESCE(speaker, '') || ' ' || stance || ' ' || summary)"
        for word in words:
            where.append(f"{haystack} LIKE ? ESCAPE '\\'")
            params.append("%" + _like(word) + "%")
        return await self.conn.fetchall(
            f"SELECT * FROM reaction WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )

    async def all_reactions(self, guild_ids: Sequence[int]) -> list[Row]:
        return await self.conn.fetchall(
            f"SELECT * FROM reaction WHERE guild_id IN ({_marks(len(guild_ids))}) ORDER BY id",
            list(guild_ids),
        )

    # -- subscriptions --------------------------------------------------------------------
    async def upsert_subscription(self, values: Row) -> int:
        cols = [c for c in SUBSCRIPTION_COLUMNS if c in values]
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in cols if c not in ("channel_id", "created_at")
        )
        return await self.conn.insert(
            f"INSERT INTO subscription ({', '.join(cols)}) VALUES ({_marks(len(cols))}) "
            f"ON CONFLICT (channel_id) DO UPDATE SET {updates} RETURNING id",
            [_encode(values[c]) for c in cols],
        )

    async def get_subscription(self, subscription_id: int) -> Row | None:
        return _decode(
            await self.conn.fetchone("SELECT * FROM subscription WHERE id = ?", [subscription_id])
        )

    async def subscription_for_channel(self, channel_id: int) -> Row | None:
        return _decode(
            await self.conn.fetchone(
                "SELECT * FROM subscription WHERE channel_id = ?", [channel_id]
            )
        )

    async def delete_subscription(self, subscription_id: int) -> None:
        await self.conn.execute("DELETE FROM subscription WHERE id = ?", [subscription_id])

    async def set_subscription_state(
        self, subscription_id: int, state: str, reason: str | None
    ) -> None:
        await self.conn.execute(
            "UPDATE subscription SET state = ?, broken_reason = ? WHERE id = ?",
            [state, reason, subscription_id],
        )

    async def list_subscriptions(self, guild_id: int) -> list[Row]:
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
        return [r for r in map(_decode, rows) if r is not None]

    async def instant_subscriptions(self, guild_ids: Sequence[int] | None) -> list[Row]:
        """Active subscriptions that alert at once; None means every guild (a publisher's event)."""
        sql = "SELECT * FROM subscription WHERE state = 'active' AND mode IN ('instant', 'both')"
        params: list[Any] = []
        if guild_ids is not None:
            sql += f" AND guild_id IN ({_marks(len(guild_ids))})"
            params = list(guild_ids)
        rows = await self.conn.fetchall(sql + " ORDER BY id", params)
        return [r for r in map(_decode, rows) if r is not None]

    # -- deliveries -----------------------------------------------------------------------
    async def insert_deliveries(self, rows: Sequence[Row]) -> None:
        """Queue deliveries; a row that already exists (same subscription, event, revision, kind) is kept."""
        if not rows:
            return
        await self.conn.executemany(
            f"INSERT INTO delivery ({', '.join(DELIVERY_COLUMNS)}) "
            f"VALUES ({_marks(len(DELIVERY_COLUMNS))}) ON CONFLICT DO NOTHING",
            [[r.get(c) for c in DELIVERY_COLUMNS] for r in rows],
        )
        self.wrote_deliveries = True

    async def claim_deliveries(
        self,
        now: str,
        until: str,
        limit: int,
        shards: Sequence[int] = (),
        shard_count: int = 1,
        *,
        per_channel: int | None = None,
    ) -> list[Row]:
        """Claim due, unclaimed deliveries of these shards' guilds until `until`, taking
        the channels in turn: every channel's oldest due row, then every channel's next.

        With `per_channel`, no channel holds more than that many claimed rows (those still
        claimed from before count), so a channel with a backlog cannot take the slots that
        other channels' alerts need. On PostgreSQL the rows are locked with FOR UPDATE SKIP
        LOCKED, so processes that claim at the same moment never share a row."""
        due, params = self._due_where(now, shards, shard_count, alias="d.")
        held = "d.claimed_until > ?"
        ranked = (
            "SELECT d.id, ROW_NUMBER() OVER (PARTITION BY d.channel_id "
            f"ORDER BY CASE WHEN {held} THEN 0 ELSE 1 END, d.id) AS lane, "
            f"CASE WHEN {held} THEN 1 ELSE 0 END AS held FROM delivery d "
            f"WHERE d.status = 'pending' AND ({held} OR d.next_attempt_at <= ?)"
        )
        ranked_params: list[Any] = [now, now, now, now]
        if shards:
            ranked += f" AND ((d.guild_id >> 22) % ?) IN ({_marks(len(shards))})"
            ranked_params += [shard_count, *shards]
        cap = " AND r.lane <= ?" if per_channel is not None else ""
        cap_params = [per_channel] if per_channel is not None else []
        lock = " FOR UPDATE OF d SKIP LOCKED" if self.conn.dialect == "postgres" else ""
        # The due test is repeated on the locked row itself: PostgreSQL re-checks it on the
        # newest version of a row another claim updated meanwhile.
        rows = await self.conn.fetchall(
            f"UPDATE delivery SET claimed_until = ? WHERE id IN (SELECT d.id FROM delivery d "
            f"JOIN ({ranked}) r ON r.id = d.id WHERE r.held = 0{cap} AND {due} "
            f"ORDER BY r.lane, d.id LIMIT ?{lock}) RETURNING *",
            [until, *ranked_params, *cap_params, *params, limit],
        )
        return sorted(rows, key=lambda r: r["id"])

    def _due_where(
        self, now: str, shards: Sequence[int], shard_count: int, alias: str = ""
    ) -> tuple[str, list[Any]]:
        a = alias
        where = (
            f"{a}status = 'pending' AND {a}next_attempt_at <= ? "
            f"AND ({a}claimed_until IS NULL OR {a}claimed_until <= ?)"
        )
        params: list[Any] = [now, now]
        if shards:
            where += f" AND (({a}guild_id >> 22) % ?) IN ({_marks(len(shards))})"
            params += [shard_count, *shards]
        return where, params

    async def release_claims(self, shards: Sequence[int] = (), shard_count: int = 1) -> int:
        """Forget claims on these shards' deliveries: their owner restarted."""
        sql = "UPDATE delivery SET claimed_until = NULL WHERE status = 'pending' AND claimed_until IS NOT NULL"
        params: list[Any] = []
        if shards:
            sql += f" AND ((guild_id >> 22) % ?) IN ({_marks(len(shards))})"
            params = [shard_count, *shards]
        return await self.conn.execute(sql, params)

    async def release_deliveries(
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
            where, args = f"id IN ({_marks(len(ids))})", list[Any](ids)
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
            where += f" AND ((guild_id >> 22) % ?) IN ({_marks(len(shards))})"
            params += [shard_count, *shards]
        row = await self.conn.fetchone(
            f"SELECT MIN(next_attempt_at) AS t FROM delivery WHERE {where}", params
        )
        return row["t"] if row else None

    async def get_delivery(self, delivery_id: int) -> Row | None:
        return await self.conn.fetchone("SELECT * FROM delivery WHERE id = ?", [delivery_id])

    async def sent_alert(self, subscription_id: int, event_id: int) -> Row | None:
        """The alert a subscription received for an event (its message id), if any."""
        return await self.conn.fetchone(
            "SELECT * FROM delivery WHERE subscription_id = ? AND event_id = ? AND kind = 'alert' "
            "ORDER BY id LIMIT 1",
            [subscription_id, event_id],
        )

    async def posted_alert(self, event_id: int, guild_id: int) -> Row | None:
        """An alert for the event sent to one of this guild's channels (for a link to it)."""
        return await self.conn.fetchone(
            "SELECT channel_id, message_id FROM delivery WHERE event_id = ? AND guild_id = ? "
            "AND kind = 'alert' AND status = 'sent' AND message_id IS NOT NULL "
            "ORDER BY id LIMIT 1",
            [event_id, guild_id],
        )

    async def update_delivery(
        self, delivery_id: int, values: Row, *, pending_only: bool = False
    ) -> int:
        """Change a delivery; with `pending_only`, only while it is pending (an outcome
        never overwrites another). Returns how many rows changed (0 or 1)."""
        cols = list(values)
        where = "id = ? AND status = 'pending'" if pending_only else "id = ?"
        return await self.conn.execute(
            f"UPDATE delivery SET {', '.join(f'{c} = ?' for c in cols)} WHERE {where}",
            [*(values[c] for c in cols), delivery_id],
        )

    async def skip_pending(self, subscription_id: int, reason: str) -> None:
        """Settle a subscription's pending deliveries without sending (it is broken or gone)."""
        await self.conn.execute(
            "UPDATE delivery SET status = 'failed', last_error = ? "
            "WHERE subscription_id = ? AND status = 'pending'",
            [reason, subscription_id],
        )

    async def revision_fields(self, event_id: int, revision: int) -> list[str]:
        rows = await self.conn.fetchall(
            "SELECT field FROM event_revision WHERE event_id = ? AND revision = ? ORDER BY id",
            [event_id, revision],
        )
        return [r["field"] for r in rows]

    async def delivery_stats(self, subscription_ids: Sequence[int]) -> dict[int, Row]:
        """Per subscription: last sent time, failures, pending count, last error."""
        if not subscription_ids:
            return {}
        rows = await self.conn.fetchall(
            "SELECT subscription_id, MAX(sent_at) AS last_sent_at, "
            "SUM(CASE WHEN status IN ('failed', 'dead') THEN 1 ELSE 0 END) AS failures, "
            "SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending "
            f"FROM delivery WHERE subscription_id IN ({_marks(len(subscription_ids))}) "
            "GROUP BY subscription_id",
            list(subscription_ids),
        )
        return {r["subscription_id"]: r for r in rows}

    async def deliveries_for_event(self, event_id: int) -> list[Row]:
        return await self.conn.fetchall(
            "SELECT * FROM delivery WHERE event_id = ? ORDER BY id", [event_id]
        )

    async def count_deliveries(self, status: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) AS n FROM delivery", []
        if status is not None:
            sql, params = sql + " WHERE status = ?", [status]
        row = await self.conn.fetchone(sql, params)
        return int(row["n"]) if row else 0

    # -- guild settings -------------------------------------------------------------------
    async def get_settings(self, guild_id: int) -> Row | None:
        return _decode(
            await self.conn.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", [guild_id])
        )

    async def upsert_settings(self, guild_id: int, values: Row) -> None:
        cols = list(values)
        await self.conn.execute(
            f"INSERT INTO guild_settings (guild_id, {', '.join(cols)}) "
            f"VALUES (?, {_marks(len(cols))}) ON CONFLICT (guild_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols),
            [guild_id, *(_encode(values[c]) for c in cols)],
        )

    # -- counts ---------------------------------------------------------------------------
    async def counts(self, guild_ids: Sequence[int] | None = None) -> dict[str, int]:
        """Row counts for /about; per guild when guild_ids is given."""
        out = {}
        for table in ("event", "reaction", "subscription"):
            sql, params = f"SELECT COUNT(*) AS n FROM {table}", []
            if guild_ids is not None:
                sql += f" WHERE guild_id IN ({_marks(len(guild_ids))})"
                params = list(guild_ids)
            row = await self.conn.fetchone(sql, params)
            out[table] = int(row["n"]) if row else 0
        return out
