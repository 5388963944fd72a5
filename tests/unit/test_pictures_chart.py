"""The timeline chart as a person sees it: bar heights, the embeds' colours, readable
ticks, its size, and its description."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from bot.dates import PartialDate
from bot.embeds import COLOURS
from bot.models import CATEGORIES
from bot.pictures import chart_spec, describe
from bot.pictures.chart_drawing import chart_figure, draw_chart
from bot.pictures.specs import ChartSpec


@dataclass(frozen=True)
class Launch:
    """What the chart reads of an event."""

    date: PartialDate
    category: str
    count: int | None = None


def launch(day: str, category: str = "icbm", count: int | None = None) -> Launch:
    return Launch(PartialDate.parse(day), category, count)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def rgb(value: int) -> tuple[int, int, int]:
    return (value >> 16 & 255, value >> 8 & 255, value & 255)


def bar_heights(png: bytes, colour: int) -> list[int]:
    """Heights in pixels of the bars painted in `colour`, left to right: the tallest run of
    that colour in each group of adjacent columns, left of the legend."""
    image = pixels(png)
    image = image[:, : int(image.shape[1] * 0.8)]
    mask = (image == np.array(rgb(colour))).all(axis=2)
    per_column = mask.sum(axis=0)
    heights: list[int] = []
    in_bar = False
    for n in per_column:
        if n and not in_bar:
            heights.append(int(n))
        elif n:
            heights[-1] = max(heights[-1], int(n))
        in_bar = bool(n)
    return heights


def spec_of(launches: Sequence[Launch], **kwargs: object) -> ChartSpec:
    spec = chart_spec(launches, title="Launches", **kwargs)  # type: ignore[arg-type]
    assert spec is not None
    return spec


def test_missiles_weigh_each_bar_by_count_with_an_unknown_count_as_one() -> None:
    """March: a launch of 4 missiles and one of an unknown number (5 missiles); April: one
    missile. The March bar stands five times as tall as April's."""
    launches = [
        launch("2024-03-02", count=4),
        launch("2024-03-20"),
        launch("2024-04-11", count=1),
    ]
    drawn = draw_chart(spec_of(launches, period="month", count="missiles"))
    march, april = bar_heights(drawn.png, COLOURS["icbm"])
    assert abs(march / april - 5) < 0.1


def test_events_count_each_launch_once() -> None:
    """The same launches counted as events: March has two, April one."""
    launches = [launch("2024-03-02", count=4), launch("2024-03-20"), launch("2024-04-11", count=1)]
    drawn = draw_chart(spec_of(launches, period="month", count="events"))
    march, april = bar_heights(drawn.png, COLOURS["icbm"])
    assert abs(march / april - 2) < 0.05


def test_the_missiles_note_says_how_unknown_counts_were_counted() -> None:
    """The note under the title (and the description) say an unknown count counts as one."""
    launches = [launch("2024-03-02", count=4), launch("2024-03-20"), launch("2024-04-11")]
    spec = spec_of(launches, period="month", count="missiles")
    assert spec.labels.note is not None and "2 launches" in spec.labels.note
    assert "count as one" in spec.labels.note
    assert "counted as one" in describe(spec)


def test_stacks_use_the_alert_embeds_colours() -> None:
    """Each category's bars are painted in its embed colour, stacked in one bar."""
    launches = [launch("2024-03-02", "icbm"), launch("2024-03-05", "srbm"), launch("2024-03-09")]
    drawn = draw_chart(spec_of(launches, period="month", count="events"))
    (icbm,) = bar_heights(drawn.png, COLOURS["icbm"])
    (srbm,) = bar_heights(drawn.png, COLOURS["srbm"])
    assert abs(icbm / srbm - 2) < 0.05


def test_forty_years_of_months_fit_under_500_kb_at_1200_pixels() -> None:
    """Ten thousand launches, 1984 to 2024, by month: a PNG about 1,200 pixels wide, well
    under Discord-friendly 500 KB."""
    rng = np.random.default_rng(7)
    launches = [
        launch(
            f"{1984 + int(rng.integers(41))}-{1 + int(rng.integers(12)):02d}-{1 + int(rng.integers(28)):02d}",
            CATEGORIES[int(rng.integers(len(CATEGORIES)))],
            int(rng.integers(4)) or None,
        )
        for _ in range(10_000)
    ]
    spec = spec_of(launches, period="month", count="missiles")
    assert len(spec.starts) >= 480
    drawn = draw_chart(spec)
    assert drawn.width == 1200 and 600 <= drawn.height <= 900
    image = Image.open(io.BytesIO(drawn.png))
    assert image.size == (drawn.width, drawn.height)
    assert len(drawn.png) < 500_000


def tick_texts(spec: ChartSpec) -> list[str]:
    fig, ax = chart_figure(spec)
    fig.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_one_month_is_named_under_its_bar_not_split_into_days() -> None:
    """A chart of one month has one tick, naming the month (days would suggest a daily count)."""
    assert tick_texts(spec_of([launch("2024-03-05")], period="month", count="events")) == [
        "Mar\n2024"
    ]


def test_forty_years_are_ticked_in_years() -> None:
    """Forty years of months get a handful of year ticks, not hundreds of months."""
    launches = [launch("1984-01-10"), launch("2024-12-10")]
    texts = tick_texts(spec_of(launches, period="month", count="events"))
    assert 3 <= len(texts) <= 10
    assert all(t.isdigit() and len(t) == 4 for t in texts), texts


def test_quarters_are_named() -> None:
    launches = [launch("2023-02-10"), launch("2023-11-30")]
    texts = tick_texts(spec_of(launches, period="quarter", count="events"))
    assert texts == ["Q1\n2023", "Q2\n2023", "Q3\n2023", "Q4\n2023"]


def test_a_date_known_only_by_year_is_counted_in_its_first_period_and_said_so() -> None:
    spec = spec_of([launch("2019"), launch("2019-07-01")], period="quarter", count="events")
    assert spec.totals() == [1, 0, 1]
    assert spec.imprecise == 1
    assert spec.labels.note and "known only by year" in spec.labels.note


def test_the_description_says_the_total_the_busiest_period_and_the_categories() -> None:
    launches = [
        launch("2024-01-05", "srbm"),
        launch("2024-03-02", "icbm"),
        launch("2024-03-09", "srbm"),
        launch("2024-03-19", "srbm"),
    ]
    text = describe(spec_of(launches, period="month", count="events"))
    assert "from January 2024 to March 2024: 4 launches in all" in text
    assert "The busiest month was March 2024, with 3." in text
    assert "SRBM 3, ICBM 1." in text


def test_nothing_to_count_is_no_chart() -> None:
    assert chart_spec([], title="x", period="year", count="events") is None


def test_a_picture_past_the_byte_limit_is_sent_in_256_colours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should a picture ever pass the limit, it is re-encoded with a palette to fit, and
    its bars keep their colours."""
    from bot.pictures import figure

    launches = [launch("2024-03-02"), launch("2024-04-11"), launch("2024-04-20")]
    spec = spec_of(launches, period="month", count="events")
    full = draw_chart(spec)
    monkeypatch.setattr(figure, "MAX_BYTES", len(full.png) - 1)
    smaller = draw_chart(spec)
    assert len(smaller.png) < len(full.png)
    assert Image.open(io.BytesIO(smaller.png)).mode == "P"
    march, april = bar_heights(smaller.png, COLOURS["icbm"])
    assert abs(april / march - 2) < 0.05
