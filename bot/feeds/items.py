"""The typed values the feed layer hands back: items, parsed feeds and fetch outcomes.

A fetch ends in exactly one of `Fetched`, `NotModified` or `Failed`, so a caller matches on
the type and never inspects exceptions. A `Failed` carries a `kind` to branch on (back off,
mark broken) and a `reason` a moderator can read, rendered from templates/feeds/.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.render import render

#: A key longer than this is replaced by its hash, so a store can index it.
MAX_KEY = 256


@dataclass(frozen=True)
class Validators:
    """What the server said identifies this version of the feed (for a conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as plain text: no markup survives into these fields."""

    feed_title: str
    title: str
    link: str | None
    summary: str
    published: datetime | None
    guid: str | None = None

    @property
    def key(self) -> str:
        """Identifies the item within its feed across fetches, so each is seen once: the
        guid, else the link, else a hash of the title and date. The prefix keeps a guid
        that happens to equal another item's link from colliding with it."""
        if self.guid:
            return _bounded("guid", self.guid)
        if self.link:
            return _bounded("link", self.link)
        when = self.published.isoformat() if self.published else ""
        digest = hashlib.sha256(f"{self.title}\x00{when}".encode()).hexdigest()
        return f"hash:{digest}"


def _bounded(kind: str, value: str) -> str:
    key = f"{kind}:{value}"
    if len(key) <= MAX_KEY:
        return key
    return f"{kind}-sha256:{hashlib.sha256(value.encode()).hexdigest()}"


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its own title, its items in document order, and the validators to
    send next time."""

    url: str
    title: str
    items: tuple[FeedItem, ...]
    validators: Validators = field(default_factory=Validators)


@dataclass(frozen=True)
class Fetched:
    """A 2xx answer: the body, whole and within the size cap."""

    url: str
    body: bytes
    content_type: str
    validators: Validators


@dataclass(frozen=True)
class NotModified:
    """304: the feed is unchanged since the validators were issued."""

    url: str
    validators: Validators


class FailureKind(StrEnum):
    """Why a fetch or parse failed; the caller backs off on any, and may stop at once on
    a permanent one."""

    BAD_URL = "bad_url"
    REFUSED_ADDRESS = "refused_address"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"
    HTTP_STATUS = "http_status"
    TIMEOUT = "timeout"
    TOO_BIG = "too_big"
    CONNECTION = "connection"
    TLS = "tls"
    MALFORMED = "malformed"


#: Failures that retrying will not cure: the address itself is unusable or refused.
PERMANENT = frozenset({FailureKind.BAD_URL, FailureKind.REFUSED_ADDRESS})


@dataclass(frozen=True)
class Failed:
    """A fetch or parse that produced no feed. `url` is the address that failed (a
    redirect's target when a hop failed); `detail` is what the parser, socket or address
    check reported (data shown inside the reason, not a sentence of its own)."""

    kind: FailureKind
    url: str
    status: int | None = None
    detail: str = ""
    limit: float | None = None
    retry_after: float | None = None

    @property
    def permanent(self) -> bool:
        """True when the feed should be marked broken now rather than retried."""
        return self.kind in PERMANENT or self.status == 410

    @property
    def reason(self) -> str:
        """One line for the moderator who added the feed."""
        return render("feeds/failure.j2", failure=self, kind=self.kind.value)


FetchResult = Fetched | NotModified | Failed
FeedResult = Feed | NotModified | Failed
