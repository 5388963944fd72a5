"""The bot's pictures: the /chart timeline and site map, each launch's map for /launch and
its alerts, and where a launch site is.

`Pictures` holds one `bot.pictures.Renderer` (its worker process and caches) for the
whole bot. Everything here is counted or looked up on the caller's side and drawn in the
worker, never on the event loop (docs/architecture.md, "Pictures").

Site positions are filled in at render time: an event that names a site the gazetteer
knows (bot/drafting/places.toml: name or alias, with coordinates) but gives no latitude
and longitude is drawn at the gazetteer's position. Nothing is written: a derived
position is not a reported fact, needs no source and no revision, follows a corrected
gazetteer at once, and never overrides coordinates a moderator typed (`/event edit
field:latitude`).

Caches: an event's map by (event, revision), so a thousand channels alerted about one
launch cost one render; a chart or site map by (visible guilds, filters, options, the
store's change counter), so a repeated question costs one small query and no render.
"""

from __future__ import annotations

import asyncio
import logging
import tomllib
from collections.abc import Hashable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from bot.models import Event
from bot.pictures import (
    NothingToDraw,
    Outcome,
    Picture,
    Renderer,
    counted_chart_spec,
    counted_period_map_spec,
    event_map_spec,
    within,
)
from bot.pictures.chart import period_index
from bot.pictures.render import DEFAULT_CACHE, LRU
from bot.pictures.specs import CountMode, EventMapSpec, Period
from bot.render import environment
from bot.services.context import Scope
from bot.services.events import TimelineFilter
from db import Store
from db.pictures import PictureQueries, SiteTally, Tally

log = logging.getLogger("launchwatch.pictures")

#: How long an alert waits for its event's map, from the first channel's turn: a map not
#: ready by then goes out with no channel's alert (a picture never holds an alert up).
ALERT_WAIT = 0.5
#: How long /launch waits for a map before answering without it.
LAUNCH_WAIT = 10.0
#: With no `by:`, a chart spanning up to this many months is drawn by month, then by
#: quarter, then by year: about 12 to 40 bars.
AUTO_PERIODS: tuple[tuple[int, Period], ...] = ((36, "month"), (120, "quarter"))
#: The gazetteer (bot/drafting/places.toml), read as a file: importing bot.drafting
#: would load the whole extractor (dateparser: ~95 ms and its memory) into the bot.
GAZETTEER = Path(__file__).resolve().parents[1] / "drafting" / "places.toml"


def _words(name: str, *args: Any) -> str:
    module = environment().get_template("pictures/titles.j2").module
    return " ".join(str(getattr(module, name)(*args)).split())


# -- where a launch came from -------------------------------------------------------------


@dataclass(frozen=True)
class KnownSite:
    """A launch site of the gazetteer with a position."""

    name: str
    latitude: float
    longitude: float


@cache
def gazetteer_sites() -> dict[str, KnownSite]:
    """Every launch site of the gazetteer with a position, by each of its names folded
    (`kim chaek`, `kimchaek`)."""
    with GAZETTEER.open("rb") as f:
        places = tomllib.load(f)["place"]
    found: dict[str, KnownSite] = {}
    for place in places:
        if place.get("kind") != "site" or place.get("lat") is None or place.get("lon") is None:
            continue
        site = KnownSite(place["name"], float(place["lat"]), float(place["lon"]))
        for name in (place["name"], *place.get("aliases", ())):
            found.setdefault(_folded(name), site)
    return found


def _folded(name: str) -> str:
    """As bot/drafting/places.py matches names: case, spacing and ’ forgiven."""
    return " ".join(name.replace("’", "'").lower().split())


def known_site(launch_site: str | None) -> KnownSite | None:
    """The gazetteer's site that this name or alias stands for (`Tongchang-ri`: Sohae)."""
    return gazetteer_sites().get(_folded(launch_site)) if launch_site else None


@dataclass(frozen=True)
class Located:
    """What the maps read of a launch: its position and its site's name."""

    category: str
    latitude: float | None
    longitude: float | None
    launch_site: str | None


def located(event: Event | SiteTally) -> Located:
    """The launch as the maps draw it: at its own coordinates, else at its site's in the
    gazetteer; a site the gazetteer knows under its gazetteer name, so that a period map
    counts `Sunan` and `Pyongyang International Airport` as one site."""
    known = known_site(event.launch_site)
    latitude, longitude = event.latitude, event.longitude
    if (latitude is None or longitude is None) and known is not None:
        latitude, longitude = known.latitude, known.longitude
    return Located(
        category=event.category,
        latitude=latitude if longitude is not None else None,
        longitude=longitude if latitude is not None else None,
        launch_site=known.name if known is not None else event.launch_site,
    )


def event_map(event: Event) -> EventMapSpec | None:
    """The spec of an event's map (its site, and a ring for each distance), or None when
    its site has no known position on the map."""
    if event.retracted:
        return None
    return event_map_spec(
        located(event),
        title=_words("event_map", event),
        distance_km=event.distance_km,
        claimed_distance_km=event.claimed_distance_km,
        event_id=event.id,
        revision=event.revision,
    )


def event_key(event: Event) -> Hashable:
    return ("event", event.id, event.revision)


def _spec_of(event: Event) -> EventMapSpec | None:
    """`event_map`, or None (logged) if even that fails: a picture never stops an alert
    or an answer."""
    try:
        return event_map(event)
    except Exception:
        log.exception("could not make the map of event %s revision %s", event.id, event.revision)
        return None


# -- charts --------------------------------------------------------------------------------


def auto_period(tallies: list[Tally]) -> Period:
    """month, quarter or year: whichever draws the tallies' span in a readable number of
    bars (`AUTO_PERIODS`)."""
    if not tallies:
        return "month"
    months = [period_index(t.month, "month") for t in tallies]
    span = max(months) - min(months) + 1
    return next((period for limit, period in AUTO_PERIODS if span <= limit), "year")


@dataclass(frozen=True)
class Rendered:
    """A picture and its title, or the sentence said instead, or neither (drawing failed)."""

    outcome: Outcome
    title: str = ""

    @property
    def picture(self) -> Picture | None:
        return self.outcome if isinstance(self.outcome, Picture) else None

    @property
    def sentence(self) -> str | None:
        return self.outcome.sentence if isinstance(self.outcome, NothingToDraw) else None


class Pictures:
    """The bot's renderer, and what each event revision's alerts carry."""

    def __init__(self, renderer: Renderer | None = None, *, alert_wait: float = ALERT_WAIT) -> None:
        self.renderer = renderer or Renderer()
        #: How long the first alert of a revision waits for its map (`ALERT_WAIT`).
        self.alert_wait = alert_wait
        # (event id, revision) -> the map every alert of that revision carries (or None).
        self._alerts: LRU[Hashable, asyncio.Future[Picture | None]] = LRU(DEFAULT_CACHE)
        self._prerendering: set[asyncio.Future[Outcome]] = set()
        # A cached chart's or site map's title: it names the total, counted with the spec.
        self._titles: LRU[Hashable, str] = LRU(DEFAULT_CACHE * 2)

    async def start(self) -> None:
        """Start and warm the worker (about a second), so the first picture does not wait."""
        await self.renderer.start()

    async def close(self) -> None:
        """Finish the renders under way and stop the worker."""
        await self.renderer.close()

    # -- an event's map ------------------------------------------------------------------

    def prerender(self, event: Event) -> None:
        """Start the event's map now (it was just recorded or corrected): its alerts and
        /launch then find it drawn, or join the render under way."""
        spec = _spec_of(event)
        if spec is None:
            return
        task = self.renderer.prerender(event_key(event), spec, empty="")
        self._prerendering.add(task)
        task.add_done_callback(self._prerendering.discard)

    async def map_for(self, event: Event) -> Picture | None:
        """The map an alert of this event revision carries. Decided once per revision, at
        the first channel's turn: drawn within `alert_wait` seconds, every channel's alert
        carries it; not drawn by then, or failed, none does (the log says why) and none
        is edited to add it later. Never raises, never waits longer than `alert_wait`."""
        key = (event.id, event.revision)
        decided = self._alerts.get(key)
        if decided is None:
            decided = asyncio.ensure_future(self._decide(event, self.alert_wait))
            self._alerts.put(key, decided)
        return await asyncio.shield(decided)

    async def _decide(self, event: Event, wait: float) -> Picture | None:
        spec = _spec_of(event)
        if spec is None:
            return None
        task = self.renderer.prerender(event_key(event), spec, empty="")
        outcome = await within(task, wait)
        if isinstance(outcome, Picture):
            return outcome
        if not task.done():
            log.warning(
                "alerts of event %s revision %s go without its map: not drawn within %.1f s",
                event.id, event.revision, wait,
            )  # fmt: skip
        else:
            log.warning(
                "alerts of event %s revision %s go without its map: drawing it failed "
                "(the error is logged above)",
                event.id, event.revision,
            )  # fmt: skip
        return None

    async def launch_map(self, event: Event, *, wait: float = LAUNCH_WAIT) -> Picture | None:
        """The event's map for /launch: drawn now, or found drawn (an alert's), or None
        when it has no position, failed, or took longer than `wait`."""
        spec = _spec_of(event)
        if spec is None:
            return None
        outcome = await within(self.renderer.prerender(event_key(event), spec, empty=""), wait)
        return outcome if isinstance(outcome, Picture) else None

    # -- charts and site maps ------------------------------------------------------------

    async def chart(
        self,
        store: Store,
        scope: Scope,
        filters: TimelineFilter,
        *,
        period: Period | None = None,
        count: CountMode = "events",
    ) -> Rendered:
        """Launches (or missiles) per period and category, over the filters, from counts
        the store makes; a sentence when nothing matches. Without `period`, by month,
        quarter or year for the span (`auto_period`)."""
        query = filters.to_query(scope)
        async with store.read() as q:
            pictures = PictureQueries(q.conn)
            changes = await pictures.changes(scope.visible_guilds)
            key = ("chart", tuple(scope.visible_guilds), filters, period, count, changes)
            cached = self.renderer.charts.get(key)
            if cached is not None:
                return Rendered(cached, self._titles.get(key) or "")
            tallies = await pictures.tallies(query)
        by = period or auto_period(tallies)
        spec = counted_chart_spec(tallies, title="", period=by, count=count)
        title = _words("chart", filters, by, count, spec.total if spec else 0)
        if spec is not None:
            spec = replace(spec, title=title)
        outcome = await self.renderer.render_chart(
            spec, empty=_words("no_launches", filters), key=key
        )
        self._titles.put(key, title)
        return Rendered(outcome, title)

    async def site_map(self, store: Store, scope: Scope, filters: TimelineFilter) -> Rendered:
        """Every launch site of the filters' launches, sized by count and divided by
        category; a sentence when none has a known position."""
        query = filters.to_query(scope)
        async with store.read() as q:
            pictures = PictureQueries(q.conn)
            changes = await pictures.changes(scope.visible_guilds)
            key = ("sites", tuple(scope.visible_guilds), filters, changes)
            cached = self.renderer.maps.get(key)
            if cached is not None:
                return Rendered(cached, self._titles.get(key) or "")
            sites = await pictures.sites(query)
        counted = [(located(site), site.events) for site in sites]
        spec = counted_period_map_spec(counted, title="")
        total = sum(n for _, n in counted)
        title = _words("period_map", filters, total, spec.total if spec else 0)
        if spec is not None:
            spec = replace(spec, title=title)
        outcome = await self.renderer.render_map(
            spec, empty=_words("no_sites", filters, total), key=key
        )
        self._titles.put(key, title)
        return Rendered(outcome, title)
