"""Launch maps as a person sees them: the site's marker in its category's colour where
the site is, geodesic rings where the geodesic says, land and sea where they are."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import pytest
from PIL import Image

from bot.embeds import COLOURS
from bot.pictures import colours, event_map_spec, period_map_spec
from bot.pictures.labels import describe
from bot.pictures.map_drawing import draw_event_map, draw_period_map
from bot.pictures.specs import Drawn, EventMapSpec

KIM_CHAEK = (129.2, 40.8)
SOHAE = (124.7, 39.66)
GEOD = pyproj.Geod(ellps="WGS84")
DATA = Path(__file__).resolve().parents[2] / "bot/pictures/data"


@dataclass(frozen=True)
class Launch:
    """What the maps read of an event."""

    category: str
    longitude: float | None
    latitude: float | None
    launch_site: str | None = None


def image_of(drawn: Drawn) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(drawn.png)).convert("RGB")).astype(int)


def colour_at(drawn: Drawn, lon: float, lat: float) -> tuple[int, int, int]:
    assert drawn.frame is not None
    col, row = drawn.frame.pixel(lon, lat)
    return tuple(image_of(drawn)[int(row), int(col)])  # type: ignore[return-value]


def rgb(value: int | str) -> tuple[int, int, int]:
    if isinstance(value, str):
        value = int(value.lstrip("#"), 16)
    return (value >> 16 & 255, value >> 8 & 255, value & 255)


def event_map(**kwargs: object) -> Drawn:
    spec = event_map_spec(
        Launch("icbm", *KIM_CHAEK, "Kim Chaek"),
        title="Hwasong-12",
        **kwargs,  # type: ignore[arg-type]
    )
    assert spec is not None
    return draw_event_map(spec)


def ring_crossing_lon(site: tuple[float, float], km: float, lat: float) -> float:
    """Where the ring `km` around `site` crosses the parallel `lat`, east of the site, by
    bisection on pyproj's inverse geodesic (independent of how the map draws rings)."""
    lo, hi = site[0], site[0] + 90.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if GEOD.inv(site[0], site[1], mid, lat)[2] / 1000 < km:
            lo = mid
        else:
            hi = mid
    return lo


def ring_crossing_lat(site: tuple[float, float], km: float, lon: float) -> float:
    """Where the ring crosses the meridian `lon`, south of the site."""
    lo, hi = site[1] - 90.0, site[1]
    for _ in range(60):
        mid = (lo + hi) / 2
        if GEOD.inv(site[0], site[1], lon, mid)[2] / 1000 > km:
            lo = mid
        else:
            hi = mid
    return hi


def inked(drawn: Drawn, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The lon/lat points whose pixel is drawn in ink (the rings' colour)."""
    assert drawn.frame is not None
    image = image_of(drawn)
    ink = np.array(rgb(colours.INK))
    found = []
    for lon, lat in points:
        col, row = drawn.frame.pixel(lon, lat)
        assert 0 <= row < image.shape[0] and 0 <= col < image.shape[1], "outside the picture"
        if np.abs(image[int(row), int(col)] - ink).max() < 40:
            found.append((lon, lat))
    return found


def dark_lons(drawn: Drawn, lat: float, lons: np.ndarray) -> list[float]:
    """The longitudes along a parallel drawn in ink."""
    return [lon for lon, _ in inked(drawn, [(float(lon), lat) for lon in lons])]


def test_the_site_marker_is_at_kim_chaek_in_its_category_colour() -> None:
    drawn = event_map()
    assert colour_at(drawn, *KIM_CHAEK) == rgb(COLOURS["icbm"])


def test_a_4600_km_ring_crosses_the_parallels_where_the_geodesic_does() -> None:
    """Hwasong-12 over Japan: the reported-range ring crosses Guam's parallel (13.45°N)
    where a 4,600 km geodesic from Kim Chaek does (about 164.8°E, east of Guam), and
    crosses Guam's meridian further south."""
    drawn = event_map(distance_km=4600)
    expected = ring_crossing_lon(KIM_CHAEK, 4600, 13.45)
    found = dark_lons(drawn, 13.45, np.arange(140.0, 185.0, 0.02))
    assert found, "no ring along 13.45°N"
    assert min(abs(lon - expected) for lon in found) < 0.3
    assert all(abs(lon - expected) < 0.5 for lon in found), (found, expected)
    assert expected > 144.8  # Guam (13.45°N 144.8°E) lies inside the ring
    south = ring_crossing_lat(KIM_CHAEK, 4600, 144.8)
    crossings = inked(drawn, [(144.8, float(lat)) for lat in np.arange(-3.0, 12.0, 0.02)])
    assert crossings and all(abs(lat - south) < 0.4 for _, lat in crossings), (crossings, south)


def test_a_ring_over_the_antimeridian_goes_on_east_of_it() -> None:
    """A site in the western Aleutians (172°E 52°N) with a 1,500 km ring: the ring crosses
    its parallel near 194°E (166°W), past the antimeridian, where the geodesic does."""
    site = (172.0, 52.0)
    spec = event_map_spec(Launch("icbm", *site, None), title="Aleutians", distance_km=1500)
    assert spec is not None
    drawn = draw_event_map(spec)
    expected = ring_crossing_lon(site, 1500, 52.0)
    assert expected > 180
    found = dark_lons(drawn, 52.0, np.arange(185.0, 200.0, 0.02))
    assert found and min(abs(lon - expected) for lon in found) < 0.3


def ring_share_drawn(drawn: Drawn, site: tuple[float, float], km: float) -> float:
    """The share of the ring's points (every degree of azimuth) drawn in ink."""
    assert drawn.frame is not None
    image = image_of(drawn)
    ink = np.array(rgb(colours.INK))
    lons, lats, _ = GEOD.fwd(
        np.full(360, site[0]), np.full(360, site[1]), np.arange(360.0), np.full(360, km * 1000)
    )
    hits = total = 0
    for lon, lat in zip(lons, lats, strict=True):
        col, row = drawn.frame.pixel(float(lon), float(lat))
        if not (0 <= row < image.shape[0] and 0 <= col < image.shape[1]):
            continue
        patch = image[int(row) - 1 : int(row) + 2, int(col) - 1 : int(col) + 2]
        total += 1
        hits += bool((np.abs(patch - ink).max(axis=2) < 40).any())
    return hits / total


def test_the_reported_range_is_a_solid_ring_and_the_claimed_one_dashed() -> None:
    drawn = event_map(distance_km=800, claimed_distance_km=1500)
    assert ring_share_drawn(drawn, KIM_CHAEK, 800) > 0.9
    assert 0.3 < ring_share_drawn(drawn, KIM_CHAEK, 1500) < 0.85


def test_a_landing_point_replaces_the_reported_ring() -> None:
    """With the landing area's coordinates, the map marks it and draws no range ring."""
    landing = (134.0, 41.0)
    drawn = event_map(distance_km=800, landing=landing)
    assert colour_at(drawn, *landing) == rgb(colours.LANDING)
    assert ring_share_drawn(drawn, KIM_CHAEK, 800) < 0.2


def test_land_and_sea_are_where_natural_earth_has_them() -> None:
    """The Sea of Japan (39.3°N 133.3°E) is sea; inland North Korea (40.2°N 126.6°E) is land."""
    drawn = event_map()
    assert colour_at(drawn, 133.3, 39.3) == rgb(colours.SEA)
    assert colour_at(drawn, 126.6, 40.2) == rgb(colours.LAND)


def test_an_event_map_is_1200_wide_and_under_500_kb() -> None:
    drawn = event_map(distance_km=4600, claimed_distance_km=5500)
    image = Image.open(io.BytesIO(drawn.png))
    assert image.size == (drawn.width, drawn.height) and drawn.width == 1200
    assert len(drawn.png) < 500_000


def test_the_description_names_the_site_and_the_rings() -> None:
    spec = event_map_spec(
        Launch("irbm", *KIM_CHAEK, "Kim Chaek"),
        title="Hwasong-12, 4 Oct 2022",
        distance_km=4600,
        claimed_distance_km=5000,
    )
    assert isinstance(spec, EventMapSpec)
    assert describe(spec) == (
        "Map of Hwasong-12, 4 Oct 2022: the IRBM launch site Kim Chaek at 40.8°N 129.2°E, "
        "with a ring 4,600 km around it for the reported range and a dashed ring at the "
        "claimed 5,000 km."
    )


@pytest.mark.parametrize(
    "where",
    [(None, None), (-80.6, 28.5)],  # no position; Cape Canaveral, off the map
    ids=["no-position", "off-the-map"],
)
def test_an_event_with_no_position_on_the_map_has_no_map(where: tuple[float, float]) -> None:
    assert event_map_spec(Launch("icbm", *where), title="x") is None


def test_a_period_map_marks_each_site_in_its_category_colour() -> None:
    """Sohae's space launches and Kim Chaek's ICBMs: each site's disc, at the site, in its
    category's colour; launches with no position are left out and counted."""
    launches = [
        *[Launch("space_launch", *SOHAE, "Sohae")] * 3,
        Launch("icbm", *KIM_CHAEK, "Kim Chaek"),
        Launch("srbm", None, None),
    ]
    spec = period_map_spec(launches, title="2023")
    assert spec is not None and spec.left_out == 1
    drawn = draw_period_map(spec)
    assert colour_at(drawn, *SOHAE) == rgb(COLOURS["space_launch"])
    assert colour_at(drawn, *KIM_CHAEK) == rgb(COLOURS["icbm"])
    assert len(drawn.png) < 500_000 and drawn.width == 1200
    assert "1 launch with no known position is not shown" in describe(spec)


def test_a_busier_site_has_a_larger_disc() -> None:
    """Three launches at Sohae, one at Kim Chaek: Sohae's disc covers more pixels."""
    launches = [*[Launch("icbm", *SOHAE, "Sohae")] * 3, Launch("icbm", *KIM_CHAEK, "Kim Chaek")]
    spec = period_map_spec(launches, title="2023")
    assert spec is not None
    drawn = draw_period_map(spec)
    image = image_of(drawn)
    assert drawn.frame is not None

    def disc(lon: float, lat: float) -> int:
        col, row = (int(v) for v in drawn.frame.pixel(lon, lat))  # type: ignore[union-attr]
        window = image[row - 40 : row + 40, col - 40 : col + 40]
        return int((np.abs(window - np.array(rgb(COLOURS["icbm"]))).max(axis=2) == 0).sum())

    assert disc(*SOHAE) > 2 * disc(*KIM_CHAEK)


def test_the_geography_is_small_and_credited() -> None:
    """The committed file stays well under 1 MB and names its sources; the NOTICE beside
    it carries world-atlas's ISC licence."""
    data = DATA / "geography.json"
    assert data.stat().st_size < 600_000
    assert "Natural Earth" in json.loads(data.read_text(encoding="utf-8"))["attribution"]
    notice = (DATA / "NOTICE.md").read_text(encoding="utf-8")
    assert "Natural Earth" in notice and "ISC" in notice and "Michael Bostock" in notice


def test_proj_never_reaches_for_the_network() -> None:
    """PROJ may fetch transformation grids from its CDN when allowed; the maps need none,
    and loading the geography switches that off."""
    import pyproj.network

    from bot.pictures import geography

    assert geography.geography().land
    assert not pyproj.network.is_network_enabled()
