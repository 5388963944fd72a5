"""An article's text from bytes the bot fetched: trafilatura's main-content extraction.

trafilatura could fetch a page itself; it is never handed a URL. The bot fetches with the
feeds' safe `Fetcher` (addresses checked at every hop, a deadline, a size cap) and gives
trafilatura the bytes, so an article link cannot reach a private address.
"""

from __future__ import annotations

import asyncio

import trafilatura

from bot.feeds import Failed, FailureKind, Fetched, Fetcher
from bot.feeds.text import tidy

#: A page whose main text is shorter than this is not an article (a cookie wall, an index).
MIN_TEXT = 80


def html_text(body: bytes) -> str | None:
    """The main text of an HTML page, or None when it holds no article."""
    text = trafilatura.extract(
        body, include_comments=False, include_tables=True, favor_precision=True
    )
    if not text:
        return None
    text = tidy(text)
    return text if len(text) >= MIN_TEXT else None


async def fetch_article(fetcher: Fetcher, url: str) -> str | Failed:
    """The article at `url` as text, or why it could not be read."""
    fetched = await fetcher.fetch(url)
    if not isinstance(fetched, Fetched):
        if isinstance(fetched, Failed):
            return fetched
        return Failed(FailureKind.HTTP_STATUS, url, status=304)
    text = await asyncio.to_thread(html_text, fetched.body)
    if text is None:
        return Failed(FailureKind.MALFORMED, fetched.url, detail="no article text was found")
    return text
