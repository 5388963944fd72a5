"""JSON Feed 1.1 (and 1.0) to typed items: feedparser reads no JSON, so this is ours.

https://www.jsonfeed.org/version/1.1/: `title`, `summary` and `content_text` are plain
text; `content_html` is HTML and goes through `html_to_text`. An item's `id` is its guid
(1.0 allowed numbers; they are kept as their text). A relative `url` is resolved against
the address the feed was fetched from.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.feeds.items import Failed, FailureKind, Feed, FeedItem
from bot.feeds.text import clip, html_to_text, tidy, web_link

VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json(body: bytes, content_type: str) -> bool:
    """A JSON Feed is served as application/feed+json or application/json, or at worst
    as text whose first character opens an object (XML never starts with `{`)."""
    if "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_json_feed(body: bytes, url: str) -> Feed | Failed:
    """The feed, or MALFORMED naming what is wrong."""

    def malformed(detail: str) -> Failed:
        return Failed(FailureKind.MALFORMED, url, detail=detail)

    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return malformed("the JSON is not UTF-8")
    except ValueError as exc:
        return malformed(f"the JSON is not valid ({exc})")
    except RecursionError:
        return malformed("the JSON is nested too deeply")
    if not isinstance(data, dict):
        return malformed("the JSON is not an object")
    version = data.get("version")
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        return malformed("the JSON has no jsonfeed.org version")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        return malformed("the JSON Feed has no items list")
    title = tidy(_text(data.get("title")))
    items = [_item(raw, title, url) for raw in raw_items if isinstance(raw, dict)]
    items = [i for i in items if i.title or i.link or i.summary]  # as the XML path does
    return Feed(url=url, title=title, items=tuple(items))


def _item(raw: dict[str, Any], feed_title: str, base: str) -> FeedItem:
    ident = raw.get("id")
    guid = (
        str(ident).strip() if isinstance(ident, str | int) and not isinstance(ident, bool) else ""
    )
    if _text(raw.get("summary")):
        summary = tidy(_text(raw["summary"]))
    elif _text(raw.get("content_text")):
        summary = tidy(_text(raw["content_text"]))
    else:
        summary = html_to_text(_text(raw.get("content_html")))
    return FeedItem(
        feed_title=feed_title,
        title=clip(tidy(_text(raw.get("title"))), "title"),
        link=web_link(_text(raw.get("url")), base),
        summary=clip(summary, "summary"),
        published=_date(raw.get("date_published")) or _date(raw.get("date_modified")),
        guid=guid or None,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _date(value: Any) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
