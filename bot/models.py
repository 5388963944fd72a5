"""The data model as plain values: what the store returns, services pass and templates render.

Each row is a dataclass whose fields carry their one annotation (`metadata=spec(...)`, see
bot/fields.py): the store's column lists, the fields moderators may edit, the fields whose
change is a correction of fact and the validator's bounds are all read from these classes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.dates import PartialDate
from bot.fields import NEW, Stored, columns, max_lengths, named, spec, specs

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
#: The columns an event's date spans (`PartialDate`: its text, precision and instant).
DATE_COLUMNS = ("occurred_on", "date_precision", "occurred_at")
#: The largest distance or altitude, in km.
MAX_KM = 100_000

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    url: str | None = field(default=None, metadata=spec(max_length=500))
    publisher: str | None = field(default=None, metadata=spec(max_length=200))
    title: str | None = field(default=None, metadata=spec(max_length=300))
    published_on: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class Event(Stored):
    """A launch event. Field order is the export's column order; a field's `spec(...)` says
    whether moderators edit it and whether its change corrects the alerts already sent."""

    id: int = NEW
    guild_id: int
    external_id: str | None = field(metadata=spec(edit=True, edit_last=True, max_length=64))
    date: PartialDate = field(
        metadata=spec(edit=True, fact=True, required=True, columns=DATE_COLUMNS)
    )
    actor: str = field(metadata=spec(edit=True, required=True, max_length=100))
    category: str = field(metadata=spec(edit=True, fact=True, required=True, choices=CATEGORIES))
    name: str | None = field(metadata=spec(edit=True, fact=True, max_length=100))
    count: int | None = field(metadata=spec(edit=True, fact=True, whole=True, low=1, high=10_000))
    platform: str | None = field(metadata=spec(edit=True, fact=True, choices=PLATFORMS))
    launch_site: str | None = field(metadata=spec(edit=True, fact=True, max_length=200))
    latitude: float | None = field(metadata=spec(edit=True, low=-90, high=90))
    longitude: float | None = field(metadata=spec(edit=True, low=-180, high=180))
    landing_area: str | None = field(metadata=spec(edit=True, fact=True, max_length=200))
    distance_km: float | None = field(metadata=spec(edit=True, fact=True, low=0, high=MAX_KM))
    #: What the launching state says it flew, beside what others assessed (`distance_km`).
    claimed_distance_km: float | None = field(
        default=None, metadata=spec(edit=True, fact=True, low=0, high=MAX_KM)
    )
    apogee_km: float | None = field(metadata=spec(edit=True, fact=True, low=0, high=MAX_KM))
    outcome: str = field(
        metadata=spec(edit=True, fact=True, required=True, blank="unknown", choices=OUTCOMES)
    )
    claimed: str | None = field(metadata=spec(edit=True, fact=True, max_length=300))
    overseen_by: str | None = field(metadata=spec(edit=True, fact=True, max_length=200))
    region: str = field(
        metadata=spec(edit=True, required=True, blank="korean-peninsula", max_length=64)
    )
    summary: str = field(metadata=spec(edit=True, required=True, max_length=2000))
    confidence: str = field(
        metadata=spec(edit=True, fact=True, required=True, blank="reported", choices=CONFIDENCES)
    )
    retraction_reason: str | None = field(metadata=spec(max_length=500))
    created_by: int | None
    created_at: str
    updated_at: str
    revision: int
    sources: tuple[Source, ...] = field(default=(), metadata=spec(fact=True, columns=()))

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
    def from_row(cls, row: Mapping[str, Any], sources: Sequence[Source] = ()) -> Event:
        """An event from its stored columns (the date from its three) and its sources."""
        date = PartialDate.from_store(row["occurred_on"], row["date_precision"], row["occurred_at"])
        kwargs = {k: row[k] for k in specs(cls) if k in row and k not in ("date", "sources")}
        return cls(date=date, sources=tuple(sources), **kwargs)

    def to_row(self) -> dict[str, Any]:
        row = super().to_row()
        del row["date"]
        at = self.date.at
        row.update(
            occurred_on=self.date.text,
            date_precision=self.date.precision,
            occurred_at=at.isoformat() if at else None,
        )
        return {c: row[c] for c in EVENT_COLUMNS}

    def as_record(self) -> dict[str, Any]:
        """The data model's field names (docs/architecture.md, "Data model"), with sources
        nested: the export and `--json` shape."""
        out: dict[str, Any] = {"id": self.id, **self.to_row()}
        if self.date.at:
            out["occurred_at"] = self.date.at.isoformat().replace("+00:00", "Z")
        out["sources"] = [s.as_dict() for s in self.sources]
        return out


#: The event's store columns, in field order (its date spans three).
EVENT_COLUMNS = columns(Event)
#: An event record's fields (`Event.as_record()`): the export's columns, in order.
EVENT_RECORD = ("id", *EVENT_COLUMNS, "sources")
#: Fields a moderator may set (`/event edit`'s choices, `validation.event`'s input), in order.
EDITABLE_FIELDS = (
    *named(Event, lambda s: s.edit and not s.edit_last),
    *named(Event, lambda s: s.edit and s.edit_last),
)
#: The revision fields (store columns, and `sources`) whose change is a correction of fact.
FACT_FIELDS = tuple(
    column
    for name, spec in specs(Event).items()
    if spec.fact
    for column in (spec.columns if spec.columns else (name,))
)
#: Event fields that take a default when an input leaves them blank.
EVENT_DEFAULTS = {name: s.blank for name, s in specs(Event).items() if s.blank is not None}


def differs(old: Any, new: Any) -> bool:
    """Whether a field's stored value (as `as_record()` gives it) and a validated one
    differ: numbers by value (`150` is `150.0`), instants by the time they name."""
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) != float(new)
    if isinstance(old, str) and old.endswith("Z") and isinstance(new, str):
        try:
            return datetime.fromisoformat(old) != datetime.fromisoformat(new)
        except ValueError:
            pass  # text that merely ends in Z, such as a name `Hwasal-Z`
    return bool(old != new)


@dataclass(frozen=True)
class Revision:
    """One changed field of an event: a row of its change log."""

    revision: int
    changed_by: int | None
    changed_at: str
    field: str
    old: str | None
    new: str | None
    event_id: int = dataclasses.field(default=NEW, kw_only=True)

    @classmethod
    def change(
        cls,
        event_id: int,
        revision: int,
        user: int | None,
        stamp: str,
        name: str,
        old: Any,
        new: Any,
    ) -> Revision:
        """A change of `name` from `old` to `new`, each as text (JSON for numbers and lists)."""

        def shown(v: Any) -> str | None:
            return None if v is None else (v if isinstance(v, str) else json.dumps(v))

        return cls(revision, user, stamp, name, shown(old), shown(new), event_id=event_id)


@dataclass(frozen=True, kw_only=True)
class Reaction(Stored):
    id: int = NEW
    guild_id: int
    event_id: int | None
    since: str | None
    until: str | None
    actor: str = field(metadata=spec(max_length=100))
    actor_kind: str = field(metadata=spec(choices=ACTOR_KINDS))
    speaker: str | None = field(metadata=spec(max_length=100))
    speaker_title: str | None = field(metadata=spec(max_length=200))
    affiliation: str | None = field(metadata=spec(max_length=200))
    stance: str = field(metadata=spec(choices=STANCES))
    summary: str = field(metadata=spec(max_length=2000))
    quote: str | None = field(metadata=spec(max_length=1500))
    said_on: str | None
    created_by: int | None
    created_at: str
    sources: tuple[Source, ...] = field(default=(), metadata=spec(columns=()))

    @classmethod
    def from_row(cls, row: Mapping[str, Any], sources: Sequence[Source] = ()) -> Reaction:
        kwargs = {k: row[k] for k in specs(cls) if k in row and k != "sources"}
        return cls(sources=tuple(sources), **kwargs)

    def as_record(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in specs(type(self)) if k != "sources"}
        out["sources"] = [s.as_dict() for s in self.sources]
        return out


@dataclass(frozen=True, kw_only=True)
class Subscription(Stored):
    id: int = NEW
    guild_id: int
    channel_id: int
    regions: list[str] = field(metadata=spec(json=True))
    categories: list[str] = field(metadata=spec(json=True))
    actors: list[str] = field(metadata=spec(json=True))
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
    # Figures `/alerts list` shows, computed from the subscription's deliveries.
    last_sent_at: str | None = field(default=None, metadata=spec(columns=()))
    failures: int = field(default=0, metadata=spec(columns=()))
    pending: int = field(default=0, metadata=spec(columns=()))
    last_failure: str | None = field(default=None, metadata=spec(columns=()))

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


@dataclass(kw_only=True)
class Delivery(Stored):
    """One message the bot owes a channel: a row of the outbox.

    Not frozen: the dispatcher keeps the row it is sending current (what earlier tries
    recorded, the first try of this one), as the store holds it."""

    id: int = NEW
    subscription_id: int
    guild_id: int
    channel_id: int
    event_id: int | None = None
    revision: int | None = None
    period: str | None = None
    kind: str
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: str
    nonce: str
    message_id: int | None = None
    last_error: str | None = None
    created_at: str
    sent_at: str | None = None
    first_attempt_at: str | None = None
    claimed_until: str | None = None

    @classmethod
    def new(
        cls,
        kind: str,
        subscription_id: int,
        guild_id: int,
        channel_id: int,
        stamp: str,
        *,
        event: Event | None = None,
        period: str | None = None,
    ) -> Delivery:
        """A pending delivery, due at `stamp`: of an event's revision (alert, correction,
        retraction), or of a period (a digest; `test:<time>` for `/alerts test`)."""
        event_id = event.id if event is not None else None
        revision = event.revision if event is not None else None
        return cls(
            subscription_id=subscription_id,
            guild_id=guild_id,
            channel_id=channel_id,
            event_id=event_id,
            revision=revision,
            period=period,
            kind=kind,
            next_attempt_at=stamp,
            nonce=delivery_nonce(subscription_id, kind, event_id, revision, period),
            created_at=stamp,
        )


def base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def delivery_nonce(
    subscription_id: int,
    kind: str,
    event_id: int | None,
    revision: int | None,
    period: str | None = None,
) -> str:
    """A nonce unique to one delivery (at most 25 characters), so a resend cannot post twice."""
    if period is not None:
        digest = hashlib.sha1(period.encode()).hexdigest()[:10]
        return f"d{base36(subscription_id)}.{digest}"[:25]
    return f"{kind[0]}{base36(subscription_id)}.{base36(event_id or 0)}.{base36(revision or 0)}"[
        :25
    ]


@dataclass(frozen=True)
class GuildSettings(Stored):
    guild_id: int
    moderator_role_ids: list[int] = field(default_factory=list, metadata=spec(json=True))
    default_actor: str | None = None
    timezone: str | None = None
    log_channel_id: int | None = None


#: Text fields' longest values, in characters (`validation.MAX_LENGTH`).
MAX_LENGTH = max_lengths(Event, Reaction, Source)


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
