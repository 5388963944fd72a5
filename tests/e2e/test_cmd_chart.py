"""/chart timeline and /chart map, end to end: a PNG its embed shows, a title naming the
filters and the total, a sentence for an empty period, drawn off the event loop and drawn
again only when the store has changed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.pictures import Renderer
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.seed import seed_example
from bot.services import Scope
from tests.e2e.pictures import Worker, pictures_of
from tests.e2e.support import until

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)


@dataclass
class Charting:
    bot: LaunchWatch
    worker: Worker


@pytest.fixture
async def charting(
    discord_emulator: Emulator, tmp_path: Path, picture_pool: ProcessPoolExecutor
) -> AsyncIterator[Charting]:
    """The bot over the seed data, its pictures drawn behind a `Worker` the test holds."""
    worker = Worker(picture_pool)
    config = sandbox_config(tmp_path / "chart.db")
    async with running_bot(config, discord_emulator, renderer=Renderer(executor=worker)) as bot:
        try:
            await seed_example(bot.store, MOD)
            yield Charting(bot, worker)
        finally:
            worker.release()
    worker.shutdown()


def title(result: InvokeResult) -> str:
    """The answer's title as a reader sees it (Markdown escapes undone)."""
    return re.sub(r"\\(.)", r"\1", result.embeds[0]["title"])


async def add(bot: LaunchWatch, date: str, category: str = "icbm", **fields: Any) -> int:
    raw = {"date": date, "category": category, "summary": f"A launch on {date}.", **fields}
    return (await services.add_event(bot.store, MOD, raw, alert=False)).id


# -- /chart timeline -------------------------------------------------------------------------


async def test_chart_timeline_answers_with_a_chart_its_embed_shows(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """The seed's four launches since 2024: a PNG upload, shown by the embed, titled with
    the filter and the total, described in words."""
    result = await discord_emulator.invoke("chart timeline", {"since": "2024-01-01"})
    assert result.deferred and not result.ephemeral
    assert title(result) == "Launches per month · since 1 Jan 2024 · 4 launches"
    [(name, _, description)] = pictures_of(result.message)
    assert name == "chart.png"
    assert description.startswith(
        "Bar chart of launches per month, stacked by category, from January 2024 to "
        "February 2024: 4 launches in all."
    )


async def test_chart_timeline_title_names_every_filter_and_the_total(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Missiles of one category by one actor per quarter: the count is of missiles, an
    unknown count as one."""
    await add(seeded, "2023-03-16", count=1)
    await add(seeded, "2023-07-12", count=3)
    await add(seeded, "2023-12-18")
    await add(seeded, "2023-11-21", "space_launch")
    options = {
        "since": "2023", "until": "2023", "category": "icbm", "actor": "dprk", "by": "quarter",
        "count": "missiles",
    }  # fmt: skip
    result = await discord_emulator.invoke("chart timeline", options)
    assert title(result) == "Missiles per quarter · 2023 to 2023 · ICBM · by dprk · 5 missiles"
    [(_, _, description)] = pictures_of(result.message)
    assert "from Q1 2023 to Q4 2023: 5 missiles in all" in description
    assert "1 launch with no reported number of missiles is counted as one" in description


async def test_chart_timeline_of_an_empty_period_is_a_sentence(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    result = await discord_emulator.invoke("chart timeline", {"since": "1990", "until": "1991"})
    assert result.content == (
        "Nothing to chart: no launches match (1990 to 1991). Try a wider period, or /timeline."
    )
    assert result.embeds == [] and result.message is not None and result.message.attachments == []


async def test_chart_timeline_refuses_a_backward_period(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    result = await discord_emulator.invoke("chart timeline", {"since": "2024", "until": "2023"})
    assert result.ephemeral and "until" in (result.content or "")


async def test_commands_answer_while_a_chart_is_drawn(
    discord_emulator: Emulator, charting: Charting
) -> None:
    """The chart is drawn in the worker: the asker sees "thinking…" at once, and the bot
    answers everyone else meanwhile; the chart follows when it is drawn."""
    charting.worker.hold()
    asked = await discord_emulator.invoke("chart timeline", {}, settle=False)
    assert asked.deferred and not asked.late
    await until(lambda: charting.worker.waiting == 1)
    about = await discord_emulator.invoke("about", {})
    assert about.status == 200 and not about.late and "LaunchWatch" in about.embeds[0]["title"]
    assert asked.original is not None and asked.original.loading
    charting.worker.release()
    await asked.wait_settled(timeout=30)
    assert [name for name, _, _ in pictures_of(asked.message)] == ["chart.png"]
    assert discord_emulator.late_interactions == []


async def test_a_chart_is_drawn_again_only_when_the_store_changes(
    discord_emulator: Emulator, charting: Charting
) -> None:
    """The same question twice: one drawing. A new launch, or a correction, changes the
    store's counter: drawn again, with the new total."""
    first = await discord_emulator.invoke("chart timeline", {"since": "2024"})
    again = await discord_emulator.invoke("chart timeline", {"since": "2024"})
    assert charting.worker.drawn == 1
    assert pictures_of(first.message)[0][1] == pictures_of(again.message)[0][1]
    event_id = await add(charting.bot, "2024-03-18", "srbm")
    added = await discord_emulator.invoke("chart timeline", {"since": "2024"})
    assert charting.worker.drawn == 2
    assert title(added) == "Launches per month · since 2024 · 5 launches"
    await services.edit_event(charting.bot.store, MOD, event_id, "category", "mrbm")
    edited = await discord_emulator.invoke("chart timeline", {"since": "2024"})
    assert charting.worker.drawn == 3
    assert "MRBM 1" in pictures_of(edited.message)[0][2]


# -- /chart map ------------------------------------------------------------------------------


async def test_chart_map_shows_every_site_of_the_period(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Sites by position, given or from the gazetteer; launches without one counted as
    left out, in the title and the description."""
    await add(seeded, "2023-03-16", launch_site="Sunan")
    await add(seeded, "2023-07-12", launch_site="Pyongyang International Airport")
    await add(seeded, "2023-11-21", "space_launch", latitude=39.66, longitude=124.7)
    result = await discord_emulator.invoke("chart map", {})
    assert result.deferred and not result.ephemeral
    assert title(result) == "Launch sites · all recorded · 7 launches · 4 with a known site"
    [(name, _, description)] = pictures_of(result.message)
    assert name == "sites.png"
    assert "Sunan: 2 (ICBM 2)" in description
    assert "Kim Chaek: 1 (cruise missile 1)" in description
    assert "3 launches with no known position are not shown" in description


async def test_chart_map_of_a_category_and_period(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    await add(seeded, "2023-03-16", launch_site="Sunan")
    result = await discord_emulator.invoke(
        "chart map", {"since": "2023", "until": "2023", "category": "icbm"}
    )
    assert title(result) == "Launch sites · 2023 to 2023 · ICBM · 1 launch"
    assert "Sunan: 1 (ICBM 1)" in pictures_of(result.message)[0][2]


async def test_chart_map_without_a_known_site_is_a_sentence(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    result = await discord_emulator.invoke("chart map", {"until": "2024-01-31"})
    assert result.content == (
        "Nothing to map: none of the 3 launches that match (until 31 Jan 2024) has a known "
        "launch site with a position."
    )
    assert result.message is not None and result.message.attachments == []
