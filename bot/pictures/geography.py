"""The committed geography, the maps' projection, and geodesic rings.

Geography: `data/geography.json`, Natural Earth 1:50m land and land borders of Asia and
the western Pacific (25°E-240°E, 40°S-85°N: room for the widest map, 12,000 km across,
about Korea, which a whole 4,600 km ring needs), made by `tools/make_geography.py` from
the world-atlas package (see `data/NOTICE.md`). Nothing is downloaded at run time, and
PROJ's network access (grids from its CDN) is switched off: the projection below needs no
grid.

Projection: Lambert conformal conic, standard parallels 25°N and 47°N, centred on 38°N
130°E. Conformal, so the peninsula, Japan's islands and coastlines keep their shapes. The
scale is true on 25°N and 47°N and within 6 % from Guam (13°N, 1.06) to Sakhalin (55°N,
1.04), so the region the bot's events are in is drawn almost to one scale; meridians
converge as on a globe, so north is up over Korea and long rings bend as they should. An
azimuthal equidistant projection would draw distances from one site truly, but only from
that site: a period map has many, and one fixed projection lets the projected coastlines
be computed once per process. Its only cut runs from the pole down 50°W, the meridian
opposite 130°E: only a ring around the pole crosses it (from Korea, one over about
5,500 km), and such a ring is split there.

Rings are geodesic (`pyproj.Geod.fwd` on WGS 84 over 360 azimuths), their longitudes
unwrapped so a ring over the antimeridian stays one continuous line.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
import pyproj
import pyproj.network

from bot.pictures.specs import REGION

Array = npt.NDArray[np.float64]
PROJECTION = (
    "+proj=lcc +lat_0=38 +lon_0=130 +lat_1=25 +lat_2=47 +datum=WGS84 +units=m +no_defs +type=crs"
)
#: Ring vertices: one per degree of azimuth draws a 10,000 km ring with 175 km chords,
#: each within a pixel of the true curve at the map's scale.
RING_POINTS = 361
#: A projected step longer than this (metres) is the projection's cut, not a ring's chord.
CUT = 3_000_000.0

pyproj.network.set_network_enabled(False)
_GEOD = pyproj.Geod(ellps="WGS84")
_local = threading.local()
_lock = threading.Lock()


@dataclass(frozen=True)
class Geography:
    """Lines and polygons in degrees: longitude east, past 180 over the antimeridian."""

    region: tuple[float, float, float, float]  # west, south, east, north
    land: tuple[Array, ...]  # closed rings, (n, 2)
    coasts: tuple[Array, ...]  # the rings' real coastline, without cuts at the region's edge
    borders: tuple[Array, ...]
    attribution: str


@dataclass(frozen=True)
class Projected:
    """The geography in the map projection's metres, computed once per process."""

    land: tuple[Array, ...]
    coasts: tuple[Array, ...]
    borders: tuple[Array, ...]


@cache
def geography() -> Geography:
    """The committed file, read once."""
    text = resources.files("bot.pictures").joinpath("data/geography.json").read_text("utf-8")
    data = json.loads(text)
    scale = float(data["scale"])
    west, south, east, north = (round(v * scale) for v in data["region"])
    land: list[Array] = []
    coasts: list[Array] = []
    for flat in data["land"]:
        ring = np.asarray(flat, dtype=np.int64).reshape(-1, 2)
        ring = np.vstack([ring, ring[:1]])
        land.append(ring / scale)
        coasts.extend(part / scale for part in _coast(ring, (west, south, east, north)))
    borders = [
        np.asarray(flat, dtype=np.float64).reshape(-1, 2) / scale for flat in data["borders"]
    ]
    if tuple(data["region"]) != REGION:
        raise ValueError(f"geography.json covers {data['region']}; specs.REGION says {REGION}")
    return Geography(
        region=REGION,
        land=tuple(land),
        coasts=tuple(coasts),
        borders=tuple(borders),
        attribution=data["attribution"],
    )


def _coast(ring: npt.NDArray[np.int64], box: tuple[int, int, int, int]) -> list[Array]:
    """A clipped ring's real coastline: the runs between edges that lie along the region's
    border (both ends on the same side), which the clipping made, not the sea."""
    west, south, east, north = box
    a, b = ring[:-1], ring[1:]
    cut = (
        ((a[:, 0] == west) & (b[:, 0] == west))
        | ((a[:, 0] == east) & (b[:, 0] == east))
        | ((a[:, 1] == south) & (b[:, 1] == south))
        | ((a[:, 1] == north) & (b[:, 1] == north))
    )
    if not cut.any():
        return [ring.astype(np.float64)]
    # Start just after a cut edge, so every run is contiguous in the rotated ring.
    start = int(np.flatnonzero(cut)[0]) + 1
    order = np.r_[start : len(cut), 0:start]
    runs: list[Array] = []
    run: list[int] = []
    for i in order:
        if cut[i]:
            if len(run) >= 1:
                runs.append(ring[[*run, run[-1] + 1]].astype(np.float64))
            run = []
        else:
            run.append(int(i))
    if run:
        runs.append(ring[[*run, run[-1] + 1]].astype(np.float64))
    return runs


def transformer() -> pyproj.Transformer:
    """This thread's lon/lat -> map transformer (a Transformer is not shared across threads)."""
    t = getattr(_local, "transformer", None)
    if t is None:
        t = pyproj.Transformer.from_crs("EPSG:4326", PROJECTION, always_xy=True)
        _local.transformer = t
    return t


def project(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Array, Array]:
    """Degrees to the map's metres."""
    x, y = transformer().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def project_point(lon: float, lat: float) -> tuple[float, float]:
    x, y = project([lon], [lat])
    return float(x[0]), float(y[0])


def _xy(lines: tuple[Array, ...]) -> tuple[Array, ...]:
    if not lines:
        return ()
    sizes = np.cumsum([len(line) for line in lines])[:-1]
    points = np.vstack(lines)
    x, y = project(points[:, 0], points[:, 1])
    return tuple(np.split(np.column_stack([x, y]), sizes))


_projected: Projected | None = None


def projected() -> Projected:
    """The geography in map metres: about 36,000 points, projected once per process."""
    global _projected
    with _lock:
        if _projected is None:
            g = geography()
            _projected = Projected(_xy(g.land), _xy(g.coasts), _xy(g.borders))
        return _projected


def geodesic_ring(lon: float, lat: float, km: float, points: int = RING_POINTS) -> Array:
    """The points `km` from a site along every azimuth, as (n, 2) lon/lat, the longitudes
    unwrapped around the site's so a ring over the antimeridian does not jump by 360."""
    azimuths = np.linspace(0.0, 360.0, points)
    lons, lats, _ = _GEOD.fwd(
        np.full(points, lon), np.full(points, lat), azimuths, np.full(points, km * 1000.0)
    )
    lons = np.unwrap(np.asarray(lons, float), period=360.0)
    lons += 360.0 * np.round((lon - lons[0]) / 360.0)
    return np.column_stack([lons, np.asarray(lats, float)])


def ring_paths(lon: float, lat: float, km: float) -> list[Array]:
    """A geodesic ring in map metres, split where it crosses the projection's cut (a
    step longer than `CUT`), so no stray line spans the map."""
    ring = geodesic_ring(lon, lat, km)
    x, y = project(ring[:, 0], ring[:, 1])
    xy = np.column_stack([x, y])
    ok = np.isfinite(xy).all(axis=1)
    steps = np.hypot(np.diff(x), np.diff(y))
    breaks = np.flatnonzero(~(steps < CUT)) + 1
    parts = [p[np.isfinite(p).all(axis=1)] for p in np.split(xy, breaks)]
    return [p for p in parts if len(p) >= 2] if ok.any() else []
