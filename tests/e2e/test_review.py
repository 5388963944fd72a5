"""A feed served on loopback, read by the real bot through the emulator: its items become
review cards in #review, and only a moderator's click turns one into an event (and the
alert in #alerts), after a restart too. Edit, Dismiss, Apply on an update draft, and two
feeds' stories of one launch merged into one card."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, MessageRecord
from bot.sandbox.world import (
    ALERTS_CHANNEL_ID,
    MODERATOR_USER_ID,
    REVIEW_CHANNEL_ID,
    SANDBOX_GUILD_ID,
)
from bot.services import Scope, TimelineFilter
from bot.services.drafts import list_drafts
from tests.e2e.drafting_support import (
    button_ids,
    cards,
    feeds_bot,
    review_emulator,
    text_of,
    wait_cards,
    wait_drafts,
)
from tests.e2e.support import settled, shown, until
from tests.unit.drafts_support import SEOUL, TOKYO, WEATHER, Story, rss
from tests.unit.feeds_support import FeedServer, feed_server

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)


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
        yield running


def said(message: MessageRecord) -> str:
    """A private answer's text, Markdown escapes undone."""
    return re.sub(r"\\(.)", r"\1", message.content or "")


async def events(bot: LaunchWatch) -> list[services.models.Event]:  # type: ignore[name-defined]
    return await services.list_events(bot.store, MOD, TimelineFilter(), include_retracted=True)


async def set_up(emulator: Emulator, server: FeedServer) -> None:
    """An admin names #review, a moderator subscribes #alerts and adds the feed."""
    named = await emulator.invoke("settings review-channel", {"channel": "#review"}, user="admin")
    assert "posted in" in shown(named)
    await emulator.invoke("alerts subscribe", {"channel": "#alerts"}, user="moderator")
    added = await emulator.invoke(
        "feeds add", {"url": server.url("/rss"), "name": "Yonhap"}, user="moderator"
    )
    assert "Reading **Yonhap**" in shown(added)


async def test_a_feed_item_becomes_a_card_and_a_moderators_confirm_alerts(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    """The matching item is posted for review with its evidence and source; a member's
    click is refused; the moderator's Confirm records it, the alert reaches #alerts, and
    the card says who confirmed it and which event it became. Polling again drafts nothing."""
    server.serve("/rss", rss([SEOUL, WEATHER], title="Yonhap"))
    await set_up(discord_emulator, server)

    (card,) = await wait_cards(discord_emulator, 1)
    text = text_of(card)
    assert "Draft: 1 × SRBM, 18 Mar 2024" in text
    assert "Sunan" in text and "350 km" in text
    assert "South Korea's Joint Chiefs of Staff said" in text  # evidence, as text
    assert (
        "[North Korea fires ballistic missile into East Sea](<https://news.example/seoul-1>)"
        in text
    )
    assert "nothing is published until a moderator confirms" in text
    confirm = next(i for i in button_ids(card) if i.startswith("lw:draft:confirm:"))
    assert [i.split(":")[2] for i in button_ids(card)] == ["confirm", "edit", "dismiss"]

    refused = await discord_emulator.click(card, confirm, user="member")
    assert refused.ephemeral and "Manage Server" in (refused.content or "")
    assert await events(bot) == [] and discord_emulator.messages(ALERTS_CHANNEL_ID) == []

    edits = card.edits
    await discord_emulator.click(card, confirm, user="moderator")
    await until(lambda: card.edits > edits)
    (event,) = await events(bot)
    assert (event.category, event.launch_site, event.created_by) == (
        "srbm",
        "Sunan",
        MODERATOR_USER_ID,
    )
    assert [s.url for s in event.sources] == ["https://news.example/seoul-1"]
    text = text_of(card)
    assert f"**Confirmed** by <@{MODERATOR_USER_ID}> as event #{event.id}" in text
    assert card.components == []
    await settled(bot.store)
    (alert,) = discord_emulator.messages(ALERTS_CHANNEL_ID)
    assert f"event #{event.id}" in alert.embeds[0]["footer"]["text"]

    assert bot.drafting is not None
    (feed,) = await services.feeds.list_feeds(bot.store, MOD)
    again = await bot.drafting.poll(feed.id)
    assert again is not None and (again.new, again.drafts) == (0, [])
    assert len(cards(discord_emulator)) == 1 and len(await events(bot)) == 1

    listed = await discord_emulator.invoke("feeds list", user="moderator")
    text = shown(listed)
    assert "#1 · active" in text and "items: 2 (1 matched)" in text
    assert "last success: never" not in text


async def test_a_second_confirm_records_nothing_more(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL]))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    confirm = button_ids(card)[0]
    stale = card.components  # a second moderator still sees the buttons
    await discord_emulator.click(card, confirm, user="moderator")
    await until(lambda: card.components == [])
    card.components = stale
    late = await discord_emulator.click(card, confirm, user="admin")
    await late.wait_for(lambda r: bool(r.followups), 10)
    assert late.followups[-1].ephemeral
    assert "already confirmed as event #1" in said(late.followups[-1])
    assert len(await events(bot)) == 1


async def test_edit_opens_the_five_fields_and_confirm_uses_what_was_typed(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL]))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    edit = next(i for i in button_ids(card) if ":edit:" in i)

    opened = await discord_emulator.click(card, edit, user="moderator")
    assert opened.modal is not None
    labels = [c["components"][0]["label"] for c in opened.modal["components"]]
    assert labels == ["Date", "Category", "Count", "Site", "Summary"]
    assert opened.modal["components"][0]["components"][0]["value"] == "2024-03-18"

    edits = card.edits
    wrong = await discord_emulator.submit_modal(opened, {"Date": "someday"}, user="moderator")
    await wrong.wait_for(lambda r: bool(r.followups), 10)
    assert "someday" in said(wrong.followups[-1]) and card.edits == edits

    opened = await discord_emulator.click(card, edit, user="moderator")
    await discord_emulator.submit_modal(
        opened, {"Count": "2", "Category": "mrbm", "Site": ""}, user="moderator"
    )
    await until(lambda: card.edits > edits)
    assert "Draft: 2 × MRBM, 18 Mar 2024" in text_of(card)
    await discord_emulator.click(card, button_ids(card)[0], user="moderator")
    await until(lambda: card.components == [])
    (event,) = await events(bot)
    assert (event.count, event.category, event.launch_site) == (2, "mrbm", None)


async def test_dismiss_records_nothing(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL]))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    dismiss = next(i for i in button_ids(card) if ":dismiss:" in i)
    await discord_emulator.click(card, dismiss, user="moderator")
    await until(lambda: card.components == [])
    assert f"**Dismissed** by <@{MODERATOR_USER_ID}>" in text_of(card)
    assert await events(bot) == [] and await list_drafts(bot.store, MOD) == []


async def test_buttons_work_after_a_restart(
    discord_emulator: Emulator, server: FeedServer, tmp_path: Path
) -> None:
    """The card is posted by one run of the bot and confirmed in the next."""
    server.serve("/rss", rss([SEOUL]))
    db = tmp_path / "restart.db"
    async with feeds_bot(discord_emulator, db, server):
        await set_up(discord_emulator, server)
        (card,) = await wait_cards(discord_emulator, 1)
    async with feeds_bot(discord_emulator, db, server) as second:
        await discord_emulator.click(card, button_ids(card)[0], user="moderator")
        await until(lambda: card.components == [])
        (event,) = await events(second)
        assert f"as event #{event.id}" in text_of(card)
        assert len(cards(discord_emulator)) == 1  # the restart posted nothing again


async def test_two_feeds_on_one_launch_make_one_card_with_both_sources(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL], title="Yonhap"))
    server.serve("/tokyo", rss([TOKYO], title="NHK"))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    edits = card.edits
    await discord_emulator.invoke("feeds add", {"url": server.url("/tokyo")}, user="moderator")
    await until(lambda: card.edits > edits)
    text = text_of(card)
    assert "North Korea fires ballistic missile into East Sea" in text
    assert "N. Korea launches SRBM toward Sea of Japan" in text
    assert len(cards(discord_emulator)) == 1
    await discord_emulator.click(card, button_ids(card)[0], user="moderator")
    await until(lambda: card.components == [])
    (event,) = await events(bot)
    assert len(event.sources) == 2


async def test_a_recorded_launch_gets_an_update_card_and_apply_corrects_it(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    recorded = await services.add_event(
        bot.store, MOD, {"date": "2024-03-18", "category": "srbm", "summary": "An SRBM."}
    )
    server.serve("/rss", rss([SEOUL]))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    text = text_of(card)
    assert f"Update to event #{recorded.id}" in text
    assert f"Changes to event #{recorded.id}" in text and "count: empty → 1" in text
    assert "launch site: empty → Sunan" in text
    assert [i.split(":")[2] for i in button_ids(card)] == ["apply", "confirm", "edit", "dismiss"]
    await discord_emulator.click(card, button_ids(card)[0], user="moderator")
    await until(lambda: card.components == [])
    assert f"**Applied** by <@{MODERATOR_USER_ID}> to event #{recorded.id}" in text_of(card)
    (event,) = await events(bot)
    assert (event.count, event.launch_site, event.revision) == (1, "Sunan", 2)
    assert event.summary == "An SRBM."


async def test_without_a_review_channel_drafts_wait_in_draft_list(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL]))
    await discord_emulator.invoke("feeds add", {"url": server.url("/rss")}, user="moderator")
    await wait_drafts(bot.store, SANDBOX_GUILD_ID, 1)
    listed = await discord_emulator.invoke("draft list", user="moderator")
    assert "#1" in shown(listed) and "/draft show" in shown(listed)
    assert cards(discord_emulator) == []
    opened = await discord_emulator.invoke("draft show", {"draft": 1}, user="moderator")
    assert opened.ephemeral and "Draft: 1 × SRBM" in shown(opened)
    assert opened.message is not None
    await discord_emulator.click(opened.message, button_ids(opened.message)[0], user="moderator")
    await until(lambda: bool(opened.message and opened.message.components == []))
    assert len(await events(bot)) == 1
    assert REVIEW_CHANNEL_ID not in {m.channel_id for m in discord_emulator.store.created}


async def test_feed_text_on_a_card_cannot_ping_or_break_the_layout(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    """A hostile item: its words reach the card as text, never as a ping or Markdown."""
    hostile = Story(
        "hostile-1",
        "North Korea fires ballistic missile @everyone",
        "North Korea fired a short-range ballistic missile on Monday, **@here** <@&1> said"
        " [click](https://evil.example) `code` ||spoiler||.",
        SEOUL.published,
    )
    server.serve("/rss", rss([hostile]))
    await set_up(discord_emulator, server)
    (card,) = await wait_cards(discord_emulator, 1)
    raw = text_of(card)
    assert "short\\-range ballistic missile" in raw  # the sentence is there, escaped
    assert "@everyone" not in raw and "@here" not in raw and "<@&1>" not in raw
    assert "**@" not in raw and "[click](" not in raw and "||spoiler||" not in raw
    assert card.pings.nobody
