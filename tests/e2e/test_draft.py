"""/draft text, file, url and list end to end: an article handed to the bot becomes review
cards, and nothing else, until a moderator clicks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope, TimelineFilter
from tests.e2e.drafting_support import cards, feeds_bot, review_emulator, text_of, wait_cards
from tests.e2e.support import shown
from tests.unit.drafts_support import SEOUL
from tests.unit.feeds_support import FeedServer, feed_server

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "examples" / "seed-article.txt").read_text(encoding="utf-8")
ARTICLE = f"{SEOUL.title}\n\n{SEOUL.summary}"
PAGE = (
    "<html><head><title>Wire</title><script>alert('x')</script></head><body>"
    "<nav>Home · World · Asia</nav><article><h1>" + SEOUL.title + "</h1>"
    "<p>" + SEOUL.summary + "</p><p>Officials in Tokyo said the launch posed no immediate"
    " threat to Japanese territory, and the government lodged a protest through diplomatic"
    " channels in Beijing.</p></article><footer>© Wire</footer></body></html>"
).encode()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


@pytest.fixture
async def discord_emulator() -> AsyncIterator[Emulator]:
    async with review_emulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(
    discord_emulator: Emulator, server: FeedServer, tmp_path: Path
) -> AsyncIterator[LaunchWatch]:
    async with feeds_bot(discord_emulator, tmp_path / "e2e.db", server) as running:
        await services.drafts.set_review_channel(running.store, MOD, 1200000000000000013)
        yield running


def said(result: InvokeResult) -> str:
    return re.sub(r"\\(.)", r"\1", result.content or "")


async def no_events(bot: LaunchWatch) -> bool:
    return not await services.list_events(bot.store, MOD, TimelineFilter())


async def test_text_opens_a_modal_and_its_launches_become_cards(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    opened = await discord_emulator.invoke("draft text", user="moderator")
    assert opened.modal is not None and opened.modal["title"] == "Draft from a text"
    first, second = SEED[:3500], SEED[3500:7000]
    done = await discord_emulator.submit_modal(
        opened,
        {"Text": first, "Text, continued": second, "Published on (default: today)": "2024-02-03"},
        user="moderator",
    )
    await done.wait_settled(10)
    assert done.ephemeral and "Drafted 4 launches" in said(done)
    posted = await wait_cards(discord_emulator, 4)
    titles = [p.embeds[0]["title"] for p in posted]
    assert all("Cruise missile" in t or "cruise missile" in t for t in titles), titles
    assert "none: the text was pasted or attached" in text_of(posted[0])
    assert await no_events(bot)


async def test_a_member_cannot_draft(discord_emulator: Emulator, bot: LaunchWatch) -> None:
    refused = await discord_emulator.invoke("draft text", user="member")
    assert refused.refused and refused.modal is None


async def test_file_reads_text_and_html_and_refuses_other_files(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    done = await discord_emulator.invoke(
        "draft file",
        {"file": ("seoul.txt", ARTICLE.encode()), "published": "2024-03-18"},
        user="moderator",
    )
    assert "Drafted 1 launch: draft #1 (18 Mar 2024, SRBM)" in said(done)
    page = await discord_emulator.invoke(
        "draft file", {"file": ("seoul.html", PAGE), "published": "2024-03-18"}, user="moderator"
    )
    assert "Drafted 1 launch: draft #1" in said(page)  # the same launch: merged into #1
    (card,) = await wait_cards(discord_emulator, 1)
    assert "alert(" not in text_of(card) and "Home · World" not in text_of(card)

    wrong = await discord_emulator.invoke(
        "draft file", {"file": ("seoul.pdf", b"%PDF-1.4")}, user="moderator"
    )
    assert "seoul.pdf is not a .txt, .md or .html file" in said(wrong)
    big = await discord_emulator.invoke(
        "draft file", {"file": ("big.txt", b"x" * 1_000_001)}, user="moderator"
    )
    assert "big.txt is larger than 1 MB" in said(big)
    assert await no_events(bot)


async def test_url_is_refused_unless_fetching_articles_is_on(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/article", PAGE, content_type="text/html")
    refused = await discord_emulator.invoke(
        "draft url", {"url": server.url("/article")}, user="moderator"
    )
    assert "fetching articles is off on this bot" in said(refused)
    assert server.requests == []


async def test_url_fetches_the_page_safely_and_drafts_its_text(
    discord_emulator: Emulator, server: FeedServer, tmp_path: Path
) -> None:
    server.serve("/article", PAGE, content_type="text/html")
    async with feeds_bot(discord_emulator, tmp_path / "url.db", server, fetch_articles=True) as bot:
        await services.drafts.set_review_channel(bot.store, MOD, 1200000000000000013)
        done = await discord_emulator.invoke(
            "draft url",
            {"url": server.url("/article"), "published": "2024-03-18"},
            user="moderator",
        )
        assert "Drafted 1 launch" in said(done)
        (card,) = await wait_cards(discord_emulator, 1)
        assert server.url("/article") in text_of(card)
        private = await discord_emulator.invoke(
            "draft url", {"url": "http://169.254.169.254/latest/meta-data"}, user="moderator"
        )
        assert "169.254.169.254 is not a public internet address" in said(private)
        assert len(cards(discord_emulator)) == 1 and await no_events(bot)


async def test_list_shows_what_waits(discord_emulator: Emulator, bot: LaunchWatch) -> None:
    empty = await discord_emulator.invoke("draft list", user="moderator")
    assert "No draft is waiting." in shown(empty)
    await discord_emulator.invoke(
        "draft file",
        {"file": ("seoul.txt", ARTICLE.encode()), "published": "2024-03-18"},
        user="moderator",
    )
    await wait_cards(discord_emulator, 1)
    listed = shown(await discord_emulator.invoke("draft list", user="moderator"))
    assert "**#1** · 18 Mar 2024 · 1 × SRBM · from Sunan · 0 sources · [card](" in listed
