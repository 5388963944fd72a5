"""Feeds a guild watches (`/feeds …`, `feeds poll --once`): storing them, the watch terms,
and one poll against a real HTTP server on loopback: each item seen once, only matching
items drafted, failures backed off and a failing feed marked broken with its reason."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.drafting import Drafts
from bot.drafting.articles import fetch_article
from bot.errors import NotFound, ValidationError
from bot.feeds import DEFAULT_TERMS, Backoff, Fetcher
from bot.services import Scope
from bot.services.context import now_iso
from bot.services.drafts import list_drafts, rules_extractor
from bot.services.feeds import (
    add_feed,
    change_watch_terms,
    list_feeds,
    parse_every,
    poll_all,
    poll_feed,
    remove_feed,
    set_feed_state,
    watch_terms,
)
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD
from tests.unit.drafts_support import SEOUL, TOKYO, WEATHER, Story, rss
from tests.unit.feeds_support import FeedServer, feed_server

NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)
OTHER = Scope(OTHER_GUILD, MODERATOR + 1)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


@pytest.fixture
async def fetcher(server: FeedServer) -> AsyncIterator[Fetcher]:
    async with Fetcher([server.endpoint]) as f:
        yield f


async def seen(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall("SELECT item_key, matched FROM feed_item ORDER BY item_key")


class TestFeeds:
    async def test_add_lists_the_feed_with_its_interval_and_no_polls_yet(
        self, store: Store, scope: Scope
    ) -> None:
        feed = await add_feed(store, scope, "https://news.example/rss", every="1h", name="Wire")
        assert (feed.guild_id, feed.url, feed.name, feed.interval_s) == (
            GUILD, "https://news.example/rss", "Wire", 3600,
        )  # fmt: skip
        assert (feed.state, feed.failures, feed.items, feed.last_success_at) == (
            "active", 0, 0, None,
        )  # fmt: skip
        assert await list_feeds(store, scope) == [feed]
        assert await list_feeds(store, OTHER) == []

    @pytest.mark.parametrize(
        ("url", "field"),
        [("ftp://news.example/rss", "url"), ("not a url", "url"), ("https:///rss", "url")],
    )
    async def test_an_address_that_is_not_a_web_feed_is_refused(
        self, store: Store, scope: Scope, url: str, field: str
    ) -> None:
        with pytest.raises(ValidationError) as refused:
            await add_feed(store, scope, url)
        assert refused.value.field == field
        assert await list_feeds(store, scope) == []

    async def test_the_same_feed_twice_is_refused(self, store: Store, scope: Scope) -> None:
        await add_feed(store, scope, "https://news.example/rss")
        with pytest.raises(ValidationError, match="already watches"):
            await add_feed(store, scope, "https://news.example/rss")
        await add_feed(store, OTHER, "https://news.example/rss")  # another server may

    @pytest.mark.parametrize(
        ("text", "seconds"),
        [(None, 900), ("15m", 900), ("2h", 7200), ("90 min", 5400), ("30", 1800)],
    )
    def test_every_reads_minutes_and_hours(self, text: str | None, seconds: int) -> None:
        assert parse_every(text) == seconds

    @pytest.mark.parametrize("text", ["1m", "2d", "soon", "-5m"])
    def test_every_outside_five_minutes_to_a_day_is_refused(self, text: str) -> None:
        with pytest.raises(ValidationError) as refused:
            parse_every(text)
        assert refused.value.field == "every"

    async def test_pause_resume_and_remove_act_on_the_guilds_own_feed_only(
        self, store: Store, scope: Scope
    ) -> None:
        feed = await add_feed(store, scope, "https://news.example/rss")
        with pytest.raises(NotFound):
            await set_feed_state(store, OTHER, feed.id, "paused")
        assert (await set_feed_state(store, scope, feed.id, "paused")).state == "paused"
        assert (await set_feed_state(store, scope, feed.id, "active")).state == "active"
        with pytest.raises(NotFound):
            await remove_feed(store, OTHER, feed.id)
        await remove_feed(store, scope, feed.id)
        assert await list_feeds(store, scope) == []


class TestWatchTerms:
    async def test_a_guild_starts_with_the_default_list(self, store: Store, scope: Scope) -> None:
        assert await watch_terms(store, GUILD) == (list(DEFAULT_TERMS), True)

    async def test_adding_and_removing_edit_the_guilds_own_copy(
        self, store: Store, scope: Scope
    ) -> None:
        terms, default = await change_watch_terms(
            store, scope, add="Hwasong, Sohae", remove="satellite, ROCKET"
        )
        assert not default
        assert "Hwasong" in terms and "Sohae" in terms
        assert "satellite" not in terms and "rocket" not in terms
        assert await watch_terms(store, GUILD) == (terms, False)
        assert await watch_terms(store, OTHER_GUILD) == (list(DEFAULT_TERMS), True)
        assert await change_watch_terms(store, scope, reset=True) == (list(DEFAULT_TERMS), True)

    async def test_removing_every_term_is_refused(self, store: Store, scope: Scope) -> None:
        with pytest.raises(ValidationError, match="no term"):
            await change_watch_terms(store, scope, remove=", ".join(DEFAULT_TERMS))


class TestPoll:
    async def test_matching_items_are_drafted_and_every_item_is_seen_once(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        """A poll drafts what matches the watch terms and records the rest as seen; the
        next poll of the same document drafts nothing new."""
        server.serve("/rss", rss([SEOUL, WEATHER], title="Yonhap"))
        feed = await add_feed(store, scope, server.url("/rss"))

        report = await poll_feed(store, fetcher, feed.id, now=NOW)

        assert (report.outcome, report.items, report.new, report.matched) == ("new", 2, 2, 1)
        drafts = await list_drafts(store, scope)
        assert len(drafts) == 1 and report.drafts == [drafts[0].id]
        (d,) = drafts
        assert (d.category, d.occurred_on, d.origin) == ("srbm", "2024-03-18", "feed")
        assert d.sources == [
            {
                "url": "https://news.example/seoul-1",
                "publisher": "Yonhap",
                "title": SEOUL.title,
                "published_on": "2024-03-18",
            }
        ]
        assert any("Sunan" in s for s in d.evidence)
        assert await seen(store) == [
            {"item_key": "guid:tag:news.example,2024:seoul-1", "matched": 1},
            {"item_key": "guid:tag:news.example,2024:weather-1", "matched": 0},
        ]
        assert (report.feed.items, report.feed.last_success_at) == (2, now_iso(NOW))

        again = await poll_feed(store, fetcher, feed.id, now=NOW + timedelta(minutes=15))
        assert (again.outcome, again.new, again.drafts) == ("new", 0, [])
        assert len(await list_drafts(store, scope)) == 1

    async def test_the_guilds_own_terms_decide_what_is_drafted(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        await change_watch_terms(store, scope, add="rain")
        await change_watch_terms(
            store, scope, remove=", ".join(t for t in DEFAULT_TERMS if t != "rain")
        )
        server.serve("/rss", rss([SEOUL, WEATHER]))
        feed = await add_feed(store, scope, server.url("/rss"))
        report = await poll_feed(store, fetcher, feed.id, now=NOW)
        assert (report.new, report.matched) == (2, 1)
        assert await seen(store) == [
            {"item_key": "guid:tag:news.example,2024:seoul-1", "matched": 0},
            {"item_key": "guid:tag:news.example,2024:weather-1", "matched": 1},
        ]
        assert await list_drafts(store, scope) == []  # the launch matched no term of theirs

    async def test_a_seen_item_is_not_read_again(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        """The next poll skips what was seen before drafting anything: the extractor is not
        asked again (a feed keeps old items for weeks)."""
        read: list[str] = []

        async def counting(text: str, published: date) -> Drafts:
            read.append(text)
            return await rules_extractor(text, published)

        server.serve("/rss", rss([SEOUL, WEATHER]))
        feed = await add_feed(store, scope, server.url("/rss"))
        await poll_feed(store, fetcher, feed.id, extractor=counting, now=NOW)
        assert len(read) == 1
        server.serve("/rss", rss([SEOUL, TOKYO, WEATHER]))
        again = await poll_feed(store, fetcher, feed.id, extractor=counting, now=NOW)
        assert (again.new, len(read)) == (1, 2) and read[1].startswith(TOKYO.title)

    async def test_with_fetch_articles_an_item_is_drafted_from_its_page(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        """The summary says little; the linked page, fetched by the bot, says the rest."""
        page = (
            "<html><body><nav>Home</nav><article><h1>North Korea fires missiles</h1><p>"
            + SEOUL.summary
            + "</p><p>Officials said the launch came hours before joint drills began, and"
            " that the missile reached an altitude of about 50 km.</p></article></body></html>"
        )
        server.serve("/story", page.encode(), content_type="text/html")
        brief = Story("brief-1", "North Korea fires missiles", "More soon.", SEOUL.published,
                      link=server.url("/story"))  # fmt: skip
        server.serve("/rss", rss([brief]))
        feed = await add_feed(store, scope, server.url("/rss"))

        async def article(url: str) -> str | None:
            text = await fetch_article(fetcher, url)
            return text if isinstance(text, str) else None

        await poll_feed(store, fetcher, feed.id, article=article, now=NOW)
        (d,) = await list_drafts(store, scope)
        assert (d.fields["launch_site"], d.fields["distance_km"]) == ("Sunan", 350)
        assert d.sources[0]["url"] == server.url("/story")

    async def test_two_polls_at_once_draft_an_item_once(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        """Both polls read the item as new (the bot's job and `feeds poll --once`); the
        first to record it as seen drafts it, the other drops its draft."""
        both = asyncio.Event()
        arrived = 0

        async def slow(text: str, published: date) -> Drafts:
            nonlocal arrived
            arrived += 1
            if arrived == 2:
                both.set()
            await both.wait()
            return await rules_extractor(text, published)

        server.serve("/rss", rss([SEOUL]))
        feed = await add_feed(store, scope, server.url("/rss"))
        first, second = await asyncio.gather(
            poll_feed(store, fetcher, feed.id, extractor=slow, now=NOW),
            poll_feed(store, fetcher, feed.id, extractor=slow, now=NOW),
        )
        assert sorted([first.new, second.new]) == [0, 1]
        assert len(await list_drafts(store, scope)) == 1

    async def test_two_outlets_reporting_one_launch_make_one_draft_with_both_sources(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        server.serve("/seoul", rss([SEOUL], title="Yonhap"))
        server.serve("/tokyo", rss([TOKYO], title="NHK"))
        await add_feed(store, scope, server.url("/seoul"))
        await add_feed(store, scope, server.url("/tokyo"))

        reports = await poll_all(store, fetcher, GUILD, now=NOW)

        (d,) = await list_drafts(store, scope)
        assert [r.drafts for r in reports] == [[d.id], [d.id]]
        assert [s["publisher"] for s in d.sources] == ["Yonhap", "NHK"]
        assert d.fields["launch_site"] == "Sunan"  # the first account's facts stay
        assert len(d.evidence) >= 2 and d.revision == 2

    async def test_etag_makes_the_next_poll_a_304(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        body = rss([SEOUL])

        async def handler(request: web.Request) -> web.Response:
            if request.headers.get("If-None-Match") == '"v1"':
                return web.Response(status=304, headers={"ETag": '"v1"'})
            return web.Response(
                body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'}
            )

        server.routes["/rss"] = handler
        feed = await add_feed(store, scope, server.url("/rss"))
        assert (await poll_feed(store, fetcher, feed.id, now=NOW)).feed.etag == '"v1"'
        again = await poll_feed(store, fetcher, feed.id, now=NOW + timedelta(minutes=15))
        assert again.outcome == "unchanged"
        assert again.feed.last_success_at == now_iso(NOW + timedelta(minutes=15))

    async def test_failures_back_off_then_mark_the_feed_broken_with_the_reason(
        self, store: Store, scope: Scope, server: FeedServer, fetcher: Fetcher
    ) -> None:
        async def failing(request: web.Request) -> web.Response:
            return web.Response(status=500, reason="Internal Server Error")

        server.routes["/rss"] = failing
        feed = await add_feed(store, scope, server.url("/rss"), every="15m")
        policy = Backoff(broken_after=3)

        first = await poll_feed(store, fetcher, feed.id, backoff=policy, now=NOW)
        assert (first.outcome, first.feed.failures, first.retry_in) == ("failed", 1, 1800)
        assert first.feed.state == "active"
        assert first.feed.last_error is not None and "HTTP 500" in first.feed.last_error
        assert first.feed.next_poll_at == now_iso(NOW + timedelta(seconds=1800))
        second = await poll_feed(store, fetcher, feed.id, backoff=policy, now=NOW)
        assert (second.outcome, second.retry_in) == ("failed", 3600)
        third = await poll_feed(store, fetcher, feed.id, backoff=policy, now=NOW)
        assert third.outcome == "broken" and third.feed.state == "broken"
        assert third.feed.broken_reason is not None and "HTTP 500" in third.feed.broken_reason
        assert (await poll_feed(store, fetcher, feed.id, now=NOW)).outcome == "skipped"

        resumed = await set_feed_state(store, scope, feed.id, "active", now=NOW)
        assert (resumed.failures, resumed.broken_reason) == (0, None)

    async def test_a_private_address_breaks_the_feed_at_once(
        self, store: Store, scope: Scope, server: FeedServer
    ) -> None:
        """A refused address will not get better: broken on the first try, never fetched."""
        server.serve("/rss", rss([SEOUL]))
        feed = await add_feed(store, scope, server.url("/rss"))
        async with Fetcher() as strict:  # the server's endpoint is not allowed here
            report = await poll_feed(store, strict, feed.id, now=NOW)
        assert report.outcome == "broken"
        assert report.feed.broken_reason is not None
        assert "is not a public internet address" in report.feed.broken_reason
        assert server.requests == []
