"""One poll of one feed: fetch, then parse what came back."""

from __future__ import annotations

from bot.feeds.fetch import Fetcher
from bot.feeds.items import Failed, FeedResult, Fetched, NotModified, Validators
from bot.feeds.parse import parse_feed


async def read_feed(fetcher: Fetcher, url: str, validators: Validators | None = None) -> FeedResult:
    """The feed's items and new validators, `NotModified`, or `Failed` with a reason.
    Store the validators of a `Feed` or `NotModified` and pass them next time."""
    fetched = await fetcher.fetch(url, validators)
    if isinstance(fetched, NotModified | Failed):
        return fetched
    assert isinstance(fetched, Fetched)
    return await parse_feed(fetched)
