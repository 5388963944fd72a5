"""Pictures: charts and maps of 10,000 stored events, with the cache off.

    .venv/bin/python bench/pictures.py [--events 10000] [--renders 500] [--workers 1]

Generates N events (1984-2024, more in later years; day, month and year precision; the
sites, categories and counts of bench/scale.py's kind; 10 % without a position) into a
fresh SQLite file through `services.add_events`, then renders `--renders` pictures one
after another through a `Renderer` with its cache off, half charts and half maps:

- chart: `services.list_events` for a filter of the mix below, `chart_spec`,
  `render_chart` (drawing and PNG encoding in the worker), end to end;
- map: `services.get_event` of an event with a position, `event_map_spec`,
  `render_map`; every fifth map is a period map of one year (`list_events`,
  `period_map_spec`).

RSS is this process's plus the worker's (VmRSS), read after the 50th and the 500th
render: a leak in either shows as growth. Last lines (targets: chart p99 <= 300 ms, map
p99 <= 500 ms, rss_mb_500 - rss_mb_50 <= 20):

    pictures_parts query_ms_p99=Q draw_ms_p99=D encode_ms_p99=E
    pictures chart_ms_p99=C map_ms_p99=M events=N rss_mb_50=R rss_mb_500=S

`--compare-pools` instead renders the same three pictures through one and two threads
and one and two worker processes while the event loop runs a 5 ms heartbeat, and prints
each pool's time per render and how late the heartbeat's ticks were.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import services
from bot.dates import PartialDate
from bot.models import Event
from bot.pictures import Outcome, Picture, Renderer, chart_spec, event_map_spec, period_map_spec
from bot.pictures.specs import ChartSpec, CountMode, Period, Spec, Timings
from bot.services import Scope, TimelineFilter
from db import Store, open_store

GUILD = 1400000000000000001
MODERATOR = 1400000000000000002
SCOPE = Scope(GUILD, MODERATOR)
BATCH = 1000

CATEGORY_WEIGHTS = {
    "srbm": 30, "cruise_missile": 15, "artillery": 10, "icbm": 8, "mrbm": 6, "irbm": 6,
    "unknown": 6, "slbm": 5, "hypersonic": 4, "space_launch": 4, "other": 3, "nuclear_test": 1,
}  # fmt: skip
RANGES_KM = {
    "srbm": (200, 800), "cruise_missile": (100, 1800), "artillery": (40, 300),
    "icbm": (900, 1200), "mrbm": (600, 1300), "irbm": (800, 4600), "slbm": (300, 600),
    "hypersonic": (600, 1500), "space_launch": (0, 0), "other": (100, 600),
    "nuclear_test": (0, 0), "unknown": (100, 900),
}  # fmt: skip
SITES = (
    ("Kim Chaek", 40.68, 129.2), ("Sohae", 39.66, 124.7), ("Sinpo", 40.03, 128.18),
    ("Pyongyang Sunan", 39.22, 125.67), ("Kusong", 39.98, 125.24), ("Hamhung", 39.92, 127.54),
    ("Wonsan", 39.15, 127.44), ("Musudan-ri", 40.85, 129.67), ("Jangyon", 38.23, 125.1),
    ("Kaechon", 39.7, 125.9), ("Sukchon", 39.41, 125.63), ("Nampo", 38.74, 125.4),
    ("Punggye-ri", 41.28, 129.09), ("Mundok", 39.57, 125.37), ("Tongil-ri", 38.6, 125.8),
)  # fmt: skip
#: (label, filter, period, count): the charts the mix asks for, over and over.
CHARTS: tuple[tuple[str, TimelineFilter, Period, CountMode], ...] = (
    ("forty years by month", TimelineFilter(), "month", "events"),
    ("forty years by month, missiles", TimelineFilter(), "month", "missiles"),
    ("since 2010 by quarter", TimelineFilter(since=PartialDate.parse("2010")), "quarter", "events"),
    ("srbm by year", TimelineFilter(category="srbm"), "year", "missiles"),
    ("2017 by month", TimelineFilter(since=PartialDate.parse("2017"), until=PartialDate.parse("2017")), "month", "events"),
)  # fmt: skip


def generate(n: int, seed: int = 13) -> list[dict[str, Any]]:
    """N raw events as a moderator would add them, more in later years."""
    rng = random.Random(seed)
    categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    out = []
    for i in range(n):
        year = 1984 + int(41 * math.sqrt(rng.random()))  # denser towards 2024
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        precision = rng.choices(("day", "month", "year"), (85, 12, 3))[0]
        date = {"day": f"{year}-{month:02d}-{day:02d}", "month": f"{year}-{month:02d}"}.get(
            precision, str(year)
        )
        category = rng.choices(categories, weights)[0]
        raw: dict[str, Any] = {
            "date": date,
            "category": category,
            "summary": f"Generated launch {i}.",
            "count": rng.choice((1, 1, 1, 2, 2, 3, 4, None)),
        }
        if rng.random() > 0.1:
            name, lat, lon = rng.choice(SITES)
            raw.update(launch_site=name, latitude=lat, longitude=lon)
        low, high = RANGES_KM[category]
        if high:
            raw["distance_km"] = rng.randint(low, high)
        out.append(raw)
    return out


async def fill(store: Store, n: int) -> None:
    raws = generate(n)
    for start in range(0, n, BATCH):
        await services.add_events(store, SCOPE, raws[start : start + BATCH], alert=False)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(status.split("VmRSS:")[1].split()[0])
    return total / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


class Run:
    """One benchmark run's store, renderer and figures."""

    def __init__(self, store: Store, renderer: Renderer) -> None:
        self.store = store
        self.renderer = renderer
        self.query_ms: list[float] = []
        self.timings: list[Timings] = []
        self.render_ms: dict[str, list[float]] = {"chart": [], "map": []}

    async def events(self, filters: TimelineFilter) -> list[Event]:
        started = time.perf_counter()
        events = await services.list_events(self.store, SCOPE, filters, include_retracted=False)
        self.query_ms.append((time.perf_counter() - started) * 1000)
        return events

    def keep(self, outcome: Outcome) -> Picture:
        if not isinstance(outcome, Picture):
            raise SystemExit(f"a render failed: {outcome!r}")
        self.timings.append(outcome.timings)
        return outcome

    async def render(self, spec: Spec | None) -> None:
        """The renderer's part: to the worker, drawing, encoding, back, described."""
        started = time.perf_counter()
        if isinstance(spec, ChartSpec) or spec is None:
            outcome = await self.renderer.render_chart(spec, empty="")
        else:
            outcome = await self.renderer.render_map(spec, empty="")
        kind = "chart" if isinstance(spec, ChartSpec) else "map"
        self.render_ms[kind].append((time.perf_counter() - started) * 1000)
        self.keep(outcome)

    async def chart(self, filters: TimelineFilter, period: Period, count: CountMode) -> None:
        spec = chart_spec(await self.events(filters), title="Launches", period=period, count=count)
        await self.render(spec)

    async def event_map(self, event_id: int) -> None:
        started = time.perf_counter()
        event = await services.get_event(self.store, SCOPE, event_id)
        self.query_ms.append((time.perf_counter() - started) * 1000)
        spec = event_map_spec(
            event,
            title="A launch",
            distance_km=event.distance_km,
            claimed_distance_km=(event.distance_km or 0) * 1.3 or None,
            event_id=event.id,
            revision=event.revision,
        )
        await self.render(spec)

    async def period_map(self, year: int) -> None:
        when = PartialDate.parse(str(year))
        events = await self.events(TimelineFilter(since=when, until=when))
        await self.render(period_map_spec(events, title="A year"))


async def measure(store: Store, args: argparse.Namespace) -> int:
    renderer = Renderer(workers=args.workers, cache_size=0)
    await renderer.start()
    pids = [os.getpid(), *getattr(renderer._pool(), "_processes", {})]
    everything = await services.list_events(store, SCOPE, TimelineFilter())
    located = [e.id for e in everything if e.latitude is not None]
    rng = random.Random(5)
    run = Run(store, renderer)
    chart_ms: list[float] = []
    map_ms: list[float] = []
    rss: dict[int, float] = {}
    rss_main = 0.0
    began = time.perf_counter()
    for n in range(1, args.renders + 1):
        started = time.perf_counter()
        if n % 2:
            _, filters, period, count = CHARTS[(n // 2) % len(CHARTS)]
            await run.chart(filters, period, count)
            chart_ms.append((time.perf_counter() - started) * 1000)
        else:
            if n % 10 == 0:
                await run.period_map(1990 + rng.randint(0, 34))
            else:
                await run.event_map(rng.choice(located))
            map_ms.append((time.perf_counter() - started) * 1000)
        if n in (50, args.renders):
            rss[n] = rss_mb(pids)
            rss_main = rss_mb(pids[:1])
    elapsed_s = time.perf_counter() - began
    await renderer.close()
    parts = {
        "query": run.query_ms,
        "chart_render": run.render_ms["chart"],
        "map_render": run.render_ms["map"],
        "build": [t.build_ms for t in run.timings],
        "raster": [t.raster_ms for t in run.timings],
        "encode": [t.encode_ms for t in run.timings],
    }
    print(
        f"pictures_p50 chart_ms={percentile(chart_ms, 0.5):.0f} "
        f"map_ms={percentile(map_ms, 0.5):.0f} renders={args.renders} "
        f"elapsed_s={elapsed_s:.1f} workers={args.workers}"
    )
    print(
        "pictures_parts "
        + " ".join(f"{k}_ms_p50={percentile(v, 0.5):.0f}" for k, v in parts.items())
        + " "
        + " ".join(f"{k}_ms_p99={percentile(v, 0.99):.0f}" for k, v in parts.items())
    )
    print(
        f"pictures chart_ms_p99={percentile(chart_ms, 0.99):.0f} "
        f"map_ms_p99={percentile(map_ms, 0.99):.0f} events={args.events} "
        f"rss_mb_50={rss.get(50, 0):.0f} rss_mb_{args.renders}={rss.get(args.renders, 0):.0f}"
    )
    print(f"pictures_rss_mb main={rss_main:.0f} workers={rss[args.renders] - rss_main:.0f}")
    return 0


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{Path(tmp) / 'pictures.db'}")
        try:
            started = time.perf_counter()
            await fill(store, args.events)
            print(f"stored {args.events} events in {time.perf_counter() - started:.1f} s")
            return await measure(store, args)
        finally:
            await store.close()


async def heartbeat(stop: asyncio.Event, lags: list[float]) -> None:
    """Sleep 5 ms at a time and record how late each wake-up is."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - started - 0.005) * 1000)


async def compare_pools(renders: int = 24) -> int:
    """Threads or processes: the same pictures through each kind of pool, one or two at a
    time, while the event loop runs a 5 ms heartbeat."""
    from concurrent.futures import Executor, ThreadPoolExecutor

    from bot.pictures.render import draw, new_pool

    located = [_Located(raw) for raw in generate(2000)]
    made = [
        chart_spec(located, title="Launches", period="month", count="events"),
        event_map_spec(
            next(e for e in located if e.latitude is not None),
            title="A launch",
            distance_km=4600,
            claimed_distance_km=5000,
        ),
        period_map_spec(located, title="Years"),
    ]
    specs: list[Spec] = [s for s in made if s is not None]
    pools: list[tuple[str, Executor, int]] = [
        ("thread1", ThreadPoolExecutor(1), 1),
        ("thread2", ThreadPoolExecutor(2), 2),
        ("proc1", new_pool(1), 1),
        ("proc2", new_pool(2), 2),
    ]
    loop = asyncio.get_running_loop()
    for name, pool, parallel in pools:
        await asyncio.gather(*(loop.run_in_executor(pool, draw, s) for s in specs * parallel))
        stop, lags = asyncio.Event(), list[float]()
        beating = asyncio.create_task(heartbeat(stop, lags))
        started = time.perf_counter()
        for n in range(0, renders, parallel):
            batch = [specs[(n + j) % len(specs)] for j in range(parallel)]
            await asyncio.gather(*(loop.run_in_executor(pool, draw, s) for s in batch))
        per_render = (time.perf_counter() - started) / renders * 1000
        stop.set()
        await beating
        pool.shutdown()
        print(
            f"{name}: ms_per_render={per_render:.0f} heartbeat_lag_ms "
            f"p50={percentile(lags, 0.5):.1f} p99={percentile(lags, 0.99):.1f} max={max(lags):.1f}"
        )
    return 0


class _Located:
    """A generated raw event as the chart and maps read it, without a store."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.date = PartialDate.parse(raw["date"])
        self.category: str = raw["category"]
        self.count: int | None = raw["count"]
        self.latitude: float | None = raw.get("latitude")
        self.longitude: float | None = raw.get("longitude")
        self.launch_site: str | None = raw.get("launch_site")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--compare-pools", action="store_true", help="time thread and process pools instead"
    )
    args = parser.parse_args()
    if args.compare_pools:
        return asyncio.run(compare_pools())
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
