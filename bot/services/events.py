"""Launch events: add, edit, retract, source, read; and the outbox rows these changes owe.

Every write happens in one transaction with the delivery rows it creates
(docs/architecture.md, "Add an event"), so an alert is queued exactly when its event is
committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import validation
from bot.dates import PartialDate, since_bound, until_bound
from bot.errors import AlreadyRecorded, Forbidden, NotFound, ValidationError
from bot.i18n import _
from bot.models import EVENT_COLUMNS, Delivery, Event, Page, Revision, Source, differs
from bot.services.context import Scope, now_iso
from bot.services.settings import get_settings
from db import Queries, Store
from db.events import EventFilter

PER_PAGE = 10
DEFAULT_WINDOW_DAYS = 30
#: A timeline counts its events up to here; past it the header says "1000+".
COUNT_CAP = 1000
#: The revision field of an import's note: `old` names the event field, `new` holds the
#: file's text for it (`between 25 and 90 km`), shown in /launch's change log.
IMPORT_NOTE = "import_note"


@dataclass(frozen=True)
class TimelineFilter:
    since: PartialDate | None = None
    until: PartialDate | None = None
    category: str | None = None
    actor: str | None = None
    region: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.since, self.until, self.category, self.actor, self.region))

    def to_query(self, scope: Scope) -> EventFilter:
        return EventFilter(
            guild_ids=scope.visible_guilds,
            since=since_bound(self.since) if self.since else None,
            until=until_bound(self.until) if self.until else None,
            category=validation.enum("category", self.category),
            actor=self.actor,
            region=self.region,
        )


async def _visible(q: Queries, scope: Scope, event_id: int, *, lock: bool = False) -> Event:
    """The event if the scope may see it; with `lock`, locked for a change (see `_owned`)."""
    read = q.events.get_for_update if lock else q.events.get
    event = await read(int(event_id))
    if event is None or not scope.can_see(event.guild_id):
        raise NotFound("event", event_id)
    return event


async def _owned(q: Queries, scope: Scope, event_id: int) -> Event:
    """The scope's own event, about to be changed. Its row stays locked until the
    transaction ends, so two moderators (or processes) changing it at once take turns,
    each building on the revision the other left, never both on the same one."""
    event = await _visible(q, scope, event_id, lock=True)
    if event.guild_id != scope.guild_id:
        raise Forbidden(
            _("This event belongs to another server's feed; only its moderators can change it.")
        )
    return event


async def get_event(store: Store, scope: Scope, event_id: int) -> Event:
    async with store.read() as q:
        return await _visible(q, scope, event_id)


async def add_event(
    store: Store,
    scope: Scope,
    raw: Mapping[str, Any],
    *,
    alert: bool = True,
    now: datetime | None = None,
    twin_window: timedelta | None = None,
) -> Event:
    """Validate and store a new event, queueing an alert for each matching subscription.

    With `twin_window`, an event of the same guild, date, category and summary recorded
    that recently is not stored again (`AlreadyRecorded`): a moderator whose first answer
    was slow retries, and the retry must not make a second launch."""
    raw = dict(raw)
    if validation._blank(raw.get("actor")):
        settings = await get_settings(store, scope.guild_id)
        raw["actor"] = settings.default_actor or "DPRK"
    validated = validation.event(raw, now=now)
    since = now_iso((now or datetime.now(UTC)) - twin_window) if twin_window else None
    events = await insert_validated(
        store, scope, [validated], alert=alert, now=now, twin_since=since
    )
    return events[0]


async def add_events(
    store: Store,
    scope: Scope,
    raws: Sequence[Mapping[str, Any]],
    *,
    alert: bool = True,
    now: datetime | None = None,
) -> list[Event]:
    """Many new events in one transaction (imports): all are stored, or none.

    Every row is validated before anything is written, and the subscriptions are read
    once, so a large import costs a few statements per event rather than a transaction.
    """
    settings = await get_settings(store, scope.guild_id)
    rows = []
    for raw in raws:
        raw = dict(raw)
        if validation._blank(raw.get("actor")):
            raw["actor"] = settings.default_actor or "DPRK"
        rows.append(validation.event(raw, now=now))
    return await insert_validated(store, scope, rows, alert=alert, now=now)


async def insert_validated(
    store: Store,
    scope: Scope,
    validated: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]],
    *,
    alert: bool,
    now: datetime | None,
    twin_since: str | None = None,
    notes: Sequence[Mapping[str, str]] | None = None,
) -> list[Event]:
    """Store events already passed through `validation.event` (add_events, imports).

    `notes` (one mapping per event, field -> text) are recorded as import notes in the
    events' first revision."""
    stamp = now_iso(now)
    base = {
        "guild_id": scope.guild_id,
        "created_by": scope.user_id,
        "created_at": stamp,
        "updated_at": stamp,
        "revision": 1,
    }
    keys: list[str] = [v["external_id"] for v, _ in validated if v.get("external_id")]
    if len(keys) != len(set(keys)):
        raise ValidationError(
            "external_id", _("the same external id is given twice; ids must be unique.")
        )
    blank = dict.fromkeys(EVENT_COLUMNS)
    new = [
        Event.from_row({**blank, **values, **base}, [Source(**s) for s in sources])
        for values, sources in validated
    ]
    async with store.transaction() as q:
        # Held until commit: another import of the same id waits, then finds it taken.
        await q.events.lock_external_ids(scope.guild_id, keys)
        if twin_since is not None:
            await _refuse_twin(q, scope, validated[0][0], twin_since)
        taken = await q.events.taken_external_ids(scope.guild_id, keys)
        if taken:
            key = sorted(taken)[0]
            raise ValidationError(
                "external_id",
                _("{id} is already used by another event in this server; choose another.").format(
                    id=key
                ),
            )
        events = await q.events.add_many(new)
        await q.events.add_revisions(
            [Revision.change(e.id, 1, scope.user_id, stamp, "created", None, None) for e in events]
            + [
                r
                for e, n in zip(events, notes or (), strict=False)
                for r in _notes(e.id, 1, scope, stamp, n)
            ]
        )
        if alert and events:
            await _queue_alerts(q, scope, events, stamp)
    return events


async def _refuse_twin(q: Queries, scope: Scope, values: Mapping[str, Any], since: str) -> None:
    """Raise `AlreadyRecorded` when the same launch was recorded since `since`; the lock
    makes a concurrent retry wait for this one's commit, then find it."""
    await q.events.lock_twin(scope.guild_id, values["occurred_on"], values["category"])
    twin = await q.events.recent_twin(
        scope.guild_id, values["occurred_on"], values["category"], values["summary"], since
    )
    if twin is not None:
        posted = await q.deliveries.posted_alert(twin.id, scope.guild_id)
        alert = None
        if posted is not None and posted.message_id is not None:  # sent: it has one
            alert = (posted.channel_id, posted.message_id)
        raise AlreadyRecorded(twin.id, scope.guild_id, alert)


async def _queue_alerts(q: Queries, scope: Scope, events: Sequence[Event], stamp: str) -> None:
    """One alert per matching active subscription of every guild that sees the events."""
    guilds = None if scope.guild_id in scope.publishers else [scope.guild_id]
    subs = await q.subscriptions.instant(guilds)
    await q.deliveries.add(
        [
            Delivery.new("alert", s.id, s.guild_id, s.channel_id, stamp, event=event)
            for event in events
            for s in subs
            if s.matches(event)
        ]
    )


def _notes(
    event_id: int, revision: int, scope: Scope, stamp: str, notes: Mapping[str, str]
) -> list[Revision]:
    return [
        Revision.change(event_id, revision, scope.user_id, stamp, IMPORT_NOTE, f, t)
        for f, t in notes.items()
    ]


async def _apply(
    q: Queries,
    scope: Scope,
    event: Event,
    columns: Mapping[str, Any],
    sources: list[dict[str, Any]] | None,
    *,
    kind: str,
    stamp: str,
    notify: bool = True,
    notes: Mapping[str, str] | None = None,
) -> tuple[Event, list[str]]:
    """Write changed columns (and sources), record a revision per field, queue corrections.

    `notes` are an import's notes, recorded in the same revision even when nothing else
    changed (a note alone corrects no alert)."""
    current = event.as_record()
    changed = {c: v for c, v in columns.items() if differs(current.get(c), v)}
    old_sources = [s.as_dict() for s in event.sources]
    sources_changed = sources is not None and sources != old_sources
    if not changed and not sources_changed and not notes:
        return event, []
    revision = event.revision + 1
    user = scope.user_id
    rows = [
        Revision.change(event.id, revision, user, stamp, c, current.get(c), v)
        for c, v in changed.items()
    ]
    if sources_changed:
        assert sources is not None
        rows.append(
            Revision.change(event.id, revision, user, stamp, "sources", old_sources, sources)
        )
        await q.events.sources.remove(event.id)
        await q.events.sources.add([(event.id, Source(**s)) for s in sources])
    rows += _notes(event.id, revision, scope, stamp, notes or {})
    await q.events.update(event.id, {**changed, "revision": revision, "updated_at": stamp})
    await q.events.add_revisions(rows)
    updated = await _visible(q, scope, event.id)
    if notify and (changed or sources_changed):
        await _queue_corrections(q, updated, kind, stamp)
    return updated, [r.field for r in rows]


async def _queue_corrections(q: Queries, event: Event, kind: str, stamp: str) -> None:
    """A correction for every subscription that was (or is about to be) alerted."""
    alerted: dict[int, Delivery] = {}
    for d in await q.deliveries.for_event(event.id):
        if d.kind == "alert" and d.status in ("pending", "sent"):
            alerted[d.subscription_id] = d
    await q.deliveries.add(
        [
            Delivery.new(kind, sid, d.guild_id, d.channel_id, stamp, event=event)
            for sid, d in alerted.items()
        ]
    )


async def edit_event(
    store: Store,
    scope: Scope,
    event_id: int,
    field: str,
    value: Any,
    *,
    now: datetime | None = None,
) -> tuple[Event, list[str]]:
    """Change one field; returns the event and the fields that changed (empty: no change)."""
    columns = validation.event_field(field, value, now=now)
    stamp = now_iso(now)
    async with store.transaction() as q:
        event = await _owned(q, scope, event_id)
        if event.retracted:
            raise ValidationError(
                "event",
                _("event {id} is retracted; add a new event instead of editing it.").format(
                    id=event.id
                ),
            )
        if field == "external_id" and columns["external_id"]:
            await q.events.lock_external_ids(scope.guild_id, [columns["external_id"]])
            other = await q.events.by_external_id(scope.guild_id, columns["external_id"])
            if other and other.id != event.id:
                raise ValidationError(
                    "external_id",
                    _("{id} is already used by event {event}.").format(
                        id=columns["external_id"], event=other.id
                    ),
                )
        if "confidence" in columns or field == "confidence":
            _check_sourced(columns.get("confidence", event.confidence), event.sources)
        return await _apply(q, scope, event, columns, None, kind="correction", stamp=stamp)


def _check_sourced(confidence: str, sources: Sequence[Any]) -> None:
    if not sources and confidence not in ("reported", "retracted"):
        if confidence == "confirmed":
            fix = _("a confirmed event needs a source first; add one with /event source.")
        else:
            fix = _("a disputed event needs a source first; add one with /event source.")
        raise ValidationError("confidence", fix)


async def update_event_fields(
    store: Store,
    scope: Scope,
    event_id: int,
    raw: Mapping[str, Any],
    *,
    alert: bool = True,
    now: datetime | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[Event, list[str]]:
    """Replace many fields at once (an import's update), with a revision per changed field
    and the import's `notes` (field -> the file's text) in the same revision."""
    values, sources = validation.event(raw, now=now)
    stamp = now_iso(now)
    async with store.transaction() as q:
        event = await _owned(q, scope, event_id)
        if event.retracted:
            raise ValidationError(
                "event", _("event {id} is retracted; it is not updated.").format(id=event.id)
            )
        return await _apply(
            q,
            scope,
            event,
            values,
            sources,
            kind="correction",
            stamp=stamp,
            notify=alert,
            notes=notes,
        )


async def retract_event(
    store: Store, scope: Scope, event_id: int, reason: str, *, now: datetime | None = None
) -> Event:
    why = validation.text("retraction_reason", reason, required=True)
    stamp = now_iso(now)
    async with store.transaction() as q:
        event = await _owned(q, scope, event_id)
        if event.retracted:
            raise ValidationError(
                "event",
                _("event {id} is already retracted ({reason}).").format(
                    id=event.id, reason=event.retraction_reason
                ),
            )
        updated, _changed = await _apply(
            q,
            scope,
            event,
            {"confidence": "retracted", "retraction_reason": why},
            None,
            kind="retraction",
            stamp=stamp,
        )
    return updated


async def add_source(
    store: Store,
    scope: Scope,
    event_id: int,
    raw: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Event:
    new = validation.source(raw)
    stamp = now_iso(now)
    async with store.transaction() as q:
        event = await _owned(q, scope, event_id)
        current = [s.as_dict() for s in event.sources]
        if new in current:
            raise ValidationError("source", _("this event already cites that source."))
        if len(current) >= validation.MAX_SOURCES:
            raise ValidationError(
                "source",
                _("an event cites at most {limit} sources.").format(limit=validation.MAX_SOURCES),
            )
        updated, _changed = await _apply(
            q, scope, event, {}, [*current, new], kind="correction", stamp=stamp
        )
    return updated


async def event_history(store: Store, scope: Scope, event_id: int) -> list[Revision]:
    async with store.read() as q:
        await _visible(q, scope, event_id)
        return await q.events.revisions(int(event_id))


async def timeline(
    store: Store,
    scope: Scope,
    filters: TimelineFilter,
    page: int = 0,
    *,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> tuple[Page[Event], TimelineFilter]:
    """A page of events, oldest first. With no filter: the last 30 days, or the ten latest.

    Returns the filter actually applied, so the header can say what is shown.
    """
    applied = filters
    async with store.read() as q:
        if filters.empty:
            today = (now or datetime.now(UTC)).date()
            window = TimelineFilter(
                since=PartialDate((today - timedelta(days=DEFAULT_WINDOW_DAYS)).isoformat(), "day")
            )
            if await q.events.count(window.to_query(scope), per_page) >= per_page:
                applied = window
            else:
                events = await q.events.latest(filters.to_query(scope), per_page)
                return Page(events, 0, per_page, len(events)), filters
        query = applied.to_query(scope)
        # Counting stops past COUNT_CAP (or past the page asked for): the header says
        # "1000+", and counting half a million index entries for that would cost more
        # than the page.
        cap = max(COUNT_CAP, (page + 1) * per_page) + 1
        counted = await q.events.count(query, cap)
        more = counted >= cap
        total = cap - 1 if more else counted
        page = max(0, min(page, max(0, (total - 1) // per_page)))
        events = await q.events.timeline(query, per_page, page * per_page)
        return Page(events, page, per_page, total, more), applied


async def list_events(
    store: Store, scope: Scope, filters: TimelineFilter, *, include_retracted: bool = True
) -> list[Event]:
    """Every matching event, oldest first (the CLI's `events list`, exports)."""
    query = filters.to_query(scope)
    query = replace(query, include_retracted=include_retracted)
    async with store.read() as q:
        return await q.events.timeline(query, 1_000_000_000)


async def search_events(store: Store, scope: Scope, text: str, limit: int = 25) -> list[Event]:
    """Events matching every word typed (`jan 29`, `submarine`, `kim chaek`), newest first."""
    words = _search_words(text)
    async with store.read() as q:
        return await q.search.events(scope.visible_guilds, words, limit)


_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_MONTHS = {m[:3]: f"{i:02d}" for i, m in enumerate(_MONTH_NAMES, 1)}


def _search_words(text: str) -> list[str]:
    """`jan 29` -> `-01-29`, so a month name and day find the ISO date; other words stay."""
    words = text.lower().replace("·", " ").split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        month = (
            _MONTHS[w[:3]]
            if w[:3] in _MONTHS and _MONTH_NAMES[int(_MONTHS[w[:3]]) - 1].startswith(w)
            else None
        )  # `jan`, `sept`, `march`; not `maritime`
        if month and i + 1 < len(words) and words[i + 1].isdigit() and 1 <= int(words[i + 1]) <= 31:
            out.append(f"-{month}-{int(words[i + 1]):02d}")
            i += 2
            continue
        out.append(f"-{month}-" if month else w.replace(" ", "_"))
        i += 1
    return [w.replace(" ", "_") for w in out][:8]
