"""The pictures' reads from the store, on SQLite and PostgreSQL: counts that give the same
chart and site map as the events themselves, a change counter that moves with every
change, and launch sites placed from the gazetteer."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot import services
from bot.dates import PartialDate
from bot.pictures import chart_spec, counted_chart_spec, counted_period_map_spec, period_map_spec
from bot.services import Scope, TimelineFilter
from bot.services.pictures import auto_period, known_site, located
from db import Store
from db.pictures import PictureQueries

SITES = (
    {"launch_site": "Kim Chaek"},  # the gazetteer's position
    {"launch_site": "Tongchang-ri"},  # an alias of Sohae
    {"launch_site": "Sunan", "latitude": 39.2, "longitude": 125.67},  # given
    {"launch_site": "Somewhere Unknown"},
    {},
)


def generated(n: int, seed: int = 3) -> list[dict[str, Any]]:
    """Launches of every kind of date, count and site, 2010-2024."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        year, month, day = rng.randint(2010, 2024), rng.randint(1, 12), rng.randint(1, 28)
        date = rng.choice(
            (f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{day:02d}",
             f"{year}-{month:02d}-{day:02d}T0{day % 10}:30Z")
        )  # fmt: skip
        out.append(
            {
                "date": date,
                "category": rng.choice(("srbm", "icbm", "cruise_missile", "space_launch")),
                "actor": rng.choice(("DPRK", "dprk", "Russia")),
                "count": rng.choice((1, 2, 4, None)),
                "summary": f"Launch {i}.",
                **rng.choice(SITES),
            }
        )
    return out


FILTERS = [
    TimelineFilter(),
    TimelineFilter(since=PartialDate.parse("2015"), until=PartialDate.parse("2019-06")),
    TimelineFilter(category="icbm"),
    TimelineFilter(actor="DPRK", since=PartialDate.parse("2020-01-01")),
]


@pytest.mark.parametrize("filters", FILTERS)
async def test_counted_chart_and_map_are_those_of_the_events(
    store: Store, scope: Scope, filters: TimelineFilter
) -> None:
    """For each filter, period and count, the chart from the GROUP BY is the chart of the
    events read one by one; the site map likewise (positions from the gazetteer)."""
    await services.add_events(store, scope, generated(300), alert=False)
    retracted = await services.add_event(store, scope, generated(1, seed=9)[0], alert=False)
    await services.retract_event(store, scope, retracted.id, "Never happened.")
    events = await services.list_events(store, scope, filters, include_retracted=False)
    async with store.read() as q:
        tallies = await PictureQueries(q.conn).tallies(filters.to_query(scope))
        sites = await PictureQueries(q.conn).sites(filters.to_query(scope))
    assert sum(t.events for t in tallies) == len(events) > 0
    for period in ("month", "quarter", "year"):
        for count in ("events", "missiles"):
            expected = chart_spec(events, title="t", period=period, count=count)
            got = counted_chart_spec(tallies, title="t", period=period, count=count)
            assert got == expected, (period, count)
    by_event = period_map_spec([located(e) for e in events], title="m")
    by_count = counted_period_map_spec([(located(s), s.events) for s in sites], title="m")
    assert by_count == by_event
    assert by_count is not None and by_count.left_out > 0


async def test_the_change_counter_moves_with_every_change_of_the_guilds_events(
    store: Store, scope: Scope
) -> None:
    other = Scope(scope.guild_id + 1, scope.user_id)

    async def counter(guilds: list[int]) -> object:
        async with store.read() as q:
            return await PictureQueries(q.conn).changes(guilds)

    seen = [await counter([scope.guild_id])]
    event = await services.add_event(store, scope, generated(1)[0], alert=False)
    seen.append(await counter([scope.guild_id]))
    await services.edit_event(store, scope, event.id, "summary", "Corrected.")
    seen.append(await counter([scope.guild_id]))
    await services.add_source(store, scope, event.id, {"title": "NHK"})
    seen.append(await counter([scope.guild_id]))
    await services.retract_event(store, scope, event.id, "Never happened.")
    seen.append(await counter([scope.guild_id]))
    assert len(set(map(repr, seen))) == len(seen)  # each change moved it
    assert await counter([scope.guild_id]) == seen[-1]  # nothing changed: nor did it
    await services.add_event(store, other, generated(1)[0], alert=False)
    assert await counter([scope.guild_id]) == seen[-1]  # another guild's event
    assert await counter([scope.guild_id, other.guild_id]) != seen[-1]  # seen by a network


def test_a_known_site_is_placed_from_the_gazetteer_and_given_coordinates_win() -> None:
    class Launch:
        category = "icbm"

        def __init__(self, site: str | None, lat: float | None, lon: float | None) -> None:
            self.launch_site, self.latitude, self.longitude = site, lat, lon

    kim_chaek = located(Launch("kim  chaek", None, None))
    assert (kim_chaek.latitude, kim_chaek.longitude) == (40.6667, 129.2)
    assert kim_chaek.launch_site == "Kim Chaek"
    alias = located(Launch("Tongchang-ri", None, None))
    assert alias.launch_site == "Sohae Satellite Launching Station"
    by_hand = located(Launch("Kim Chaek", 40.7, 129.3))
    assert (by_hand.latitude, by_hand.longitude) == (40.7, 129.3)
    unknown = located(Launch("Somewhere Unknown", None, None))
    assert (unknown.latitude, unknown.longitude) == (None, None)
    assert known_site("Sea of Japan (East Sea)") is None  # a sea is no launch site


def test_a_chart_without_by_picks_bars_for_its_span() -> None:
    from db.pictures import Tally

    def span(first: str, last: str) -> str:
        return auto_period(
            [Tally(first, "day", "icbm", 1, 1, 0), Tally(last, "day", "icbm", 1, 1, 0)]
        )

    assert span("2024-01", "2024-02") == "month"
    assert span("2021-01", "2023-12") == "month"
    assert span("2020-01", "2024-06") == "quarter"
    assert span("1984", "2024-06") == "year"
