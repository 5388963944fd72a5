"""Drafts as the store keeps them: what the extractor proposed, waiting for a moderator.

A draft holds the event input a confirm would pass to `services.add_event` (`fields`,
already validated), the sentences it came from, its sources and, for an update draft,
the event it would change. Rows of migration 008 (`db/drafts.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.dates import PartialDate

DRAFT_KINDS = ("new", "update")
DRAFT_STATUSES = ("pending", "confirmed", "applied", "dismissed")
DRAFT_ORIGINS = ("feed", "text", "file", "url")
#: The fields the review card's Edit modal offers: the five a moderator fixes most.
EDIT_FIELDS = ("date", "category", "count", "launch_site", "summary")


@dataclass(frozen=True)
class Draft:
    id: int
    guild_id: int
    kind: str
    event_id: int | None
    status: str
    origin: str
    title: str
    fields: dict[str, Any]
    evidence: list[str]
    sources: list[dict[str, Any]]
    reactions: list[dict[str, Any]]
    occurred_on: str
    category: str
    review_channel_id: int | None
    review_message_id: int | None
    revision: int
    posted_revision: int | None
    decided_by: int | None
    decided_at: str | None
    result_event_id: int | None
    created_by: int | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Draft:
        return cls(**{k: v for k, v in row.items() if k in cls.__dataclass_fields__})

    @property
    def date(self) -> PartialDate:
        return PartialDate.parse(str(self.fields["date"]))

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True)
class Change:
    """One field an update draft would change on its event."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Review:
    """A draft as its review card shows it: for an update draft, the event and what differs."""

    draft: Draft
    changes: list[Change] = field(default_factory=list)
    event_summary: str | None = None
