"""/feeds and `feeds poll --once` end to end: what a moderator sees when a feed answers 304,
500, too slowly, with broken XML or too much of it, redirects to a private address, or
is a private address; who may use /feeds; the watch terms. The feed library's unit tests
cover each failure in detail; these show the state and the reason where people read them."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web

from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.sandbox.world import GENERAL_CHANNEL_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope, update_settings
from bot.services.feeds import list_feeds
from tests.e2e.drafting_support import feeds_bot, review_emulator
from tests.e2e.support import shown, until
from tests.unit.drafts_support import SEOUL, WEATHER, rss
from tests.unit.feeds_support import FeedServer, Handler, feed_server

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


async def polled(bot: LaunchWatch, times: int = 1) -> None:
    """Until the feed's scheduled job has polled it `times` times (its first poll runs at
    once), then once more by hand for each further time."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        (feed,) = await list_feeds(bot.store, MOD)
        if feed.last_polled_at is not None:
            break
        assert asyncio.get_running_loop().time() < deadline, "the feed was never polled"
        await asyncio.sleep(0.01)
    assert bot.drafting is not None
    for _ in range(times - 1):
        await bot.drafting.poll(feed.id)


async def add(emulator: Emulator, url: str) -> InvokeResult:
    return await emulator.invoke("feeds add", {"url": url, "name": "Wire"}, user="moderator")


async def listing(emulator: Emulator) -> str:
    return shown(await emulator.invoke("feeds list", user="moderator"))


def failing(status: int) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, reason="Internal Server Error")

    return handler


async def test_a_member_cannot_use_feeds(discord_emulator: Emulator, bot: LaunchWatch) -> None:
    refused = await discord_emulator.invoke("feeds list", user="member")
    assert refused.refused and "MANAGE_GUILD" in refused.refusal


async def test_an_unchanged_feed_answers_304_and_stays_healthy(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    body = rss([SEOUL])
    asked: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        asked.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    server.routes["/rss"] = handler
    await add(discord_emulator, server.url("/rss"))
    await polled(bot, 2)
    assert asked == [None, '"v1"']
    text = await listing(discord_emulator)
    assert "#1 · active" in text and "items: 1 (1 matched)" in text
    assert "Last failure" not in text and "last success: never" not in text


async def test_a_500_is_shown_with_its_reason_and_the_feed_retries(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.routes["/rss"] = failing(500)
    await add(discord_emulator, server.url("/rss"))
    await polled(bot)
    text = await listing(discord_emulator)
    assert "#1 · active" in text and "last success: never" in text
    assert f"Last failure (1 in a row): {server.url('/rss')} answered HTTP 500" in text
    assert bot.drafting is not None
    nxt = bot.drafting.poller.next_run(1)
    (feed,) = await list_feeds(bot.store, MOD)
    assert nxt is not None and feed.next_poll_at is not None
    assert feed.last_polled_at is not None
    waited = (nxt - datetime.fromisoformat(feed.last_polled_at)).total_seconds()
    assert 1800 <= waited < 1860  # the back-off: twice the 15-minute interval


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("timeout", "did not answer within 2 seconds"),
        (
            "malformed",
            "is not a feed LaunchWatch can read (RSS, Atom or JSON Feed): the XML is broken",
        ),
        ("oversize", "sent more than 5 MB; LaunchWatch stops reading a feed there"),
    ],
)
async def test_failures_are_shown_with_what_went_wrong(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer, case: str, reason: str
) -> None:
    async def slow(request: web.Request) -> web.Response:
        await server.stall()
        return web.Response(body=rss([SEOUL]))

    if case == "timeout":
        server.routes["/rss"] = slow
    elif case == "malformed":
        server.serve("/rss", b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>x</ti")
    else:
        server.serve("/rss", b"<rss>" + b" " * 6_000_000)
    await add(discord_emulator, server.url("/rss"))
    await polled(bot)
    text = await listing(discord_emulator)
    assert "#1 · active" in text and reason in text


async def test_a_redirect_to_a_private_address_breaks_the_feed_with_the_reason(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.redirect("/rss", "http://10.0.0.7/feed.xml")
    await add(discord_emulator, server.url("/rss"))
    await polled(bot)
    text = await listing(discord_emulator)
    assert "#1 · broken" in text
    assert "http://10.0.0.7/feed.xml was refused: 10.0.0.7 is not a public internet address" in text
    assert "/feeds resume feed:1" in text
    assert bot.drafting is not None and bot.drafting.poller.next_run(1) is None


async def test_a_literal_private_ip_is_broken_on_its_first_poll(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    """Broken at once, shown in /feeds list, and told to the log channel."""
    await update_settings(bot.store, SANDBOX_GUILD_ID, log_channel_id=GENERAL_CHANNEL_ID)
    await add(discord_emulator, "http://192.168.1.20/rss")
    await polled(bot)
    text = await listing(discord_emulator)
    assert "#1 · broken" in text and "192.168.1.20 is not a public internet address" in text
    await until(lambda: bool(discord_emulator.messages(GENERAL_CHANNEL_ID)))
    (told,) = discord_emulator.messages(GENERAL_CHANNEL_ID)
    assert "LaunchWatch stopped reading the feed **Wire** (feed #1)" in (told.content or "")
    assert "/feeds resume feed:1" in (told.content or "") and told.pings.nobody


async def test_resume_reads_a_broken_feed_again(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.redirect("/rss", "http://10.0.0.7/feed.xml")
    await add(discord_emulator, server.url("/rss"))
    await polled(bot)
    server.serve("/rss", rss([SEOUL]))
    resumed = await discord_emulator.invoke("feeds resume", {"feed": "1"}, user="moderator")
    assert "again, starting now; its failures are forgotten" in shown(resumed)
    deadline = asyncio.get_running_loop().time() + 20
    while (await list_feeds(bot.store, MOD))[0].last_success_at is None:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    assert "#1 · active" in await listing(discord_emulator)


async def test_pause_and_remove(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer
) -> None:
    server.serve("/rss", rss([SEOUL]))
    await add(discord_emulator, server.url("/rss"))
    await polled(bot)
    paused = await discord_emulator.invoke("feeds pause", {"feed": "Wire"}, user="moderator")
    assert "Paused **Wire**" in shown(paused)
    assert bot.drafting is not None and bot.drafting.poller.next_run(1) is None
    assert "#1 · paused" in await listing(discord_emulator)
    gone = await discord_emulator.invoke("feeds remove", {"feed": "1"}, user="moderator")
    assert "Stopped reading **Wire**" in shown(gone)
    assert "No feed is read yet" in await listing(discord_emulator)


async def test_terms_show_and_change_what_becomes_a_draft(
    discord_emulator: Emulator, bot: LaunchWatch
) -> None:
    shown_terms = await discord_emulator.invoke("feeds terms", user="moderator")
    assert "This server uses the default list" in shown(shown_terms)
    assert "North Korea" in shown(shown_terms)
    changed = await discord_emulator.invoke(
        "feeds terms", {"add": "Hwasong", "remove": "rocket"}, user="moderator"
    )
    text = shown(changed)
    assert "This server's own list" in text and "Hwasong" in text
    assert "rocket" not in re.sub(r"Rocket", "", text)


async def test_feeds_poll_once_prints_state_and_reason(
    discord_emulator: Emulator, bot: LaunchWatch, server: FeedServer, tmp_path: Path
) -> None:
    """The CLI polls the bot's store from another process; the bot posts the drafts."""
    server.serve("/good", rss([SEOUL, WEATHER], title="Yonhap"))
    server.routes["/bad"] = failing(500)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    env |= {
        "LAUNCHWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "LAUNCHWATCH_FEEDS_ALLOW_HOSTS": server.endpoint,
        "LAUNCHWATCH_NETWORK_HOME_GUILD": str(SANDBOX_GUILD_ID),
    }

    async def cli(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    await cli("feeds", "add", server.url("/good"), "--name", "Yonhap")
    await cli("feeds", "add", server.url("/bad"), "--name", "Broken wire")
    out = await cli("feeds", "poll", "--once")
    lines = out.strip().splitlines()
    assert lines[0] == "#1  Yonhap: 2 items, 2 new, 1 matching, 1 draft"
    assert lines[1].startswith(f"#2  Broken wire: failed: {server.url('/bad')} answered HTTP 500")
    assert lines[1].endswith("Next try in 30 min.")
    out = await cli("feeds", "poll", "--once")
    assert out.splitlines()[0] == "#1  Yonhap: 2 items, 0 new, 0 matching, 0 drafts"
    text = await listing(discord_emulator)
    assert "Last failure (2 in a row)" in text and "items: 2 (1 matched)" in text
