"""The data model as plain values: what services return and templates render."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.dates import PartialDate

CATEGORIES = (
    "cruise_missile", "srbm", "mrbm", "irbm", "icbm", "slbm", "hypersonic", "space_launch",
    "nuclear_test", "artillery", "unknown", "other",
)  # fmt: skip
PLATFORMS = ("ground", "tel", "submarine", "ship", "aircraft", "silo")
OUTCOMES = ("success", "failure", "unknown")
CONFIDENCES = ("disputed", "reported", "confirmed", "retracted")
CONFIDENCE_RANK = {"disputed": 0, "reported": 1, "confirmed": 2}
ACTOR_KINDS = ("government", "military", "international_org", "analyst")
STANCES = ("condemns", "concerned", "monitoring", "no_comment", "supports", "assessment")
MODES = ("instant", "digest", "both")
DIGEST_EVERY = ("daily", "weekly")
SUBSCRIPTION_STATES = ("active", "paused", "broken")
DELIVERY_KINDS = ("alert", "correction", "retraction", "digest")

#: Fields whose change is a correction of fact (docs/architecture.md, "Correct or retract").
FACT_FIELDS = (
    "occurred_on", "occurred_at", "date_precision", "category", "name", "count", "platform",
    "launch_site", "landing_area", "distance_km", "apogee_km", "outcome", "claimed",
    "overseen_by", "confidence", "sources",
)  # fmt: skip

#: Fields a moderator may edit one at a time (`/event edit`, `edit_event`).
EDITABLE_FIELDS = (
    "date", "actor", "category", "name", "count", "platform", "launch_site", "latitude",
    "longitude", "landing_area", "distance_km", "apogee_km", "outcome", "claimed",
    "overseen_by", "region", "summary", "confidence", "external_id",
)  # fmt: skip

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    url: str | None = None
    publisher: str | None = None
    title: str | None = None
    published_on: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Event:
    id: int
    guild_id: int
    external_id: str | None
    date: PartialDate
    actor: str
    category: str
    name: str | None
    count: int | None
    platform: str | None
    launch_site: str | None
    latitude: float | None
    longitude: float | None
    landing_area: str | None
    distance_km: float | None
    apogee_km: float | None
    outcome: str
    claimed: str | None
    overseen_by: str | None
    region: str
    summary: str
    confidence: str
    retraction_reason: str | None
    created_by: int | None
    created_at: str
    updated_at: str
    revision: int
    sources: tuple[Source, ...] = ()

    @property
    def occurred_on(self) -> str:
        return self.date.text

    @property
    def date_precision(self) -> str:
        return self.date.precision

    @property
    def occurred_at(self) -> datetime | None:
        return self.date.at

    @property
    def retracted(self) -> bool:
        return self.confidence == "retracted"

    @classmethod
    def from_row(cls, row: dict[str, Any], sources: list[dict[str, Any]] | None = None) -> Event:
        date = PartialDate.from_store(row["occurred_on"], row["date_precision"], row["occurred_at"])
        skip = {"occurred_on", "date_precision", "occurred_at"}
        kwargs = {k: v for k, v in row.items() if k not in skip and k in _EVENT_ATTRS}
        return cls(date=date, sources=tuple(Source(**s) for s in sources or ()), **kwargs)

    def as_record(self) -> dict[str, Any]:
        """The data model's field names (docs/architecture.md, "Data model"), with sources
        nested: the export and `--json` shape."""
        out: dict[str, Any] = {
            "id": self.id,
            "guild_id": self.guild_id,
            "external_id": self.external_id,
        }
        out["occurred_on"] = self.date.text
        out["date_precision"] = self.date.precision
        out["occurred_at"] = (
            self.date.at.isoformat().replace("+00:00", "Z") if self.date.at else None
        )
        for name in _EVENT_ATTRS:
            if name not in out:
                out[name] = getattr(self, name)
        out["sources"] = [s.as_dict() for s in self.sources]
        return out


_EVENT_ATTRS = tuple(f for f in Event.__dataclass_fields__ if f not in ("date", "sources"))


@dataclass(frozen=True)
class Revision:
    revision: int
    changed_by: int | None
    changed_at: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Reaction:
    id: int
    guild_id: int
    event_id: int | None
    since: str | None
    until: str | None
    actor: str
    actor_kind: str
    speaker: str | None
    speaker_title: str | None
    affiliation: str | None
    stance: str
    summary: str
    quote: str | None
    said_on: str | None
    created_by: int | None
    created_at: str
    sources: tuple[Source, ...] = ()

    @classmethod
    def from_row(cls, row: dict[str, Any], sources: list[dict[str, Any]] | None = None) -> Reaction:
        kwargs = {k: v for k, v in row.items() if k in cls.__dataclass_fields__ and k != "sources"}
        return cls(sources=tuple(Source(**s) for s in sources or ()), **kwargs)

    def as_record(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "sources"}
        out["sources"] = [s.as_dict() for s in self.sources]
        return out


@dataclass(frozen=True)
class Subscription:
    id: int
    guild_id: int
    channel_id: int
    regions: list[str]
    categories: list[str]
    actors: list[str]
    min_confidence: str
    mention_role_id: int | None
    mode: str
    digest_every: str
    digest_time: str
    timezone: str
    last_digest_at: str | None
    state: str
    broken_reason: str | None
    created_by: int | None
    created_at: str
    last_sent_at: str | None = None
    failures: int = 0
    pending: int = 0
    last_failure: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscription:
        return cls(**{k: v for k, v in row.items() if k in cls.__dataclass_fields__})

    def matches(self, event: Event) -> bool:
        """Would this subscription alert on the event? Empty filters match everything."""
        if event.retracted:
            return False
        if self.categories and event.category not in self.categories:
            return False
        if self.regions and event.region.lower() not in {r.lower() for r in self.regions}:
            return False
        if self.actors and event.actor.lower() not in {a.lower() for a in self.actors}:
            return False
        return CONFIDENCE_RANK[event.confidence] >= CONFIDENCE_RANK[self.min_confidence]


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    moderator_role_ids: list[int] = field(default_factory=list)
    default_actor: str | None = None
    timezone: str | None = None
    log_channel_id: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paged answer: its items, the 0-based page number and the total count."""

    items: list[T]
    page: int
    per_page: int
    total: int
    #: The count stopped at `total`: there are more (shown as "1000+").
    more: bool = False

    @property
    def pages(self) -> int:
        """Pages known; one more when the count stopped early, so Next stays on."""
        return max(1, -(-self.total // self.per_page)) + (1 if self.more else 0)

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 0
