"""`python -m bot events chart|map -o FILE.png`: the /chart pictures as files, drawn by a
worker process the command starts and stops."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.unit.test_cli import cli


def test_events_chart_and_map_write_pngs_and_say_what_they_show(tmp_path: Path) -> None:
    """Over the seed article's launches: a chart and a map, each a PNG of about 1,200 px
    under 500 KB, and a line naming the file, its title and its description."""
    assert cli(tmp_path, "db", "seed", "--example").returncode == 0
    chart = cli(tmp_path, "events", "chart", "--since", "2024-01", "--by", "month", "-o", "c.png")
    assert chart.returncode == 0, chart.stderr
    assert chart.stdout.startswith("Wrote c.png (1200×700 px, ")
    assert chart.stdout.strip().endswith("): Launches per month · since Jan 2024 · 4 launches")
    sites = cli(tmp_path, "events", "map", "--category", "cruise_missile", "-o", "m.png")
    assert sites.returncode == 0, sites.stderr
    assert sites.stdout.startswith("Wrote m.png (")
    assert sites.stdout.strip().endswith(
        "): Launch sites · all recorded · cruise missile · 4 launches · 1 with a known site"
    )
    for name in ("c.png", "m.png"):
        data = (tmp_path / name).read_bytes()
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.width == 1200 and len(data) < 500 * 1024


def test_an_empty_period_is_a_sentence_and_no_file(tmp_path: Path) -> None:
    assert cli(tmp_path, "db", "seed", "--example").returncode == 0
    result = cli(tmp_path, "events", "chart", "--until", "2023", "-o", "c.png")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Nothing to chart: no launches match (until 2023). Try a wider period, or /timeline."
    )
    assert not (tmp_path / "c.png").exists()


def test_a_backward_period_is_refused_with_the_fix(tmp_path: Path) -> None:
    result = cli(tmp_path, "events", "map", "--since", "2024", "--until", "2023", "-o", "m.png")
    assert result.returncode == 2
    assert result.stderr.strip() == "--until: it is before --since; swap them."
