"""Make bot/pictures/data/geography.json from world-atlas's Natural Earth TopoJSON.

    npm pack world-atlas && tar xzf world-atlas-*.tgz     # in a temporary folder
    python tools/make_geography.py package/countries-50m.json [--out PATH]

The maps are drawn offline, so the coastlines and borders they need are committed: the
land of Natural Earth 1:50m (public domain), as redistributed in TopoJSON by the npm
package `world-atlas` (ISC licence, Mike Bostock), cut to the maps' region (Asia and the
western Pacific, 25°E-240°E, 40°S-85°N) and written as compact JSON in whole hundredths
of a degree.

The TopoJSON is decoded here (about forty lines: quantized, delta-encoded arcs, then rings
stitched from arc indices, `~i` for a reversed arc), following the TopoJSON specification,
so the tool needs only the standard library. Output:

- `land`: polygon rings (outer and holes, in the source's winding) clipped to the region
  with Sutherland-Hodgman; a cut edge runs exactly along the region's border, which is how
  the reader tells it from a real coast and leaves it unstroked.
- `borders`: arcs shared by two countries (land borders), clipped as lines.

Longitudes run on past 180°E (to 240°E): each ring or line is made continuous and moved by
whole turns into the region's frame, so Chukotka and the Aleutians sit east of 180°E.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

Point = tuple[float, float]
#: West, south, east, north in degrees; east past 180 continues over the antimeridian. Wide
#: enough for the widest map (12,000 km across, about Korea): a whole 4,600 km ring.
REGION = (25.0, -40.0, 240.0, 85.0)
SCALE = 100  # hundredths of a degree: about 1 km, a tenth of a pixel on the widest map
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "bot/pictures/data/geography.json"
ATTRIBUTION = (
    "Made with Natural Earth (public domain), 1:50m land and admin-0 countries, v4.1.0, "
    "via the world-atlas package 2.x (ISC licence, (c) Michael Bostock); "
    "see bot/pictures/data/NOTICE.md."
)


def decode_arcs(topology: dict) -> list[list[Point]]:
    """Every arc as absolute lon/lat: quantized arcs are delta-encoded integers."""
    transform = topology.get("transform")
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points: list[Point] = []
        for p in arc:
            x += p[0]
            y += p[1]
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def stitch(arcs: list[list[Point]], indices: Sequence[int]) -> list[Point]:
    """One ring or line from arc indices; each arc after the first drops its first point
    (the previous arc's last)."""
    out: list[Point] = []
    for i in indices:
        points = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(points[1:] if out else points)
    return out


def polygons(geometry: dict) -> Iterable[list[list[int]]]:
    """The arc-index rings of each polygon in a Polygon or MultiPolygon (or a collection)."""
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        for g in geometry["geometries"]:
            yield from polygons(g)
    elif kind == "Polygon":
        yield geometry["arcs"]
    elif kind == "MultiPolygon":
        yield from geometry["arcs"]


def shifted(points: list[Point]) -> list[Point]:
    """Longitudes made continuous (a ring over the antimeridian, such as Fiji's, steps
    from 179.9 to 180.1, not to -179.9), then moved by whole turns so the shape's middle
    falls in [west, west + 360): Chukotka and the Aleutians land east of 180."""
    if not points:
        return points
    out = [points[0]]
    for x, y in points[1:]:
        last = out[-1][0]
        x += 360.0 * round((last - x) / 360.0)
        out.append((x, y))
    middle = sum(x for x, _ in out) / len(out)
    turn = 360.0 * ((middle - REGION[0]) // 360.0)
    return [(x - turn, y) for x, y in out]


def clip_ring(ring: list[Point], box: tuple[float, float, float, float]) -> list[Point]:
    """Sutherland-Hodgman against the four sides of `box`: the part of a ring inside it,
    closed along the box's edges where it was cut."""
    west, south, east, north = box
    sides = (
        (lambda p: p[0] >= west, lambda a, b: _at_x(a, b, west)),
        (lambda p: p[0] <= east, lambda a, b: _at_x(a, b, east)),
        (lambda p: p[1] >= south, lambda a, b: _at_y(a, b, south)),
        (lambda p: p[1] <= north, lambda a, b: _at_y(a, b, north)),
    )
    out = ring[:-1] if ring and ring[0] == ring[-1] else ring
    for inside, cross in sides:
        if not out:
            break
        source, out = out, []
        prev = source[-1]
        for cur in source:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
    return out + out[:1] if len(out) >= 3 else []


def clip_line(line: list[Point], box: tuple[float, float, float, float]) -> list[list[Point]]:
    """The runs of a line inside `box`, each kept one point beyond the box at either end so
    it still reaches the edge (the map clips what is beyond)."""
    west, south, east, north = box

    def inside(p: Point) -> bool:
        return west <= p[0] <= east and south <= p[1] <= north

    runs: list[list[Point]] = []
    run: list[Point] = []
    for i, p in enumerate(line):
        near = (
            inside(p)
            or (i > 0 and inside(line[i - 1]))
            or (i + 1 < len(line) and inside(line[i + 1]))
        )
        if near:
            run.append(p)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return [r for r in runs if len(r) >= 2]


def _at_x(a: Point, b: Point, x: float) -> Point:
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _at_y(a: Point, b: Point, y: float) -> Point:
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


def quantized(points: list[Point], closed: bool) -> list[int]:
    """Flat [x0, y0, x1, y1, ...] in hundredths of a degree, repeated points dropped."""
    out: list[int] = []
    last: tuple[int, int] | None = None
    for x, y in points:
        q = (round(x * SCALE), round(y * SCALE))
        if q != last:
            out.extend(q)
            last = q
    if closed and len(out) >= 4 and out[:2] == out[-2:]:
        out = out[:-2]  # the reader closes rings itself
    return out


def land(topology: dict, arcs: list[list[Point]]) -> list[list[int]]:
    rings: list[list[int]] = []
    for polygon in polygons(topology["objects"]["land"]):
        for ring_arcs in polygon:
            ring = clip_ring(shifted(stitch(arcs, ring_arcs)), REGION)
            flat = quantized(ring, closed=True)
            if len(flat) >= 6:
                rings.append(flat)
    return rings


def borders(topology: dict, arcs: list[list[Point]]) -> list[list[int]]:
    """Arcs used by two different countries: topojson's `mesh(a !== b)`."""
    users: dict[int, set[int]] = {}
    for n, country in enumerate(topology["objects"]["countries"]["geometries"]):
        for polygon in polygons(country):
            for ring_arcs in polygon:
                for i in ring_arcs:
                    users.setdefault(i if i >= 0 else ~i, set()).add(n)
    lines: list[list[int]] = []
    for i in sorted(users):
        if len(users[i]) < 2:
            continue
        for run in clip_line(shifted(arcs[i]), REGION):
            flat = quantized(run, closed=False)
            if len(flat) >= 4:
                lines.append(flat)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("topojson", type=Path, help="world-atlas countries-50m.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    topology = json.loads(args.topojson.read_text(encoding="utf-8"))
    if "countries" not in topology.get("objects", {}):
        print(f"{args.topojson}: no `countries` object; use world-atlas countries-50m.json")
        return 2
    arcs = decode_arcs(topology)
    data = {
        "attribution": ATTRIBUTION,
        "region": list(REGION),
        "scale": SCALE,
        "land": land(topology, arcs),
        "borders": borders(topology, arcs),
    }
    text = json.dumps(data, separators=(",", ":"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text.replace("],[", "],\n[") + "\n", encoding="utf-8")
    points = sum(len(r) for r in data["land"] + data["borders"]) // 2
    print(
        f"{args.out}: {len(data['land'])} land rings, {len(data['borders'])} border lines, "
        f"{points} points, {args.out.stat().st_size} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
