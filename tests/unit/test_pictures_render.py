"""Rendering through the worker pool: off the event loop, deterministic, cached by key,
prerendered for a caller that waits a bounded time, and never raising into its caller."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from bot import services
from bot.pictures import (
    NothingToDraw,
    Picture,
    Renderer,
    chart_spec,
    event_map_spec,
    period_map_spec,
    within,
)
from bot.pictures.render import new_pool
from bot.pictures.specs import ChartSpec, EventMapSpec
from bot.services import Scope, TimelineFilter
from db import Store


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """One warmed worker process for the module (spawning one takes about a second)."""
    executor = new_pool(1)
    executor.submit(os.getpid).result()
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


class Watched(Executor):
    """An executor in front of another that counts submissions, knows whether a job is
    running, and can hold jobs at a gate until released."""

    def __init__(self, inner: Executor, *, gated: bool = False) -> None:
        self.inner = inner
        self.submitted = 0
        self.running = 0
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self._waiter = ThreadPoolExecutor(4)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        self.running += 1

        def run() -> Any:
            try:
                self.gate.wait()
                return self.inner.submit(fn, *args, **kwargs).result()
            finally:
                self.running -= 1

        return self._waiter.submit(run)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.gate.set()
        self._waiter.shutdown(wait=wait, cancel_futures=cancel_futures)


class Launch:
    """What the chart and maps read of an event."""

    def __init__(self, date: str, category: str = "icbm", site: str | None = "Kim Chaek") -> None:
        from bot.dates import PartialDate

        self.date = PartialDate.parse(date)
        self.category = category
        self.count: int | None = 1
        self.launch_site = site
        self.longitude: float | None = 129.2 if site else None
        self.latitude: float | None = 40.8 if site else None


def chart() -> ChartSpec:
    spec = chart_spec(
        [Launch("2023-01-05"), Launch("2023-03-09", "srbm"), Launch("2024-06-01")],
        title="Launches 2023-2024: 3",
        period="month",
        count="events",
    )
    assert spec is not None
    return spec


def event_map(revision: int = 1, km: float = 1000) -> EventMapSpec:
    spec = event_map_spec(
        Launch("2024-01-14"), title="Hwasong-18", distance_km=km, event_id=7, revision=revision
    )
    assert spec is not None
    return spec


async def test_a_render_runs_while_the_event_loop_keeps_ticking(pool: ProcessPoolExecutor) -> None:
    """A heartbeat task keeps running while the picture is drawn: the loop is not blocked."""
    watched = Watched(pool)
    renderer = Renderer(executor=watched, cache_size=0)
    ticks_while_drawing = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks_while_drawing
        while not stop.is_set():
            if watched.running:
                ticks_while_drawing += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(heartbeat())
    outcome = await renderer.render_map(event_map(), empty="")
    stop.set()
    await beating
    assert isinstance(outcome, Picture)
    assert watched.submitted == 1
    assert ticks_while_drawing > 0


async def test_the_same_input_gives_the_same_bytes(pool: ProcessPoolExecutor) -> None:
    """Rendered twice (no cache), a chart and a map come back byte for byte the same."""
    renderer = Renderer(executor=pool, cache_size=0)
    charts = [await renderer.render_chart(chart(), empty="") for _ in range(2)]
    maps = [await renderer.render_map(event_map(), empty="") for _ in range(2)]
    for first, second in (charts, maps):
        assert isinstance(first, Picture) and isinstance(second, Picture)
        assert first.png == second.png


async def test_a_picture_is_a_png_with_its_size_and_a_description(
    pool: ProcessPoolExecutor,
) -> None:
    renderer = Renderer(executor=pool)
    picture = await renderer.render_chart(chart(), empty="", key="k")
    assert isinstance(picture, Picture)
    image = Image.open(io.BytesIO(picture.png))
    assert image.format == "PNG" and image.size == (picture.width, picture.height) == (1200, 700)
    assert "Software" not in image.info  # no version stamp that changes the bytes
    assert picture.description.startswith("Bar chart of launches per month")


async def test_nothing_to_draw_is_the_callers_sentence_not_an_empty_picture(
    pool: ProcessPoolExecutor,
) -> None:
    watched = Watched(pool)
    renderer = Renderer(executor=watched)
    sentence = "No launches were recorded in 1990."
    spec = chart_spec([], title="1990", period="month", count="events")
    assert await renderer.render_chart(spec, empty=sentence, key="1990") == NothingToDraw(sentence)
    no_position = event_map_spec(Launch("2024-01-01", site=None), title="x")
    assert await renderer.render_map(no_position, empty="No position.") == NothingToDraw(
        "No position."
    )
    assert watched.submitted == 0


async def test_an_event_map_is_cached_by_event_and_revision(pool: ProcessPoolExecutor) -> None:
    """The same revision is drawn once; a correction (a new revision) is drawn again."""
    watched = Watched(pool)
    renderer = Renderer(executor=watched)
    first = await renderer.render_map(event_map(1), empty="")
    again = await renderer.render_map(event_map(1), empty="")
    assert first is again and watched.submitted == 1
    corrected = await renderer.render_map(event_map(2, km=1500), empty="")
    assert isinstance(corrected, Picture) and corrected.png != first.png  # type: ignore[union-attr]
    assert watched.submitted == 2


async def test_a_chart_is_cached_by_the_callers_key_and_the_cache_is_bounded(
    pool: ProcessPoolExecutor,
) -> None:
    watched = Watched(pool)
    renderer = Renderer(executor=watched, cache_size=2)
    for key in ("a", "b", "a", "c", "a", "b"):
        assert isinstance(await renderer.render_chart(chart(), empty="", key=key), Picture)
    # a, b drawn; a cached; c drawn (b least recent, dropped); a cached; b drawn again.
    assert watched.submitted == 4
    assert len(renderer.charts) == 2


async def test_prerender_lets_a_caller_wait_a_bounded_time(pool: ProcessPoolExecutor) -> None:
    """Not ready within the wait: None, and the render goes on; once drawn, `within`
    returns it and `render_map` finds it without drawing again."""
    watched = Watched(pool, gated=True)
    renderer = Renderer(executor=watched)
    task = renderer.prerender(("event", 7, 1), event_map(), empty="")
    assert await within(task, 0.05) is None
    joined = asyncio.ensure_future(renderer.render_map(event_map(), empty=""))
    watched.gate.set()
    picture = await within(task, 60)
    assert isinstance(picture, Picture)
    assert await joined is picture
    assert await renderer.render_map(event_map(), empty="") is picture
    assert watched.submitted == 1
    watched.shutdown()


async def test_a_failed_render_is_none_and_logged_never_raised(
    pool: ProcessPoolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    """A spec the worker cannot draw (a bar row shorter than the periods): None, a log
    line naming the key, and nothing cached, so the next try draws again."""
    watched = Watched(pool)
    renderer = Renderer(executor=watched)
    broken = replace(chart(), values=((1,),))
    with caplog.at_level(logging.ERROR, logger="launchwatch.pictures"):
        assert await renderer.render_chart(broken, empty="", key="broken") is None
    assert "could not draw chart 'broken'" in caplog.text
    assert await renderer.render_chart(broken, empty="", key="broken") is None
    assert watched.submitted == 2


async def test_a_killed_worker_fails_one_render_and_the_next_gets_a_new_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker process dies (say, the OOM killer): that render is None and logged,
    and the renderer starts a new worker for the next."""
    renderer = Renderer()
    await renderer.start()
    executor = renderer._pool()
    assert isinstance(executor, ProcessPoolExecutor)
    (pid,) = executor._processes  # type: ignore[attr-defined]
    os.kill(pid, signal.SIGKILL)
    with caplog.at_level(logging.ERROR, logger="launchwatch.pictures"):
        assert await renderer.render_map(event_map(), empty="") is None
    assert "picture worker died" in caplog.text
    assert isinstance(await renderer.render_map(event_map(), empty=""), Picture)
    await renderer.close()


async def test_a_chart_and_a_period_map_of_stored_events(
    store: Store, scope: Scope, pool: ProcessPoolExecutor
) -> None:
    """Events recorded through the services, read back with them, drawn."""
    await services.add_events(
        store,
        scope,
        [
            {"date": "2023-03-16", "category": "icbm", "summary": "Hwasong-17",
             "launch_site": "Sunan", "latitude": 39.22, "longitude": 125.67},
            {"date": "2023-07-12", "category": "icbm", "summary": "Hwasong-18",
             "launch_site": "Sunan", "latitude": 39.22, "longitude": 125.67},
            {"date": "2023-11-21", "category": "space_launch", "summary": "Malligyong-1",
             "launch_site": "Sohae", "latitude": 39.66, "longitude": 124.7},
        ],
        alert=False,
    )  # fmt: skip
    events = await services.list_events(store, scope, TimelineFilter(), include_retracted=False)
    renderer = Renderer(executor=pool)
    picture = await renderer.render_chart(
        chart_spec(events, title="2023", period="quarter", count="events"), empty=""
    )
    assert isinstance(picture, Picture)
    assert "3 launches in all" in picture.description
    spec = period_map_spec(events, title="2023")
    picture = await renderer.render_map(spec, empty="")
    assert isinstance(picture, Picture)
    assert "Sunan: 2 (ICBM 2); Sohae: 1 (space launch 1)." in picture.description


def test_the_bots_process_does_not_load_matplotlib() -> None:
    """Counting specs and rendering through the pool load no matplotlib, numpy or pyproj
    in the bot's own process (about 80 MB it would carry): only the worker does."""
    probe = (
        "import sys, bot.pictures, bot.pictures.render\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'numpy', 'pyproj'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
