"""Feeds a guild watches: add, pause, resume, remove, list; the watch terms; one poll.

A poll reads the feed (`bot.feeds.read_feed`, with the stored validators), records every
item it has not seen before as seen, and drafts those that match the guild's watch terms
(`bot/services/drafts.py`): each item once, whatever it matched. A failure backs the feed
off (`bot.feeds.Backoff`); a permanent one, or too many in a row, marks it broken with
the reason, which `/feeds list` shows, and it is not polled again until resumed.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot import validation
from bot.errors import NotFound, ValidationError
from bot.feeds import DEFAULT_TERMS, Backoff, Failed, Feed, FeedItem, Fetcher, matches, read_feed
from bot.feeds.models import FEED_STATES, PollReport, WatchedFeed
from bot.i18n import _
from bot.services.context import Scope, now_iso
from bot.services.drafts import Extractor, SourceInfo, rules_extractor, store_drafts
from db import Store
from db.feeds import FeedQueries

log = logging.getLogger("launchwatch.feeds")

DEFAULT_INTERVAL = 15 * 60
MIN_INTERVAL = 5 * 60
MAX_INTERVAL = 24 * 3600
MAX_FEEDS = 50
MAX_TERMS = 100
MAX_TERM_LENGTH = 60
#: New items drafted in one poll; the rest wait for the next poll (they are not marked
#: seen), so a feed's first poll or a backlog costs a bounded amount of work.
MAX_NEW_PER_POLL = 50
#: Reads the article an item links to as text (`[drafting] fetch_articles`), or None.
ArticleReader = Callable[[str], Awaitable[str | None]]

_EVERY = re.compile(r"^\s*(\d+)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)?\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str | None) -> int:
    """`15m`, `1h`, `90 min` or a bare number of minutes, as seconds, within bounds."""
    if text is None or not str(text).strip():
        return DEFAULT_INTERVAL
    m = _EVERY.match(str(text))
    if not m:
        raise ValidationError(
            "every", _("'{text}' is not a duration; write 15m, 1h or 2h.").format(text=text)
        )
    seconds = int(m[1]) * _UNITS[(m[2] or "m")[0].lower()]
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise ValidationError(
            "every", _("poll a feed at least every 24h and at most every 5m; write 15m, 1h or 2h.")
        )
    return seconds


def _url(value: str) -> str:
    url = validation.text("url", value, required=True) or ""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise ValidationError(
            "url", _("that is not a feed's web address; use one starting with https:// or http://.")
        )
    return url


# -- the feeds -------------------------------------------------------------------------------


async def add_feed(
    store: Store,
    scope: Scope,
    url: str,
    *,
    every: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
) -> WatchedFeed:
    """Watch a feed; it is polled at once, then every `every` (default 15m)."""
    address = _url(url)
    values: dict[str, Any] = {
        "guild_id": scope.guild_id,
        "url": address,
        "name": validation.text("name", name),
        "interval_s": parse_every(every),
        "state": "active",
        "failures": 0,
        "next_poll_at": now_iso(now),
        "created_by": scope.user_id,
        "created_at": now_iso(now),
    }
    async with store.transaction() as q:
        feeds = FeedQueries(q.conn)
        await q.conn.lock([f"feed:{scope.guild_id}:{address}"])
        if await feeds.feed_by_url(scope.guild_id, address) is not None:
            raise ValidationError(
                "url", _("this server already watches that feed; see /feeds list.")
            )
        if await feeds.count_feeds(scope.guild_id) >= MAX_FEEDS:
            raise ValidationError(
                "url", _("a server watches at most {count} feeds.").format(count=MAX_FEEDS)
            )
        feed_id = await feeds.insert_feed(values)
        row = await feeds.get_feed(feed_id)
    assert row is not None
    return WatchedFeed.from_row(row)


async def get_feed(store: Store, scope: Scope, feed_id: int) -> WatchedFeed:
    async with store.read() as q:
        row = await FeedQueries(q.conn).get_feed(int(feed_id))
    if row is None or row["guild_id"] != scope.guild_id:
        raise NotFound("feed", feed_id)
    return WatchedFeed.from_row(row)


async def remove_feed(store: Store, scope: Scope, feed_id: int) -> WatchedFeed:
    """Stop watching a feed and forget the items it showed (its drafts stay)."""
    feed = await get_feed(store, scope, feed_id)
    async with store.transaction() as q:
        await FeedQueries(q.conn).delete_feed(feed.id)
    return feed


async def set_feed_state(
    store: Store, scope: Scope, feed_id: int, state: str, *, now: datetime | None = None
) -> WatchedFeed:
    """Pause, or resume (active): resuming a broken feed forgets its failures and polls
    it at once."""
    if state not in ("active", "paused"):
        raise ValidationError(
            "state", _("use one of {values}.").format(values=", ".join(FEED_STATES[:2]))
        )
    feed = await get_feed(store, scope, feed_id)
    values: dict[str, Any] = {"state": state}
    if state == "active":
        values |= {"failures": 0, "broken_reason": None, "next_poll_at": now_iso(now)}
    async with store.transaction() as q:
        feeds = FeedQueries(q.conn)
        await feeds.update_feed(feed.id, values)
        row = await feeds.get_feed(feed.id)
    assert row is not None
    return WatchedFeed.from_row(row)


async def list_feeds(store: Store, scope: Scope) -> list[WatchedFeed]:
    async with store.read() as q:
        return [
            WatchedFeed.from_row(r) for r in await FeedQueries(q.conn).list_feeds(scope.guild_id)
        ]


async def active_feeds(store: Store, guild_id: int | None = None) -> list[WatchedFeed]:
    async with store.read() as q:
        return [WatchedFeed.from_row(r) for r in await FeedQueries(q.conn).active_feeds(guild_id)]


# -- watch terms -----------------------------------------------------------------------------


def _terms(text: str | Sequence[str] | None) -> list[str]:
    parts = text.split(",") if isinstance(text, str) else list(text or [])
    out: list[str] = []
    for part in parts:
        term = " ".join(str(part).replace("`", "").split())  # shown as code: no backticks
        if not term:
            continue
        if len(term) > MAX_TERM_LENGTH:
            raise ValidationError(
                "terms", _("keep each term to {count} characters.").format(count=MAX_TERM_LENGTH)
            )
        if term.casefold() not in {t.casefold() for t in out}:
            out.append(term)
    return out


async def watch_terms(store: Store, guild_id: int) -> tuple[list[str], bool]:
    """The guild's watch terms, and whether they are the default list."""
    async with store.read() as q:
        own = await FeedQueries(q.conn).watch_terms(guild_id)
    return (list(DEFAULT_TERMS), True) if own is None else (own, False)


async def change_watch_terms(
    store: Store,
    scope: Scope,
    *,
    add: str | Sequence[str] | None = None,
    remove: str | Sequence[str] | None = None,
    reset: bool = False,
) -> tuple[list[str], bool]:
    """Add or remove terms (comma-separated), or go back to the default list."""
    adding, removing = _terms(add), {t.casefold() for t in _terms(remove)}
    async with store.transaction() as q:
        feeds = FeedQueries(q.conn)
        if reset:
            await feeds.set_watch_terms(scope.guild_id, None)
            return list(DEFAULT_TERMS), True
        current = await feeds.watch_terms(scope.guild_id)
        terms = list(DEFAULT_TERMS) if current is None else current
        terms = [t for t in terms if t.casefold() not in removing]
        terms += [t for t in adding if t.casefold() not in {x.casefold() for x in terms}]
        if len(terms) > MAX_TERMS:
            raise ValidationError(
                "terms", _("a server watches at most {count} terms.").format(count=MAX_TERMS)
            )
        if not terms:
            raise ValidationError(
                "terms",
                _(
                    "that would leave no term, and no item would be drafted; pause the feeds "
                    "instead."
                ),
            )
        await feeds.set_watch_terms(scope.guild_id, terms)
        return terms, False


# -- polling ---------------------------------------------------------------------------------


async def poll_feed(
    store: Store,
    fetcher: Fetcher,
    feed_id: int,
    *,
    backoff: Backoff | None = None,
    extractor: Extractor = rules_extractor,
    article: ArticleReader | None = None,
    now: datetime | None = None,
) -> PollReport:
    """Poll one feed once: store its new items as seen, draft the ones that match."""
    async with store.read() as q:
        row = await FeedQueries(q.conn).get_feed(int(feed_id))
    if row is None:
        raise NotFound("feed", feed_id)
    feed = WatchedFeed.from_row(row)
    if feed.state != "active":
        return PollReport(feed, "skipped")
    policy = dataclasses.replace(backoff or Backoff(), interval=float(feed.interval_s))
    result = await read_feed(fetcher, feed.url, feed.validators)
    when = now or datetime.now(UTC)
    if isinstance(result, Failed):
        return await _failed(store, feed, result, policy, when)
    if not isinstance(result, Feed):  # NotModified
        return PollReport(await _succeeded(store, feed, result.validators.etag,
                                           result.validators.last_modified, when), "unchanged")  # fmt: skip
    report = await _read_items(store, feed, result, extractor, article, when)
    feed = await _succeeded(
        store, feed, result.validators.etag, result.validators.last_modified, when
    )
    return dataclasses.replace(report, feed=feed)


async def _read_items(
    store: Store,
    feed: WatchedFeed,
    doc: Feed,
    extractor: Extractor,
    article: ArticleReader | None,
    now: datetime,
) -> PollReport:
    terms, _default = await watch_terms(store, feed.guild_id)
    items = list({i.key: i for i in reversed(doc.items)}.values())[::-1]  # first of each key
    async with store.read() as q:
        seen = await FeedQueries(q.conn).seen_keys(feed.id, [i.key for i in items])
    fresh = [i for i in items if i.key not in seen][:MAX_NEW_PER_POLL]
    scope = Scope(feed.guild_id)
    stamp = now_iso(now)
    new = matched = 0
    drafted: list[int] = []
    for item in fresh:
        hit = matches(item, terms)
        found = None
        if hit:
            try:
                text = await _item_text(item, article)
                day = (item.published or now).astimezone(UTC).date()
                found = await extractor(text, day)
            except Exception:
                log.exception(
                    "drafting item %s of feed %s failed; it is kept as seen", item.key, feed.id
                )
        async with store.transaction() as q:
            if not await FeedQueries(q.conn).mark_seen(feed.id, item.key, item.title, hit, stamp):
                continue  # another poll of this feed read it first
            new += 1
            matched += int(hit)
            if found is not None:
                source = SourceInfo(
                    url=item.link,
                    title=item.title or None,
                    publisher=feed.name or doc.title or None,
                    published_on=item.published.date().isoformat() if item.published else None,
                )
                drafted += await store_drafts(
                    q, scope, found, origin="feed", source=source, title=item.title, now=now
                )
    return PollReport(feed, "new", len(items), new, matched, list(dict.fromkeys(drafted)))


async def _item_text(item: FeedItem, article: ArticleReader | None) -> str:
    """What is drafted from an item: its linked article when fetching them is on and it
    can be read, else its title and summary."""
    if article is not None and item.link:
        text = await article(item.link)
        if text:
            return f"{item.title}\n\n{text}"
    return f"{item.title}\n\n{item.summary}"


async def _succeeded(
    store: Store, feed: WatchedFeed, etag: str | None, modified: str | None, now: datetime
) -> WatchedFeed:
    values = {
        "failures": 0,
        "last_error": None,
        "last_polled_at": now_iso(now),
        "last_success_at": now_iso(now),
        "etag": etag,
        "last_modified": modified,
        "next_poll_at": now_iso(now + timedelta(seconds=feed.interval_s)),
    }
    return await _update(store, feed, values)


async def _failed(
    store: Store, feed: WatchedFeed, failure: Failed, backoff: Backoff, now: datetime
) -> PollReport:
    failures = feed.failures + 1
    reason = failure.reason
    broken = failure.permanent or backoff.broken(failures)
    delay = backoff.delay(failures, failure.retry_after)
    values: dict[str, Any] = {
        "failures": failures,
        "last_error": reason,
        "last_polled_at": now_iso(now),
        "next_poll_at": now_iso(now + timedelta(seconds=delay)),
    }
    if broken:
        values |= {"state": "broken", "broken_reason": reason, "next_poll_at": None}
    log.info("feed %s failed (%d in a row): %s", feed.id, failures, reason)
    updated = await _update(store, feed, values)
    return PollReport(
        updated,
        "broken" if broken else "failed",
        failure=failure,
        retry_in=None if broken else delay,
    )


async def _update(store: Store, feed: WatchedFeed, values: dict[str, Any]) -> WatchedFeed:
    async with store.transaction() as q:
        feeds = FeedQueries(q.conn)
        if await feeds.get_feed_for_update(feed.id) is None:
            return feed  # removed while it was polled
        await feeds.update_feed(feed.id, values)
        row = await feeds.get_feed(feed.id)
    return WatchedFeed.from_row(row) if row is not None else feed


async def poll_all(
    store: Store,
    fetcher: Fetcher,
    guild_id: int | None = None,
    *,
    backoff: Backoff | None = None,
    extractor: Extractor = rules_extractor,
    article: ArticleReader | None = None,
    now: datetime | None = None,
) -> list[PollReport]:
    """Poll every active feed (of one guild) once, one after another: `feeds poll --once`."""
    reports = []
    for feed in await active_feeds(store, guild_id):
        reports.append(
            await poll_feed(
                store, fetcher, feed.id, backoff=backoff, extractor=extractor, article=article,
                now=now,
            )
        )  # fmt: skip
    return reports
