"""The feeds a guild watches, as the store keeps them: typed rows for services and templates.

The feed library itself (fetching, parsing, terms) stores nothing; these are the rows of
migration 008 (`db/feeds.py`), read by `bot/services/feeds.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.feeds.items import Failed, Validators

FEED_STATES = ("active", "paused", "broken")


@dataclass(frozen=True)
class WatchedFeed:
    """One feed a guild polls, with what its polls have found so far."""

    id: int
    guild_id: int
    url: str
    name: str | None
    interval_s: int
    state: str
    broken_reason: str | None
    etag: str | None
    last_modified: str | None
    failures: int
    last_error: str | None
    last_polled_at: str | None
    last_success_at: str | None
    next_poll_at: str | None
    created_by: int | None
    created_at: str
    items: int = 0  # items seen
    matched: int = 0  # of which matched the watch terms

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WatchedFeed:
        return cls(**{k: v for k, v in row.items() if k in cls.__dataclass_fields__})

    @property
    def label(self) -> str:
        """What a person calls it: its name, else its address."""
        return self.name or self.url

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.last_modified)


@dataclass(frozen=True)
class PollReport:
    """What one poll of one feed did: read by `feeds poll --once` and the poller's log."""

    feed: WatchedFeed
    #: "new" (items read), "unchanged" (304), "failed" (will retry), "broken", "skipped"
    outcome: str
    items: int = 0  # items in the document
    new: int = 0  # items not seen before
    matched: int = 0  # of the new ones, those matching the watch terms
    drafts: list[int] = field(default_factory=list)  # ids of drafts made or merged into
    failure: Failed | None = None
    retry_in: float | None = None  # seconds until the next try, after a failure
