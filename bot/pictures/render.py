"""Rendering off the event loop: a worker process pool, bounded caches, prerendering.

Why processes: matplotlib's Agg renderer holds the GIL while it draws. Measured here
(`bench/pictures.py --compare-pools`, bench/README.md), two renders in two threads took
as long as two in a row, and while one ran the event loop's 5 ms ticks came 30-130 ms
late; with a worker process they stayed within 8-9 ms at p99. A worker costs its own
memory (matplotlib, numpy, pyproj and the coastlines: about 175 MB) and takes under a
second to start, so there is one by default, started with `spawn` (a forked child of a
process whose other threads hold locks can deadlock), and `start()` warms it before the
first picture is wanted.

The bot's process imports no matplotlib: specs are counted there (chart.py, map.py),
cross to the worker as plain values, come back as PNG bytes, and the description is
written from the spec on the caller's side.

Nothing here raises into its caller: a failed render is logged and answered with None;
an empty spec (None) with `NothingToDraw` and the caller's sentence.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

from bot.pictures.labels import describe as describe_from_templates
from bot.pictures.specs import (
    ChartSpec,
    Drawn,
    EventMapSpec,
    NothingToDraw,
    Outcome,
    PeriodMapSpec,
    Picture,
    Spec,
)

log = logging.getLogger("launchwatch.pictures")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
DEFAULT_CACHE = 128


def draw(spec: Spec) -> Drawn:
    """In the worker: the spec's picture. The drawing modules (matplotlib) load here."""
    if isinstance(spec, ChartSpec):
        from bot.pictures.chart_drawing import draw_chart

        return draw_chart(spec)
    from bot.pictures.map_drawing import draw_event_map, draw_period_map

    if isinstance(spec, EventMapSpec):
        return draw_event_map(spec)
    return draw_period_map(spec)


def warm() -> int:
    """A new worker's first task: load matplotlib and project the coastlines (about a
    second), so no caller's picture waits for it. Returns the worker's process id."""
    from bot.pictures import chart_drawing, map_drawing  # noqa: F401
    from bot.pictures.geography import projected

    projected()
    return os.getpid()


def new_pool(workers: int = 1) -> ProcessPoolExecutor:
    """Worker processes, each warmed as it starts."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm
    )


class LRU(Generic[K, V]):
    """A bounded map that forgets the least recently used entry first; size 0 keeps none."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


class Renderer:
    """Charts and maps drawn in a worker, cached by the caller's key.

    Keys: an event's map by (event id, revision), taken from its spec when the caller
    gives none; a chart by whatever decides its picture (visible guilds, filters, the
    store's change counter), which only the caller knows. Charts and maps have caches
    of their own, so their keys never meet. A render already under way for a key is
    joined, not started again.
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        cache_size: int = DEFAULT_CACHE,
        executor: Executor | None = None,
        describe: Callable[[Spec], str] = describe_from_templates,
    ) -> None:
        self._workers = workers
        self._own = executor is None
        self._executor: Executor | None = executor
        self._describe = describe
        self.charts: LRU[Hashable, Picture] = LRU(cache_size)
        self.maps: LRU[Hashable, Picture] = LRU(cache_size)
        self._pending: dict[tuple[str, Hashable], asyncio.Task[Outcome]] = {}

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = new_pool(self._workers)
        return self._executor

    async def start(self) -> None:
        """Start and warm the workers now rather than at the first picture."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool(), os.getpid)
        except Exception:
            log.exception("could not start the picture workers")

    async def render_chart(
        self, spec: ChartSpec | None, *, empty: str, key: Hashable | None = None
    ) -> Outcome:
        """A chart, or `NothingToDraw(empty)` for no spec, or None if drawing failed."""
        return await self._render("chart", self.charts, key, spec, empty)

    async def render_map(
        self, spec: EventMapSpec | PeriodMapSpec | None, *, empty: str, key: Hashable | None = None
    ) -> Outcome:
        """A map, or `NothingToDraw(empty)` for no spec, or None if drawing failed."""
        return await self._render("map", self.maps, key or _event_key(spec), spec, empty)

    def prerender(
        self, key: Hashable | None, spec: EventMapSpec | PeriodMapSpec | None, *, empty: str
    ) -> asyncio.Task[Outcome]:
        """Start a map now (an event's, as it is recorded) and return its task: a caller
        that cannot wait long awaits it through `within`; the render goes on regardless,
        and a later `render_map` for the key finds it cached or joins it."""
        return asyncio.ensure_future(self.render_map(spec, empty=empty, key=key))

    async def _render(
        self,
        kind: str,
        cache: LRU[Hashable, Picture],
        key: Hashable | None,
        spec: Spec | None,
        empty: str,
    ) -> Outcome:
        if spec is None:
            return NothingToDraw(empty)
        if key is not None:
            cached = cache.get(key)
            if cached is not None:
                return cached
            pending = self._pending.get((kind, key))
            if pending is None:
                pending = asyncio.ensure_future(self._draw(kind, cache, key, spec))
                self._pending[(kind, key)] = pending
                pending.add_done_callback(lambda _: self._pending.pop((kind, key), None))
            # Shielded: a caller that stops waiting does not stop the render for others.
            return await asyncio.shield(pending)
        return await self._draw(kind, cache, None, spec)

    async def _draw(
        self, kind: str, cache: LRU[Hashable, Picture], key: Hashable | None, spec: Spec
    ) -> Picture | None:
        started = time.perf_counter()
        try:
            pool = self._pool()
            drawn = await asyncio.get_running_loop().run_in_executor(pool, draw, spec)
            description = self._describe(spec)
        except BrokenProcessPool:
            log.exception("the picture worker died drawing %s %r; starting another", kind, key)
            self._replace_pool()
            return None
        except Exception:
            log.exception("could not draw %s %r", kind, key)
            return None
        picture = Picture(
            drawn.png, drawn.width, drawn.height, description, drawn.frame, drawn.timings
        )
        if key is not None:
            cache.put(key, picture)
        log.debug(
            "drew %s %r: %d bytes in %.0f ms",
            kind, key, len(drawn.png), (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return picture

    def _replace_pool(self) -> None:
        if self._own and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def close(self) -> None:
        """Wait for renders under way, then stop the workers this renderer started."""
        if self._pending:
            await asyncio.gather(*self._pending.values(), return_exceptions=True)
        if self._own and self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)


def _event_key(spec: Spec | None) -> Hashable | None:
    if isinstance(spec, EventMapSpec) and spec.event_id is not None and spec.revision is not None:
        return ("event", spec.event_id, spec.revision)
    return None


async def within(task: asyncio.Future[Outcome], seconds: float) -> Outcome:
    """The task's outcome if it is ready within `seconds`, else None; the task runs on
    (the dispatcher waits at most 0.5 s for an alert's map, then sends without it)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        return None
    try:
        return task.result()
    except Exception:
        log.exception("a prerendered picture failed")
        return None
