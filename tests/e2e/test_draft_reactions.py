"""The seed article handed to the real bot through `/draft text`: every card lists the
reactions the article reports, and a moderator's Confirm records them, once for the
whole series, so a second card's Confirm adds none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator
from bot.sandbox.world import MODERATOR_USER_ID, REVIEW_CHANNEL_ID, SANDBOX_GUILD_ID
from bot.services import Scope
from bot.services.reactions import all_reactions
from tests.e2e.drafting_support import (
    button_ids,
    feeds_bot,
    review_emulator,
    text_of,
    wait_cards,
)
from tests.e2e.support import until
from tests.unit.feeds_support import feed_server

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
SEED = (Path(__file__).resolve().parents[2] / "examples" / "seed-article.txt").read_text(
    encoding="utf-8"
)
ACTORS = ("United States", "South Korea", "Japan", "China", "Ankit Panda", "Yoji Koda")


@pytest.fixture
async def discord_emulator() -> AsyncIterator[Emulator]:
    async with review_emulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(discord_emulator: Emulator, tmp_path: Path) -> AsyncIterator[LaunchWatch]:
    async with (
        feed_server() as server,
        feeds_bot(discord_emulator, tmp_path / "e2e.db", server) as running,
    ):
        await services.drafts.set_review_channel(running.store, MOD, REVIEW_CHANNEL_ID)
        yield running


async def test_cards_list_the_reactions_and_confirm_records_them_once(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    opened = await discord_emulator.invoke("draft text", user="moderator")
    done = await discord_emulator.submit_modal(
        opened,
        {
            "Text": SEED[:3500],
            "Text, continued": SEED[3500:7000],
            "Published on (default: today)": "2024-02-03",
        },
        user="moderator",
    )
    await done.wait_settled(10)
    first, second, *_rest = await wait_cards(discord_emulator, 4)
    text = text_of(first)
    assert "Reactions" in text and all(actor in text for actor in ACTORS), text
    assert "Confirm records these too" in text
    assert await all_reactions(bot.store, MOD) == []

    edits = first.edits
    await discord_emulator.click(first, button_ids(first)[0], user="moderator")
    await until(lambda: first.edits > edits)
    recorded = await all_reactions(bot.store, MOD)
    assert len(recorded) == 8
    assert {(r.event_id, r.since, r.until) for r in recorded} == {
        (None, "2024-01-25", "2024-02-02")
    }
    assert text_of(first).count("recorded as reaction #") == 8

    edits = second.edits
    await discord_emulator.click(second, button_ids(second)[0], user="moderator")
    await until(lambda: second.edits > edits)
    assert len(await all_reactions(bot.store, MOD)) == 8
    assert text_of(second).count("already recorded as reaction #") == 8
