"""Fetched bytes to a typed `Feed`: RSS 0.9x/1.0/2.0 and Atom by feedparser, JSON Feed by
`bot.feeds.jsonfeed`.

feedparser only ever sees bytes the bot fetched, wrapped in a file object: given a URL it
would fetch it itself, around the address checks, and given bare bytes it first tries them
as a *file name* (`open(b"/etc/...")`), so a body that is a path would read a local file.
It runs in a worker thread (it is synchronous and a 5 MB feed takes a while). Its
sanitiser has already cut scripts from the HTML it returns; `html_to_text` then turns what
is left into text. Entity expansion bombs are stopped by expat itself (2.4+).

A document is MALFORMED when feedparser recognises no feed in it, or when its XML is not
well-formed and nothing usable was recovered; an ill-formed feed whose items are still
readable (a stray `&`) is accepted, as feed readers do.
"""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXException

import feedparser

from bot.feeds.items import Failed, FailureKind, Feed, FeedItem, Fetched, Validators
from bot.feeds.jsonfeed import looks_like_json, parse_json_feed
from bot.feeds.text import clip, html_to_text, tidy, web_link

_TEXT_TYPES = frozenset({"text/plain", "text"})


async def parse_feed(fetched: Fetched) -> Feed | Failed:
    """Parse a fetched body off the event loop; the feed carries the fetch's validators."""
    result = await asyncio.to_thread(parse_bytes, fetched.body, fetched.url, fetched.content_type)
    if isinstance(result, Feed):
        return Feed(result.url, result.title, result.items, fetched.validators)
    return result


def parse_bytes(body: bytes, url: str, content_type: str = "") -> Feed | Failed:
    """The feed in `body`, fetched from `url` (the base for relative links)."""
    if looks_like_json(body, content_type):
        return parse_json_feed(body, url)
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    feed = parsed.get("feed", {})
    title = clip(_field(feed, "title"), "feed_title")
    items = [_item(entry, title, url) for entry in parsed.get("entries", [])]
    items = [i for i in items if i.title or i.link or i.summary]
    if not parsed.get("version"):
        detail = _problem(problem) if problem else "no RSS or Atom document was found"
        return Failed(FailureKind.MALFORMED, url, detail=detail)
    if isinstance(problem, SAXException) and not items:
        return Failed(FailureKind.MALFORMED, url, detail=_problem(problem))
    return Feed(url=url, title=title, items=tuple(items), validators=Validators())


def _item(entry: Any, feed_title: str, base: str) -> FeedItem:
    content = entry.get("content") or []
    if entry.get("summary"):
        detail = entry.get("summary_detail") or (content[0] if content else {})
        summary = _as_text(entry["summary"], detail.get("type", ""))
    elif content:
        summary = _as_text(content[0].get("value", ""), content[0].get("type", ""))
    else:
        summary = ""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return FeedItem(
        feed_title=feed_title,
        title=clip(_field(entry, "title"), "title"),
        link=web_link(str(entry.get("link") or ""), base),
        summary=clip(summary, "summary"),
        published=_utc(stamp),
        guid=str(entry.get("id") or "").strip() or None,
    )


def _field(node: Any, name: str) -> str:
    """A text construct (title) as text, whatever type the feed declared for it."""
    detail = node.get(f"{name}_detail") or {}
    return _as_text(str(node.get(name) or ""), detail.get("type", ""))


def _as_text(value: str, kind: str) -> str:
    """feedparser leaves declared plain text as text, and everything else as (sanitised)
    HTML: only the latter has tags and entities to undo."""
    return tidy(value) if kind in _TEXT_TYPES else html_to_text(value)


def _utc(stamp: time.struct_time | None) -> datetime | None:
    """feedparser's dates are UTC struct_times."""
    if not stamp:
        return None
    try:
        return datetime(*stamp[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _problem(exc: BaseException) -> str:
    if isinstance(exc, SAXException):
        line = getattr(exc, "getLineNumber", lambda: None)()
        col = getattr(exc, "getColumnNumber", lambda: None)()
        where = f" at line {line}, column {col}" if line is not None else ""
        return f"the XML is broken ({exc.getMessage()}{where})"
    return str(exc) or type(exc).__name__
