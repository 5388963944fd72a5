"""Feeds: fetch RSS, Atom and JSON Feed documents safely and turn them into typed items.

    async with Fetcher(config.get("feeds", "allow_hosts")) as fetcher:
        result = await read_feed(fetcher, url, stored_validators)
    match result:
        case Feed(items=items, validators=v): ...   # keep v; new items by item.key
        case NotModified(validators=v): ...         # nothing new; keep v
        case Failed() as f: ...                     # f.kind, f.reason, f.permanent

`matches(item, terms)` says which items become drafts; `Backoff` says when to poll again
after failures and when a feed counts as broken.
"""

from bot.feeds.backoff import Backoff
from bot.feeds.fetch import Fetcher
from bot.feeds.items import (
    Failed,
    FailureKind,
    Feed,
    FeedItem,
    FeedResult,
    Fetched,
    FetchResult,
    NotModified,
    Validators,
)
from bot.feeds.parse import parse_bytes, parse_feed
from bot.feeds.read import read_feed
from bot.feeds.terms import DEFAULT_TERMS, matched_terms, matches

__all__ = [
    "DEFAULT_TERMS",
    "Backoff",
    "Failed",
    "FailureKind",
    "Feed",
    "FeedItem",
    "FeedResult",
    "FetchResult",
    "Fetched",
    "Fetcher",
    "NotModified",
    "Validators",
    "matched_terms",
    "matches",
    "parse_bytes",
    "parse_feed",
    "read_feed",
]
