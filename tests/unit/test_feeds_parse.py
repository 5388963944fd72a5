"""Feeds to typed items: RSS 2.0, RSS 1.0, Atom and JSON Feed 1.1 samples, item keys, and
summaries as plain text."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.feeds import Failed, FailureKind, Feed, FeedItem, Fetcher, parse_bytes, read_feed
from bot.feeds.text import html_to_text, tidy
from tests.unit.feeds_support import FIXTURES, feed_server, fixture

BASE = "https://news.example/feed.xml"


def parse(name: str, url: str = BASE, content_type: str = "") -> Feed:
    result = parse_bytes(fixture(name), url, content_type)
    assert isinstance(result, Feed), result
    return result


@pytest.mark.parametrize(
    ("name", "content_type", "title", "count"),
    [
        ("rss20.xml", "application/rss+xml", "Korea Watch & Wire", 4),
        ("rss10.xml", "application/rdf+xml", "RDF Launch Log", 2),
        ("atom.xml", "application/atom+xml", "Atom Missile Monitor", 2),
        ("jsonfeed.json", "application/feed+json", "JSON Launch Feed", 3),
    ],
)
async def test_each_format_is_read_over_http(
    name: str, content_type: str, title: str, count: int
) -> None:
    """Each format, served by a real server, becomes a titled feed of items."""
    async with feed_server() as server:
        server.serve("/feed", fixture(name), content_type)
        async with Fetcher([server.endpoint]) as fetcher:
            result = await read_feed(fetcher, server.url("/feed"))
    assert isinstance(result, Feed), result
    assert (result.title, len(result.items)) == (title, count)
    assert all(item.feed_title == title for item in result.items)


def test_rss20_items() -> None:
    """Titles, links (relative ones resolved), guids and dates in UTC."""
    first, second, third, _ = parse("rss20.xml").items
    assert first.title == "DPRK fires two ballistic missiles"
    assert first.link == "https://news.example/2024/01/25/missiles"
    assert first.guid == "kw-2024-0125"
    assert first.published == datetime(2024, 1, 25, 1, 22, tzinfo=UTC)
    assert second.link == "https://news.example/2024/02/01/satellite"
    assert second.summary == "Plain words & an ampersand"
    assert third.link is None and third.guid is None


def test_item_keys_prefer_guid_then_link_then_title_and_date() -> None:
    """Each item is keyed by its guid, else its link, else a hash of title and date."""
    first, second, third, _ = parse("rss20.xml").items
    assert first.key == "guid:kw-2024-0125"
    assert second.key == "link:https://news.example/2024/02/01/satellite"
    assert third.key.startswith("hash:")
    same = FeedItem("other feed", third.title, None, "changed text", third.published)
    assert same.key == third.key  # the summary is not part of it
    later = FeedItem("f", third.title, None, "", datetime(2024, 2, 3, tzinfo=UTC))
    assert later.key != third.key
    assert len({first.key, second.key, third.key}) == 3


def test_long_guid_key_is_bounded() -> None:
    """A key stays short enough to index, and still tells guids apart."""
    a = FeedItem("f", "t", None, "", None, guid="x" * 1000)
    b = FeedItem("f", "t", None, "", None, guid="x" * 999 + "y")
    assert len(a.key) <= 256 and a.key != b.key


def test_summary_is_plain_text() -> None:
    """HTML is reduced to its text: no tags, no script, entities decoded once. Mentions
    and Markdown stay as typed: it is text, and rendering escapes it later."""
    summary = parse("rss20.xml").items[0].summary
    assert summary == (
        "Two missiles flew 150 km.\n\n@everyone **read this** [now](https://evil.example) <@123>"
    )
    assert "<" not in summary.replace("<@123>", "") and "alert" not in summary


def test_rss10_items() -> None:
    """RSS 1.0 (RDF): rdf:about is the guid, dc:date the date."""
    icbm, rocket = parse("rss10.xml").items
    assert icbm.guid == "https://rdf.example/icbm"
    assert icbm.summary == "An ICBM flew for 73 minutes."
    assert rocket.published == datetime(2023, 7, 14, 0, 30, tzinfo=UTC)


def test_atom_items() -> None:
    """Atom: HTML titles and summaries become text; a text title keeps its angle brackets,
    which are text; content stands in for a missing summary."""
    feed = parse("atom.xml")
    first, second = feed.items
    assert first.guid == "tag:atom.example,2024:entry-1"
    assert first.link == "https://atom.example/entries/1"
    assert first.summary == "Several cruise missiles."
    assert first.published == datetime(2024, 2, 13, 23, 0, tzinfo=UTC)
    assert second.title == "Nuclear test site activity <b>not markup</b>"
    assert second.summary == "Imagery shows new tunnelling."
    assert second.published == datetime(2024, 2, 15, 10, 0, tzinfo=UTC)


def test_json_feed_items() -> None:
    """JSON Feed 1.1: summary and content_text are text, content_html is HTML; relative
    URLs resolve against the feed's address; numeric ids are kept as text."""
    one, two, three = parse("jsonfeed.json", "https://json.example/feed.json").items
    assert one.summary == "A short summary with <b>not markup</b> in plain text."
    assert one.published == datetime(2024, 4, 1, 22, 10, tzinfo=UTC)
    assert two.link == "https://json.example/posts/2"
    assert two.summary == "Satellite imagery from Sohae."
    assert (three.guid, three.key, three.summary) == (
        "3",
        "guid:3",
        "A text-only note about a rocket.",
    )
    assert three.published == datetime(2024, 4, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not valid"),
        (b'{"version": "1", "items": []}', "jsonfeed.org"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "items"),
        (b"[" * 100_000 + b"]" * 100_000, "too deeply"),
    ],
)
def test_bad_json_feed_is_malformed(body: bytes, detail: str) -> None:
    """JSON that is not a JSON Feed is a malformed feed, never an exception."""
    result = parse_bytes(body, BASE, "application/feed+json")
    assert isinstance(result, Failed) and result.kind == FailureKind.MALFORMED
    assert detail in result.detail


def test_empty_items_are_skipped() -> None:
    """An entry with no title, link or text would be keyed by the hash of nothing, and
    every such entry would collide: it is left out."""
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": ""}, 7]}'
    result = parse_bytes(body, BASE)
    assert isinstance(result, Feed) and result.items == ()


def test_non_web_links_are_dropped() -> None:
    """A javascript: or mailto: link is not kept as the item's link."""
    body = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>javascript:alert(1)</link></item>"
        b"<item><title>b</title><link>mailto:x@y.example</link></item>"
        b"</channel></rss>"
    )
    result = parse_bytes(body, BASE)
    assert isinstance(result, Feed) and [i.link for i in result.items] == [None, None]


def test_ill_formed_feed_with_readable_items_is_kept() -> None:
    """A stray `&` (common in the wild) does not throw away a feed whose items are readable."""
    body = (
        b'<rss version="2.0"><channel><title>A & B</title>'
        b"<item><title>Missile & rocket</title><link>https://x.example/1</link></item>"
        b"</channel></rss>"
    )
    result = parse_bytes(body, BASE)
    assert isinstance(result, Feed) and result.items[0].title == "Missile & rocket"


def test_body_that_is_a_file_path_is_not_read_as_a_file() -> None:
    """feedparser opens bare bytes as a file name; a server answering with the path of a
    feed on this machine gets a malformed-feed failure, not that file's items."""
    path = str(FIXTURES / "rss20.xml").encode()
    result = parse_bytes(path, BASE)
    assert isinstance(result, Failed) and result.kind == FailureKind.MALFORMED


def test_html_to_text_keeps_words_apart_and_drops_hidden_content() -> None:
    html = (
        "<div>One<br>Two</div><ul><li>a</li><li>b</li></ul><style>x{}</style>"
        "<noscript>nojs</noscript><p>caf&eacute; &amp;amp; &lt;tag&gt;</p>\x07"
    )
    assert html_to_text(html) == "One\nTwo\n\na\n\nb\n\ncafé &amp; <tag>"


@given(st.text())
def test_escaped_text_comes_back_as_the_same_text(text: str) -> None:
    """Whatever a feed escapes into HTML comes back as the text it was (spacing tidied):
    decoding happens once, and nothing that was text is taken for a tag."""
    assert html_to_text(html.escape(text)) == tidy(text)
