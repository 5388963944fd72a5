"""Scale: /timeline, the event autocomplete, imports and memory over a million events.

    .venv/bin/python bench/scale.py --backend sqlite|postgres [--events 1000000] [--fresh]

The store holds N generated events (1984 to the day it was made; mixed date precision,
categories, platforms, sites and names; 1 to 3 sources each; 80 % in one publisher
guild) and 10,000 subscriptions across 3,000 guilds. Nothing in it alerts anyone: rows
are written in bulk straight through the db layer (executemany on SQLite, COPY on
PostgreSQL), then ANALYZEd. The store is kept for the next run, keyed by N: a SQLite file
under --cache (default ~/.cache/launchwatch/bench), or the PostgreSQL schema
`lw_bench_<N>`; `--fresh` makes it again. A kept store gets any newer migration on open.

Every figure is read as the server `launchwatch-sandbox` (own events) that also sees the
publisher guild's, as `[network] publisher_guilds` makes it:

- timeline: `services.timeline` (count, page, sources) over a fixed mix of pages: no
  filter (the last 30 days), a year, a month, an open `since`, an old `until`, a
  category, a category with a range, and a deep page (page 1,000). The floor is one bare
  SQL query for the same page's rows on the same driver, written for the indexes (each
  visible guild's rows in timeline order, merged), with no count and no sources; the
  ratio is p99 over floor p99. The rows of both are checked to be the same.
- autocomplete: `services.search_events(..., 25)` for what people type, keystroke
  prefixes included (`k`, `hwas`) and the empty box.
- import: `transfer.import_file` of a generated CNS file into a new guild (removed after).
- memory: the real bot against the emulator in a child process with this store, driven
  through /timeline pages and autocompletes; its peak RSS (ru_maxrss).

Last lines (targets: timeline p99 <= 10 ms and ratio <= 3; autocomplete p99 <= 50 ms;
import >= 10,000 rows/s; rss <= 200 MB):

    timeline backend=B events=N p50_ms=X p99_ms=Y floor_p99_ms=F ratio=R
    autocomplete backend=B events=N p50_ms=X p99_ms=Y
    import backend=B rows_per_s=R
    memory backend=B rss_mb=M
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import csv
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot import services
from bot.dates import PartialDate
from bot.emulator.api import Emulator
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID, sandbox_world
from bot.services import Scope, TimelineFilter
from bot.services.context import now_iso
from bot.transfer import import_file
from db import Store, open_store
from db.events import EventFilter

#: Bump when the generated data changes: kept stores of an older generator are remade.
GENERATOR = 2
DEFAULT_EVENTS = 1_000_000
SUBSCRIPTIONS = 10_000
SUBSCRIBER_GUILDS = 3_000
IMPORT_ROWS = 50_000
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "launchwatch/bench"

PUBLISHER_GUILD_ID = 1100000000000000001
IMPORT_GUILD_ID = 1300000000000000099
#: Owner guilds and their share of the events: most in the publisher's feed.
GUILD_SHARES = (
    (PUBLISHER_GUILD_ID, 0.80),
    (SANDBOX_GUILD_ID, 0.08),
    (1300000000000000001, 0.05),
    (1300000000000000002, 0.04),
    (1300000000000000003, 0.03),
)
SCOPE = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID, (PUBLISHER_GUILD_ID,))
ROUNDS = 30
BUDGET_S = 10.0
#: When the generated history was imported: events before it were recorded then.
IMPORTED = datetime(2025, 6, 1, tzinfo=UTC)
ORDER = "occurred_on, occurred_at NULLS FIRST, id"


def _day(text: str) -> PartialDate:
    return PartialDate.parse(text)


#: (label, filter, page): the same pages on both backends.
TIMELINE_MIX: tuple[tuple[str, TimelineFilter, int], ...] = (
    ("no filter", TimelineFilter(), 0),
    ("no filter, page 2", TimelineFilter(), 1),
    ("one year", TimelineFilter(since=_day("2017"), until=_day("2017")), 0),
    ("one month, page 3", TimelineFilter(since=_day("2024-03"), until=_day("2024-03")), 2),
    ("since 2010", TimelineFilter(since=_day("2010")), 0),
    ("until 1995", TimelineFilter(until=_day("1995")), 0),
    ("icbm", TimelineFilter(category="icbm"), 0),
    ("slbm since 2015, page 4", TimelineFilter(since=_day("2015"), category="slbm"), 3),
    ("since 2000, page 1000", TimelineFilter(since=_day("2000")), 999),
)
#: What people type into an event option, keystroke prefixes and the empty box included.
AUTOCOMPLETE_MIX = (
    "",
    "k",
    "kim",
    "kim chaek",
    "jan 29",
    "submarine",
    "2019",
    "icbm hwasong",
    "hwas",
    "hwasong-18",
    "sohae",
    "sea of japan",
    "pukguksong sinpo",
    "march 2023",
)

# -- what the generated events look like ----------------------------------------------------
CATEGORY_WEIGHTS = {
    "srbm": 30, "cruise_missile": 15, "artillery": 10, "icbm": 8, "mrbm": 6, "irbm": 6,
    "unknown": 6, "slbm": 5, "hypersonic": 4, "space_launch": 4, "other": 3, "nuclear_test": 1,
}  # fmt: skip
NAMES = {
    "srbm": ("KN-23", "KN-24", "KN-25", "Scud-B", "Scud-C", "Scud-ER", "Hwasong-11"),
    "mrbm": ("Nodong", "Pukguksong-2", "Scud-ER"),
    "irbm": ("Hwasong-12", "Musudan", "Hwasong-16B"),
    "icbm": ("Hwasong-14", "Hwasong-15", "Hwasong-17", "Hwasong-18", "Hwasong-19"),
    "slbm": ("Pukguksong-1", "Pukguksong-3", "Pukguksong-6", "Hwasong-11S"),
    "hypersonic": ("Hwasong-8", "Hwasong-16B", "Hwasong-11Ma"),
    "cruise_missile": ("Hwasal-1", "Hwasal-2", "Pulhwasal-3-31", "Padasuri-6"),
    "space_launch": ("Unha-2", "Unha-3", "Chollima-1", "Kwangmyongsong"),
    "artillery": ("KN-09", "KN-25", "600mm MRL", "240mm MRL"),
    "nuclear_test": (),
    "unknown": (),
    "other": ("Haeil", "Haeil-2"),
}
PLATFORMS = {
    "slbm": (("submarine", 8), ("ship", 1), (None, 1)),
    "cruise_missile": (("ship", 3), ("submarine", 2), ("tel", 3), ("aircraft", 1), (None, 2)),
    "icbm": (("tel", 7), ("silo", 1), (None, 2)),
    "space_launch": (("ground", 9), (None, 1)),
}
DEFAULT_PLATFORMS = (("tel", 5), ("ground", 3), ("submarine", 0.2), (None, 3))
SITES = (
    ("Kim Chaek", 40.68, 129.2), ("Sohae", 39.66, 124.7), ("Sinpo", 40.03, 128.18),
    ("Tongchang-ri", 39.66, 124.7), ("Pyongyang Sunan", 39.22, 125.67),
    ("Kusong", 39.98, 125.24), ("Hamhung", 39.92, 127.54), ("Wonsan", 39.15, 127.44),
    ("Musudan-ri", 40.85, 129.67), ("Jangyon", 38.23, 125.1), ("Kaechon", 39.7, 125.9),
    ("Sukchon", 39.41, 125.63), ("Nampo", 38.74, 125.4), ("Chongju", 39.7, 125.21),
    ("Punggye-ri", 41.28, 129.09), ("Mundok", 39.57, 125.37), ("Tongil-ri", 38.6, 125.8),
)  # fmt: skip
LANDINGS = (
    ("Sea of Japan (East Sea)", 6), ("Yellow Sea", 2), ("Pacific Ocean", 1), (None, 3),
)  # fmt: skip
CLAIMED = (("long-range", 1), ("strategic", 1), ("tactical", 1), ("hypersonic", 0.5), (None, 8))
OVERSEERS = (("Kim Jong Un", 5), ("Kim Yo Jong", 0.3), ("Pak Jong Chon", 0.5), (None, 10))
ACTORS = (("DPRK", 97), ("China", 1), ("Russia", 1), ("Iran", 1))
REGIONS = (("korean-peninsula", 95), ("east-asia", 3), ("middle-east", 2))
CONFIDENCES = (("reported", 50), ("confirmed", 40), ("disputed", 7), ("retracted", 3))
PRECISIONS = (("day", 65), ("minute", 15), ("month", 12), ("year", 8))
OUTCOMES = (("success", 6), ("failure", 1), ("unknown", 3))
COUNTS = (("one", 5), ("two", 3), ("three", 1), ("several", 1))
REMARKS = (
    "South Korea's Joint Chiefs of Staff detected the launch and raised its alert level.",
    "Japan's defence ministry said it fell outside the exclusive economic zone.",
    "KCNA called it a routine test of a newly developed weapon system.",
    "Analysts said the test may have validated a new guidance system.",
    "The United States condemned the launch as a violation of Security Council resolutions.",
    "State media showed images of the launch from a mobile launcher.",
    "The flight data suggested a depressed trajectory.",
    "It was the third launch in as many weeks.",
    "Satellite imagery had shown preparations at the site days earlier.",
    "Seoul convened an emergency meeting of its National Security Council.",
)
PUBLISHERS = (
    ("Yonhap", "en.yna.co.kr"), ("KCNA", "kcnawatch.org"), ("NHK", "www3.nhk.or.jp"),
    ("Reuters", "www.reuters.com"), ("38 North", "www.38north.org"),
    ("NK News", "www.nknews.org"), ("CNS", "www.nti.org"),
)  # fmt: skip


def _pick(rng: random.Random, options: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _label(category: str) -> str:
    return {"cruise_missile": "cruise missile", "space_launch": "space launch"}.get(
        category, category.upper() if len(category) <= 5 else category.replace("_", " ")
    )


def event_days(rng: random.Random, n: int, today: date) -> list[int]:
    """n day ordinals from 1984 to today, more in later years, in roughly the order they
    would be recorded: histories are imported oldest first, with some late additions."""
    years = list(range(1984, today.year + 1))
    picked = rng.choices(years, [1 + y - 1984 for y in years], k=n)
    days = []
    for year in picked:
        first = date(year, 1, 1).toordinal()
        last = min(date(year, 12, 31), today).toordinal()
        days.append(rng.randint(first, last))
    return sorted(days, key=lambda d: d + rng.gauss(0, 90))


def generate_events(
    rng: random.Random, first_id: int, days: Sequence[int], made: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Event rows (id first, then GENERATED) and their source rows.

    Events before the history's import (IMPORTED) were recorded then; later ones a few
    hours after they happened."""
    guilds = [g for g, _ in GUILD_SHARES]
    shares = [s for _, s in GUILD_SHARES]
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    events: list[tuple[Any, ...]] = []
    sources: list[tuple[Any, ...]] = []
    for offset, ordinal in enumerate(days):
        event_id = first_id + offset
        day = date.fromordinal(ordinal)
        precision = _pick(rng, PRECISIONS)
        occurred_at = None
        if precision == "year":
            occurred_on = f"{day.year:04d}"
        elif precision == "month":
            occurred_on = f"{day.year:04d}-{day.month:02d}"
        else:
            occurred_on = day.isoformat()
        if precision == "minute":
            at = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60))
            occurred_at = at.replace(tzinfo=UTC).isoformat()
        category = rng.choices(categories, weights)[0]
        names = NAMES[category]
        name = rng.choice(names) if names and rng.random() < 0.7 else None
        platform = _pick(rng, PLATFORMS.get(category, DEFAULT_PLATFORMS))
        site = rng.choice(SITES) if rng.random() < 0.75 else None
        landing = _pick(rng, LANDINGS)
        distance = round(rng.uniform(50, 1500 if category != "icbm" else 1100), 0)
        apogee = round(rng.uniform(20, 6500 if category == "icbm" else 800), 0)
        claimed = _pick(rng, CLAIMED)
        overseen = _pick(rng, OVERSEERS)
        count_word = _pick(rng, COUNTS)
        confidence = _pick(rng, CONFIDENCES)
        what = f"{_label(category)}{'' if count_word == 'one' else 's'}"
        summary = f"{count_word.capitalize()} {what}" + (f" ({name})" if name else "")
        summary += f" fired from {site[0]}" if site else " fired from an undisclosed site"
        if landing:
            summary += f" into the {landing}"
        summary += f", flying about {distance:.0f} km. " + " ".join(rng.sample(REMARKS, 2))
        recorded = datetime(day.year, day.month, day.day, tzinfo=UTC)
        recorded = max(recorded + timedelta(hours=rng.uniform(1, 30)), IMPORTED)
        stamp = min(recorded, made).isoformat(timespec="microseconds")
        events.append(
            (
                event_id,
                rng.choices(guilds, shares)[0],
                f"gen:{event_id}" if rng.random() < 0.5 else None,
                occurred_on,
                precision,
                occurred_at,
                _pick(rng, ACTORS),
                category,
                name,
                None if count_word == "several" else ("one", "two", "three").index(count_word) + 1,
                platform,
                site[0] if site else None,
                site[1] if site else None,
                site[2] if site else None,
                landing,
                distance,
                apogee,
                _pick(rng, OUTCOMES),
                claimed,
                overseen,
                _pick(rng, REGIONS),
                summary,
                confidence,
                "Misidentified artillery drill." if confidence == "retracted" else None,
                MODERATOR_USER_ID,
                stamp,
                stamp,
                1,
            )
        )
        for k in range(rng.choice((1, 1, 2, 2, 3))):
            publisher, domain = rng.choice(PUBLISHERS)
            sources.append(
                (
                    event_id,
                    f"https://{domain}/news/{event_id}-{k}",
                    publisher,
                    f"{publisher}: {what} launched",
                    day.isoformat() if precision in ("day", "minute") else None,
                )
            )
    return events, sources


def generate_subscriptions(rng: random.Random, stamp: str) -> list[tuple[Any, ...]]:
    guilds = [1400000000000000000 + i for i in range(SUBSCRIBER_GUILDS)]
    guilds[:2] = [SANDBOX_GUILD_ID, PUBLISHER_GUILD_ID]
    rows = []
    for i in range(SUBSCRIPTIONS):
        categories = rng.sample(list(CATEGORY_WEIGHTS), rng.choice((0, 0, 1, 2)))
        rows.append(
            (
                rng.choice(guilds),
                1500000000000000000 + i,
                json.dumps(["korean-peninsula"] if rng.random() < 0.3 else []),
                json.dumps(categories),
                json.dumps(["DPRK"] if rng.random() < 0.2 else []),
                _pick(rng, (("disputed", 5), ("reported", 3), ("confirmed", 2))),
                _pick(rng, (("instant", 7), ("digest", 2), ("both", 1))),
                rng.choice(("daily", "weekly")),
                f"{rng.randrange(24):02d}:{rng.choice((0, 30)):02d}",
                rng.choice(("UTC", "Asia/Seoul", "Asia/Tokyo", "Europe/London")),
                _pick(rng, (("active", 95), ("paused", 4), ("broken", 1))),
                stamp,
            )
        )
    return rows


#: The event columns the generator fills, in its rows' order; any other column is NULL.
GENERATED = (
    "guild_id", "external_id", "occurred_on", "date_precision", "occurred_at", "actor",
    "category", "name", "count", "platform", "launch_site", "latitude", "longitude",
    "landing_area", "distance_km", "apogee_km", "outcome", "claimed", "overseen_by", "region",
    "summary", "confidence", "retraction_reason", "created_by", "created_at", "updated_at",
    "revision",
)  # fmt: skip
SUBSCRIPTION_INSERT = (
    "guild_id", "channel_id", "regions", "categories", "actors", "min_confidence", "mode",
    "digest_every", "digest_time", "timezone", "state", "created_at",
)  # fmt: skip
SOURCE_INSERT = ("event_id", "url", "publisher", "title", "published_on")


# -- the kept store -------------------------------------------------------------------------
@dataclass
class Bench:
    backend: str
    events: int
    url: str
    store: Store
    today: date
    #: For the floor: a bare connection of the same driver (aiosqlite / asyncpg).
    raw: Any = None
    notes: list[str] = field(default_factory=list)


def pg_schema(events: int) -> str:
    return f"lw_bench_{events}"


def pg_store_url(base: str, schema: str) -> str:
    """The URL the bot uses for this schema (asyncpg passes `search_path` to the server)."""
    return f"{base}{'&' if '?' in base else '?'}search_path={schema}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def open_store_for(args: argparse.Namespace, *, empty: bool) -> tuple[str, Store]:
    """The kept store for this backend and N (emptied first when `empty`), migrated."""
    if args.backend == "sqlite":
        path = Path(args.cache) / f"scale-{args.events}.db"
        if empty:
            remove_sqlite(path)
        url = f"sqlite:///{path}"
        return url, await open_store(url)
    import asyncpg

    from db.postgres import PostgresStore

    schema = pg_schema(args.events)
    conn = await asyncpg.connect(args.pg_url)
    try:
        if empty:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        await conn.close()
    store = await PostgresStore.open(args.pg_url, schema=schema)
    await store.migrate()
    return pg_store_url(args.pg_url, schema), store


async def open_bench(args: argparse.Namespace) -> Bench:
    """The kept store if it holds this generator's N events, else a new one."""
    if not args.fresh:
        url, store = await open_store_for(args, empty=False)
        meta = await read_meta(store)
        if meta.get("events") == str(args.events) and meta.get("generator") == str(GENERATOR):
            bench = Bench(args.backend, args.events, url, store, date.fromisoformat(meta["today"]))
            await analyze(bench)
            return bench
        await store.close()
    url, store = await open_store_for(args, empty=True)
    bench = Bench(args.backend, args.events, url, store, datetime.now(UTC).date())
    started = time.perf_counter()
    await fill(bench, args.events)
    print(f"# generated {args.events} events in {time.perf_counter() - started:.1f} s")
    return bench


async def read_meta(store: Store) -> dict[str, str]:
    try:
        async with store.read() as q:
            rows = await q.conn.fetchall("SELECT key, value FROM bench_meta")
    except Exception:  # no such table: a new (or half-made) store
        return {}
    return {r["key"]: r["value"] for r in rows}


async def fill(bench: Bench, n: int, chunk: int = 50_000) -> None:
    rng = random.Random(20240129)
    made = datetime.now(UTC)
    days = event_days(rng, n, bench.today)
    columns = ("id", *GENERATED)
    for start in range(0, n, chunk):
        events, sources = generate_events(rng, start + 1, days[start : start + chunk], made)
        await write_rows(bench, "event", columns, events)
        await write_rows(bench, "source", SOURCE_INSERT, sources)
    subscriptions = generate_subscriptions(rng, IMPORTED.isoformat(timespec="microseconds"))
    await write_rows(bench, "subscription", SUBSCRIPTION_INSERT, subscriptions)
    async with bench.store.transaction() as q:
        if bench.backend == "postgres":
            for table in ("event", "source", "subscription"):
                await q.conn.fetchone(
                    "SELECT setval(pg_get_serial_sequence(?, 'id'), "
                    f"(SELECT MAX(id) FROM {table}))",
                    [table],
                )
        await q.conn.execute("CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT)")
        await q.conn.executemany(
            "INSERT INTO bench_meta (key, value) VALUES (?, ?)",
            [["events", str(n)], ["generator", str(GENERATOR)], ["today", bench.today.isoformat()]],
        )
    await analyze(bench, force=True)


async def write_rows(
    bench: Bench, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    async with bench.store.transaction() as q:
        if bench.backend == "postgres":
            conn = q.conn.conn  # type: ignore[attr-defined]  # asyncpg: COPY
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        else:
            marks = ", ".join("?" * len(columns))
            await q.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )


async def analyze(bench: Bench, *, force: bool = False) -> None:
    """Planner statistics: after generating, and after a migration added indexes."""
    if bench.backend == "postgres":
        import asyncpg

        conn = await asyncpg.connect(bench.url)
        try:
            never = await conn.fetchval(
                "SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND relname IN ('event', 'event_search') AND last_vacuum IS NULL "
                "AND last_autovacuum IS NULL"
            )
            if force or never:
                await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        return
    async with bench.store.transaction() as q:
        if not force:
            stats = await q.conn.fetchone(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'"
            )
            stale = {"n": 1}
            if stats and stats["n"]:
                stale = await q.conn.fetchone(
                    "SELECT COUNT(*) AS n FROM sqlite_master m WHERE m.type = 'index' "
                    "AND m.tbl_name = 'event' AND m.name NOT IN (SELECT idx FROM sqlite_stat1 "
                    "WHERE idx IS NOT NULL)"
                )
            force = bool(stale and stale["n"])
        if force:
            await q.conn.execute("ANALYZE")


async def connect_raw(bench: Bench) -> Any:
    if bench.backend == "postgres":
        import asyncpg

        return await asyncpg.connect(bench.url)
    import sqlite3

    import aiosqlite

    from db.store import sqlite_path

    conn = await aiosqlite.connect(sqlite_path(bench.url))
    conn.row_factory = sqlite3.Row
    return conn


async def raw_fetch(bench: Bench, sql: str, params: Sequence[Any]) -> list[Any]:
    if bench.backend == "postgres":
        from db.postgres import translate

        return list(await bench.raw.fetch(translate(sql), *params))
    cursor = await bench.raw.execute(sql, tuple(params))
    return list(await cursor.fetchall())


# -- figures --------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


def over_budget(samples: list[float]) -> bool:
    """Enough of a very slow case: after 3 samples once it has taken BUDGET_S (a run
    before the fixes would take hours)."""
    return len(samples) >= 3 and sum(samples) > BUDGET_S * 1000


def floor_query(f: EventFilter, page: int, per_page: int) -> tuple[str, list[Any]]:
    """The page's rows in one bare statement: each visible guild's rows in timeline order
    from its own index range, merged by a compound ORDER BY that reads only as far as the
    page, and only the page's rows read whole."""
    arms, params = [], []
    for guild in f.guild_ids:
        where, args = ["guild_id = ?"], [guild]
        for column, op, value in (
            ("occurred_on", ">=", f.since),
            ("occurred_on", "<=", f.until),
            ("category", "=", f.category),
        ):
            if value is not None:
                where.append(f"{column} {op} ?")
                args.append(value)
        where.append("confidence <> 'retracted'")
        arms.append(
            f"SELECT * FROM (SELECT id, occurred_on, occurred_at FROM event WHERE "
            f"{' AND '.join(where)} ORDER BY {ORDER}) AS arm{len(arms)}"
        )
        params += args
    sql = (
        f"SELECT * FROM event WHERE id IN (SELECT id FROM ({' UNION ALL '.join(arms)} "
        f"ORDER BY {ORDER} LIMIT ? OFFSET ?) AS page) ORDER BY {ORDER}"
    )
    return sql, [*params, per_page, page * per_page]


async def bench_timeline(bench: Bench) -> tuple[list[float], list[float]]:
    now = datetime.combine(bench.today, datetime.min.time(), UTC) + timedelta(hours=12)
    plans = []
    for label, filters, page in TIMELINE_MIX:
        result, applied = await services.timeline(bench.store, SCOPE, filters, page, now=now)
        sql, params = floor_query(applied.to_query(SCOPE), result.page, result.per_page)
        floor_ids = [r["id"] for r in await raw_fetch(bench, sql, params)]
        if floor_ids != [e.id for e in result.items]:
            bench.notes.append(f"timeline {label!r}: the floor's rows differ from the page's")
        print(
            f"# timeline {label}: page {result.page + 1} of {result.pages}, "
            f"total {result.total}, {len(result.items)} rows"
        )
        plans.append((label, filters, page, sql, params))
    service: list[float] = []
    floor: list[float] = []
    per_label: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for label, filters, page, sql, params in plans:
            if over_budget(per_label.get(label, [])):
                continue
            ms, _r = await timed(
                partial(services.timeline, bench.store, SCOPE, filters, page, now=now)
            )
            service.append(ms)
            per_label.setdefault(label, []).append(ms)
            ms, _r = await timed(partial(raw_fetch, bench, sql, params))
            floor.append(ms)
    for label, values in per_label.items():
        print(f"# timeline {label}: p50 {percentile(values, 0.5):.2f} ms, max {max(values):.2f} ms")
    return service, floor


async def bench_autocomplete(bench: Bench) -> list[float]:
    for text in AUTOCOMPLETE_MIX:
        found = await services.search_events(bench.store, SCOPE, text, 25)
        if any(not SCOPE.can_see(e.guild_id) for e in found):
            bench.notes.append(f"autocomplete {text!r}: an event of an unseen guild")
        print(f"# autocomplete {text!r}: {len(found)} found")
    samples: list[float] = []
    per_text: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for text in AUTOCOMPLETE_MIX:
            if over_budget(per_text.get(text, [])):
                continue
            ms, _r = await timed(partial(services.search_events, bench.store, SCOPE, text, 25))
            samples.append(ms)
            per_text.setdefault(text, []).append(ms)
    for text, values in per_text.items():
        print(
            f"# autocomplete {text!r}: p50 {percentile(values, 0.5):.2f} ms, max {max(values):.2f} ms"
        )
    return samples


def write_cns_file(path: Path, rows: int, today: date) -> None:
    """A CNS-format CSV as the database publishes it: `9-Apr-84` dates, 12-hour times."""
    rng = random.Random(1984)
    types = {
        "srbm": "SRBM", "mrbm": "MRBM", "irbm": "IRBM", "icbm": "ICBM", "slbm": "SLBM",
        "cruise_missile": "Cruise Missile", "space_launch": "SLV", "hypersonic": "HGV",
        "artillery": "Artillery", "unknown": "Unknown", "other": "Other",
    }  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "F1", "Date", "Date Entered/Updated", "Launch Time (UTC)", "Missile Name",
                "Missile Type", "Launch Agency/Authority", "Facility Name", "Facility Location",
                "Other Name", "Facility Latitude", "Facility Longitude", "Landing Location",
                "Apogee", "Distance Travelled", "Confirmation Status", "Test Outcome",
                "Additional Information", "Source(s)",
            ]
        )  # fmt: skip
        for f1 in range(1, rows + 1):
            day = date.fromordinal(rng.randint(date(1984, 1, 1).toordinal(), today.toordinal()))
            category = rng.choice(list(types))
            names = NAMES.get(category, ())
            site = rng.choice(SITES)
            when = f"{day.day}-{calendar.month_abbr[day.month]}-{day.year % 100:02d}"
            if rng.random() < 0.1:
                when = f"{calendar.month_abbr[day.month]}-{day.year % 100:02d}"
            hour = rng.randrange(1, 13)
            clock = f"{hour}:{rng.randrange(60):02d}:00 {rng.choice(('AM', 'PM'))}"
            publisher, domain = rng.choice(PUBLISHERS)
            writer.writerow(
                [
                    f1, when, "", clock if rng.random() < 0.3 else "Unknown",
                    rng.choice(names) if names else "Unknown", types[category], "",
                    site[0], "", "", site[1], site[2], _pick(rng, LANDINGS) or "Unknown",
                    f"{rng.randrange(20, 900):,} km", f"{rng.randrange(50, 1500):,} km",
                    rng.choice(("Confirmed", "Unconfirmed")),
                    rng.choice(("Success", "Failure", "Unknown")),
                    " ".join(rng.sample(REMARKS, 2)),
                    f"{publisher} report; https://{domain}/cns/{f1}",
                ]
            )  # fmt: skip


async def remove_guild(store: Store, guild_id: int) -> None:
    async with store.transaction() as q:
        await q.conn.execute("DELETE FROM event WHERE guild_id = ?", [guild_id])


async def bench_import(bench: Bench, rows: int) -> float:
    scope = Scope(IMPORT_GUILD_ID, MODERATOR_USER_ID)
    await remove_guild(bench.store, IMPORT_GUILD_ID)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cns.csv"
        write_cns_file(path, rows, bench.today)
        started = time.perf_counter()
        report = await import_file(bench.store, scope, path, "cns")
        elapsed = time.perf_counter() - started
    print(f"# import: {report.summary()} in {elapsed:.1f} s")
    if report.problems:
        bench.notes.append(f"import: {len(report.problems)} problems, first {report.problems[0]}")
    started = time.perf_counter()
    await remove_guild(bench.store, IMPORT_GUILD_ID)
    await tidy(bench)
    print(f"# import: removed again and tidied in {time.perf_counter() - started:.1f} s")
    return report.imported / elapsed


async def tidy(bench: Bench) -> None:
    """Put the kept store back as it was before the import: fifty thousand rows added and
    deleted leave FTS5 segments and delete markers (SQLite) or dead rows and a GIN pending
    list (PostgreSQL) that would slow the next run's searches."""
    if bench.backend == "sqlite":
        async with bench.store.transaction() as q:
            await q.conn.execute("INSERT INTO event_search (event_search) VALUES ('optimize')")
        return
    import asyncpg

    conn = await asyncpg.connect(bench.url)
    try:
        await conn.execute("VACUUM ANALYZE event, event_search, source, event_revision")
    finally:
        await conn.close()


async def digests_done(store: Store) -> None:
    """Every digest sent up to now and nothing queued, as in a bot that was running a
    moment ago: else its start-up catches up every digest due in the grace period, and
    renders them (each one a scan of the publisher's events: see bench/README.md)."""
    async with store.transaction() as q:
        await q.conn.execute("UPDATE subscription SET last_digest_at = ?", [now_iso()])
        await q.conn.execute("DELETE FROM delivery")


def bench_memory(bench: Bench) -> float:
    """Run the bot in a child process on this store; its peak RSS in MB."""
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, __file__, "--memory-child", bench.url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in child.stdout.splitlines() if line.startswith("rss_mb=")]
    if child.returncode != 0 or not lines:
        sys.stderr.write(child.stdout + child.stderr)
        raise RuntimeError(f"the memory child failed ({child.returncode})")
    print(f"# memory: child ran {time.perf_counter() - started:.1f} s")
    return float(lines[-1].split("=", 1)[1])


async def memory_child(url: str) -> None:
    """Inside the child: the real bot on `url`, a few commands and autocompletes through it."""
    from bot.config import load_config
    from bot.sandbox.harness import running_bot, sandbox_config

    config = sandbox_config(":memory:", load_config(None, env={}))
    config = config.replace("database", "url", url)
    config = config.replace("network", "publisher_guilds", [PUBLISHER_GUILD_ID])
    async with Emulator(world=sandbox_world()) as emulator:
        async with running_bot(config, emulator, timeout=120):
            for _ in range(3):
                for options in ({}, {"since": "2010"}, {"category": "icbm"}, {"until": "1995"}):
                    result = await emulator.invoke("timeline", options, timeout=30)
                    assert result.embeds, result
                for text in AUTOCOMPLETE_MIX:
                    choices = await emulator.autocomplete(
                        "launch", {"event": text}, focused="event", timeout=30
                    )
                assert choices
                await emulator.invoke("launch", {"event": choices[0]["value"]}, timeout=30)
    print(f"rss_mb={peak_rss_mb():.0f}", flush=True)


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, the high-water mark of this program's own memory:
    ru_maxrss would do on its own, but Linux carries it over from the parent across fork
    and exec (the child would report the benchmark's own 200-odd MB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(args: argparse.Namespace) -> list[str]:
    started = time.perf_counter()
    bench = await open_bench(args)
    print(f"# store ready in {time.perf_counter() - started:.1f} s ({bench.url})")
    try:
        bench.raw = await connect_raw(bench)
        service, floor = await bench_timeline(bench)
        searches = await bench_autocomplete(bench)
        rate = await bench_import(bench, args.import_rows)
        await digests_done(bench.store)
    finally:
        if bench.raw is not None:
            await bench.raw.close()
        await bench.store.close()
    rss = bench_memory(bench)
    for note in bench.notes:
        print(f"# WARNING {note}")
    b, n = args.backend, args.events
    ratio = percentile(service, 0.99) / max(percentile(floor, 0.99), 1e-9)
    return [
        f"timeline backend={b} events={n} p50_ms={percentile(service, 0.5):.2f} "
        f"p99_ms={percentile(service, 0.99):.2f} floor_p99_ms={percentile(floor, 0.99):.2f} "
        f"ratio={ratio:.2f}",
        f"autocomplete backend={b} events={n} p50_ms={percentile(searches, 0.5):.2f} "
        f"p99_ms={percentile(searches, 0.99):.2f}",
        f"import backend={b} rows_per_s={rate:.0f}",
        f"memory backend={b} rss_mb={rss:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--fresh", action="store_true", help="generate the store again")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="where SQLite stores are kept")
    parser.add_argument("--pg-url", default=os.environ.get("LAUNCHWATCH_BENCH_PG", DEFAULT_PG_URL))
    parser.add_argument("--import-rows", type=int, default=IMPORT_ROWS)
    parser.add_argument("--memory-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        asyncio.run(memory_child(args.memory_child))
        return
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    for line in asyncio.run(run(args)):
        print(line)


if __name__ == "__main__":
    main()
