"""Feeds for the feed and draft tests: RSS documents built from a few items, and wire
stories about one launch as two outlets would headline it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Story:
    guid: str
    title: str
    summary: str
    published: datetime
    link: str | None = None


def rss(stories: list[Story], title: str = "Wire") -> bytes:
    """An RSS 2.0 document with `stories` as its items."""
    items = "".join(
        "<item>"
        f"<guid>tag:news.example,2024:{escape(s.guid)}</guid><title>{escape(s.title)}</title>"
        f"<link>{escape(s.link or 'https://news.example/' + s.guid)}</link>"
        f"<description>{escape(s.summary)}</description>"
        f"<pubDate>{format_datetime(s.published)}</pubDate>"
        "</item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://news.example/</link>"
        f"<description>test</description>{items}</channel></rss>"
    ).encode()


MONDAY = datetime(2024, 3, 18, 6, 0, tzinfo=UTC)

#: One SRBM launch on Monday 18 March 2024, as two outlets report it.
SEOUL = Story(
    "seoul-1",
    "North Korea fires ballistic missile into East Sea",
    "North Korea fired a short-range ballistic missile from the Sunan area into the East Sea"
    " on Monday, South Korea's Joint Chiefs of Staff said. The missile flew about 350 km.",
    MONDAY,
)
TOKYO = Story(
    "tokyo-1",
    "N. Korea launches SRBM toward Sea of Japan",
    "Pyongyang launched a short-range ballistic missile on Monday morning, Japan's defence"
    " ministry said, landing outside Japan's exclusive economic zone.",
    MONDAY,
)
#: Matches no default watch term.
WEATHER = Story(
    "weather-1",
    "Heavy rain expected in Seoul",
    "Forecasters expect up to 80 mm of rain across the capital region on Tuesday.",
    MONDAY,
)
