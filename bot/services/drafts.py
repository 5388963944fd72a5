"""Drafts: what the extractor found in a text, kept until a moderator confirms or dismisses it.

Nothing here publishes anything. A draft becomes an event only through `confirm_draft`
(or changes one through `apply_draft`), which the review buttons call for a person who
clicked; both go through the same services as `/event add` and `/event edit`, so the
alert or the correction follows as for a moderator's own input
(docs/architecture.md, "Feeds and drafts").

A new draft about a launch already pending (same category, dated within a day, a title
that reads alike) is merged into that draft with its source; one about a launch already
recorded becomes an update draft holding only what differs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, utils

from bot import validation
from bot.dates import PartialDate
from bot.drafting import Drafts, draft, event_input, reaction_input
from bot.drafting.models import EDIT_FIELDS, Change, Draft, Review
from bot.errors import NotFound, ValidationError
from bot.i18n import _
from bot.models import EDITABLE_FIELDS, Event
from bot.services.context import Scope, now_iso
from bot.services.events import add_event, get_event, update_event_fields
from bot.services.reactions import add_reaction, find_reaction_by_content
from db import Queries, Store
from db.drafts import DraftQueries
from db.events import EventFilter

log = logging.getLogger("launchwatch.drafts")

#: Reads a text published on a day and drafts what it reports (the rules, or a model).
Extractor = Callable[[str, date], Awaitable[Drafts]]
#: How alike two titles must read (rapidfuzz's token set ratio, 0-100, case and punctuation
#: ignored) for two drafts of the same category, dated within a day, to be one launch.
#: Headlines of one launch from two outlets score 50-75 ("North Korea fires ballistic
#: missile into East Sea" / "N. Korea launches SRBM toward Sea of Japan": 51); unrelated
#: headlines that share "North Korea" about 45.
MERGE_SCORE = 50.0
#: The longest text a draft is made from (the modal's three parts, a 1 MB file's text).
MAX_TEXT = 1_000_000
#: Fields an update draft may change: the facts, not the wording (a summary always differs).
_UPDATABLE = (
    "date", "category", "name", "count", "platform", "launch_site", "latitude", "longitude",
    "landing_area", "distance_km", "apogee_km", "claimed", "overseen_by",
)  # fmt: skip


async def rules_extractor(text: str, published: date) -> Drafts:
    """The offline extractor (bot/drafting), off the event loop: it is pure CPU."""
    return await asyncio.to_thread(draft, text, published)


@dataclass(frozen=True)
class SourceInfo:
    """Where a text came from: the source a confirmed event will cite."""

    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published_on: str | None = None

    def as_source(self) -> dict[str, Any] | None:
        """The source as `validation.source` takes it, or None when it names nothing."""
        raw = {
            "url": self.url,
            "title": _clip(self.title, validation.MAX_LENGTH["title"]),
            "publisher": _clip(self.publisher, validation.MAX_LENGTH["publisher"]),
            "published_on": self.published_on,
        }
        try:
            return validation.source(raw)
        except ValidationError:
            return None


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- making drafts ---------------------------------------------------------------------------


async def draft_text(
    store: Store,
    scope: Scope,
    text: str,
    published: date,
    *,
    origin: str,
    source: SourceInfo | None = None,
    title: str = "",
    extractor: Extractor = rules_extractor,
    now: datetime | None = None,
) -> list[Draft]:
    """Draft the launches a text reports and keep them for review; the drafts made or
    merged into (none when the text reports nothing new)."""
    if not text.strip():
        raise ValidationError("text", _("the text is empty; paste or attach the article."))
    found = await extractor(text[:MAX_TEXT], published)
    async with store.transaction() as q:
        ids = await store_drafts(
            q, scope, found, origin=origin, source=source, title=title, now=now
        )
        return [await _get(q, i) for i in ids]


async def store_drafts(
    q: Queries,
    scope: Scope,
    found: Drafts,
    *,
    origin: str,
    source: SourceInfo | None,
    title: str,
    now: datetime | None = None,
) -> list[int]:
    """Keep each drafted launch in the open transaction `q`: merged into a pending draft of
    the same launch, as an update draft of a recorded one, or as a new draft. The ids of
    the drafts made or merged into; a launch already recorded as it is makes none."""
    drafts = DraftQueries(q.conn)
    stamp = now_iso(now)
    cited = source.as_source() if source else None
    ids: list[int] = []
    for record in found.events:
        fields = _fields(record, now)
        if fields is None:
            continue
        day = PartialDate.parse(str(fields["date"]))
        evidence = list(record.get("evidence") or [])
        into = await _merge_target(drafts, scope, fields, day, title, cited)
        if into is not None:
            await _merge(drafts, into, fields, evidence, cited, stamp)
            ids.append(into.id)
            continue
        kind, event_id = "new", None
        event = await _recorded(q, scope, fields, day)
        if event is not None:
            if not changes(event, fields, [cited] if cited else []):
                continue  # already recorded as it is, with this source
            kind, event_id = "update", event.id
        new_id = await drafts.insert_draft(
            {
                "guild_id": scope.guild_id, "kind": kind, "event_id": event_id,
                "status": "pending", "origin": origin, "title": title[:300], "fields": fields,
                "evidence": evidence, "sources": [cited] if cited else [],
                "reactions": found.reactions, "occurred_on": day.text,
                "category": fields["category"], "created_by": scope.user_id,
                "created_at": stamp, "updated_at": stamp,
            }
        )  # fmt: skip
        ids.append(new_id)
    return list(dict.fromkeys(ids))


def _fields(record: Mapping[str, Any], now: datetime | None) -> dict[str, Any] | None:
    """A drafted launch as `add_event` input, if it passes the same validation as a
    moderator's input (a date in the future, say, does not)."""
    fields = event_input(dict(record))
    fields["summary"] = _clip(str(fields.get("summary") or ""), 2000) or ""
    try:
        validation.event(fields, now=now)
    except ValidationError as exc:
        log.info("a drafted launch was dropped: %s: %s", exc.field, exc.fix)
        return None
    return fields


def _window(day: PartialDate) -> tuple[str, str]:
    """The days within one of `day`, as text bounds for occurred_on."""
    first = day.first_day - timedelta(days=1)
    last = day.last_day + timedelta(days=1)
    return first.isoformat(), last.isoformat() + "~"


def _near(a: PartialDate, b: PartialDate) -> bool:
    """Dated within a day of each other (both to the day, or finer)."""
    if a.precision in ("year", "month") or b.precision in ("year", "month"):
        return a.text == b.text
    return abs((a.first_day - b.first_day).days) <= 1


async def _merge_target(
    drafts: DraftQueries,
    scope: Scope,
    fields: Mapping[str, Any],
    day: PartialDate,
    title: str,
    cited: dict[str, Any] | None,
) -> Draft | None:
    """The pending draft this launch belongs to: same category, within a day, and either
    the same source or a title that reads alike."""
    first, last = _window(day)
    for row in await drafts.pending_near(scope.guild_id, str(fields["category"]), first, last):
        other = Draft.from_row(row)
        if not _near(other.date, day):
            continue
        if cited is not None and cited.get("url") and cited in other.sources:
            return other
        if title and other.title and similar(title, other.title):
            return other
    return None


def similar(title: str, other: str) -> bool:
    """Whether two headlines read as one story (see `MERGE_SCORE`)."""
    score = fuzz.token_set_ratio(title, other, processor=utils.default_process)
    return score >= MERGE_SCORE


async def _merge(
    drafts: DraftQueries,
    into: Draft,
    fields: Mapping[str, Any],
    evidence: Sequence[str],
    cited: dict[str, Any] | None,
    stamp: str,
) -> None:
    """Add a source's account to a pending draft: its source, its sentences, and the
    facts the draft lacks (what it has stays: the first account, or the moderator's)."""
    merged = dict(into.fields)
    for key, value in fields.items():
        if merged.get(key) in (None, "") and value not in (None, ""):
            merged[key] = value
    sources = list(into.sources)
    if cited is not None and cited not in sources and len(sources) < validation.MAX_SOURCES:
        sources.append(cited)
    said = list(into.evidence) + [s for s in evidence if s not in into.evidence]
    if merged == into.fields and sources == into.sources and said == into.evidence:
        return
    await drafts.update_draft(
        into.id,
        {
            "fields": merged,
            "sources": sources,
            "evidence": said,
            "revision": into.revision + 1,
            "updated_at": stamp,
        },
    )


async def _recorded(
    q: Queries, scope: Scope, fields: Mapping[str, Any], day: PartialDate
) -> Event | None:
    """The guild's own event of this category dated within a day, if there is one."""
    first, last = _window(day)
    events = await q.events.timeline(
        EventFilter(
            guild_ids=[scope.guild_id], since=first, until=last, category=str(fields["category"])
        ),
        20,
    )
    near = [e for e in events if _near(e.date, day)]
    return near[0] if near else None


def changes(
    event: Event, fields: Mapping[str, Any], sources: Sequence[Mapping[str, Any]] = ()
) -> list[Change]:
    """What a draft would change on a recorded event: each fact the draft states that the
    event holds otherwise (a fact the draft lacks is not a change), and new sources."""
    out: list[Change] = []
    record = event.as_record()
    for key in _UPDATABLE:
        new = fields.get(key)
        if new in (None, ""):
            continue
        if key == "date":
            when = PartialDate.parse(str(new))
            finer = _rank(when) > _rank(event.date)
            if when != event.date and (finer or when.precision == event.date.precision):
                out.append(Change("date", event.date, when))
            continue
        old = record.get(key)
        if isinstance(old, int | float) and isinstance(new, int | float):
            differs = float(old) != float(new)
        else:
            differs = old != new
        if differs:
            out.append(Change(key, old, new))
    cited = [s.as_dict() for s in event.sources]
    added = [dict(s) for s in sources if dict(s) not in cited and not _same_url(s, cited)]
    if added:
        out.append(Change("sources", None, added))
    return out


def _same_url(source: Mapping[str, Any], cited: Sequence[Mapping[str, Any]]) -> bool:
    return bool(source.get("url")) and any(c.get("url") == source.get("url") for c in cited)


def _rank(d: PartialDate) -> int:
    return ("year", "month", "day", "minute").index(d.precision)


# -- reading ---------------------------------------------------------------------------------


async def _get(q: Queries, draft_id: int) -> Draft:
    row = await DraftQueries(q.conn).get_draft(int(draft_id))
    if row is None:
        raise NotFound("draft", draft_id)
    return Draft.from_row(row)


async def get_draft(store: Store, scope: Scope, draft_id: int) -> Draft:
    async with store.read() as q:
        found = await _get(q, draft_id)
    if found.guild_id != scope.guild_id:
        raise NotFound("draft", draft_id)
    return found


async def review(store: Store, scope: Scope, draft_id: int) -> Review:
    """A draft as its card shows it; for an update draft, what it changes on its event as
    the event stands now."""
    found = await get_draft(store, scope, draft_id)
    return await review_of(store, scope, found)


async def review_of(store: Store, scope: Scope, found: Draft) -> Review:
    if found.kind != "update" or found.event_id is None:
        return Review(found)
    try:
        event = await get_event(store, scope, found.event_id)
    except NotFound:
        return Review(found)
    return Review(found, changes(event, found.fields, found.sources), event.summary)


async def list_drafts(
    store: Store, scope: Scope, statuses: Sequence[str] = ("pending",), limit: int = 100
) -> list[Draft]:
    async with store.read() as q:
        rows = await DraftQueries(q.conn).list_drafts(scope.guild_id, statuses, limit)
    return [Draft.from_row(r) for r in rows]


# -- a moderator's decisions -----------------------------------------------------------------


async def edit_draft(
    store: Store,
    scope: Scope,
    draft_id: int,
    values: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Draft:
    """Change some of a pending draft's fields (the Edit modal's five), validated as a
    moderator's input; a blank optional field is cleared."""
    unknown = [k for k in values if k not in EDIT_FIELDS]
    if unknown:
        raise ValidationError(
            unknown[0],
            _("is not editable here; edit {fields}.").format(fields=", ".join(EDIT_FIELDS)),
        )
    stamp = now_iso(now)
    async with store.transaction() as q:
        drafts = DraftQueries(q.conn)
        row = await drafts.get_draft_for_update(int(draft_id))
        if row is None or row["guild_id"] != scope.guild_id:
            raise NotFound("draft", draft_id)
        current = Draft.from_row(row)
        still_pending(current)
        fields = dict(current.fields)
        for key, value in values.items():
            text = None if value is None else str(value).strip()
            if text:
                fields[key] = int(text) if key == "count" and text.isdigit() else text
            else:
                fields.pop(key, None)
        validated, _sources = validation.event(fields, now=now)
        fields["category"] = validated["category"]
        if fields == current.fields:
            return current
        await drafts.update_draft(
            current.id,
            {
                "fields": fields,
                "occurred_on": validated["occurred_on"],
                "category": validated["category"],
                "revision": current.revision + 1,
                "updated_at": stamp,
            },
        )
        return await _get(q, current.id)


def still_pending(found: Draft) -> None:
    """Refuse a decision on a draft someone already decided, saying what became of it."""
    if found.pending:
        return
    if found.status == "confirmed":
        fix = _("draft #{id} was already confirmed as event #{event}; nothing was changed.")
    elif found.status == "applied":
        fix = _("draft #{id} was already applied to event #{event}; nothing was changed.")
    else:
        fix = _("draft #{id} was already dismissed; nothing was changed.")
    raise ValidationError("draft", fix.format(id=found.id, event=found.result_event_id))


async def _claim(store: Store, scope: Scope, draft_id: int, status: str, stamp: str) -> Draft:
    """Take a pending draft for a decision, in a transaction of its own: of two clicks at
    once, exactly one gets it and the other is told who decided."""
    async with store.transaction() as q:
        drafts = DraftQueries(q.conn)
        row = await drafts.get_draft_for_update(int(draft_id))
        if row is None or row["guild_id"] != scope.guild_id:
            raise NotFound("draft", draft_id)
        if not await drafts.decide(int(draft_id), status, scope.user_id, stamp):
            still_pending(Draft.from_row(row))
        return await _get(q, int(draft_id))


async def _settle(
    store: Store,
    draft_id: int,
    event_id: int | None,
    stamp: str,
    *,
    undo: bool = False,
    reactions: list[dict[str, Any]] | None = None,
) -> Draft:
    async with store.transaction() as q:
        drafts = DraftQueries(q.conn)
        if undo:
            await drafts.undecide(draft_id, stamp)
        else:
            current = await _get(q, draft_id)
            values: dict[str, Any] = {
                "result_event_id": event_id,
                "revision": current.revision + 1,
                "updated_at": stamp,
            }
            if reactions is not None:
                values["reactions"] = reactions
            await drafts.update_draft(draft_id, values)
        return await _get(q, draft_id)


#: What `record_reactions` notes on each of a decided draft's reactions (not reaction input).
_OUTCOME_KEYS = ("outcome", "reaction_id", "problem")


async def record_reactions(
    store: Store, scope: Scope, found: Draft, event: Event, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Record the reactions a draft carries through `add_reaction`, validated as a
    moderator's: as the series the text reports (since/until, event_id None) when it spans
    several days, else to `event`. The drafts of one article all carry its reactions, so
    one already recorded is not added again. Each reaction comes back noted: "recorded" or
    "already" (with its id), or "skipped" with the problem, for the card to name."""
    out: list[dict[str, Any]] = []
    for drafted in found.reactions:
        kept = {k: v for k, v in drafted.items() if k not in _OUTCOME_KEYS}
        raw = reaction_input(kept)
        if raw.get("since") is None or raw.get("since") == raw.get("until"):
            raw.pop("since", None)
            raw.pop("until", None)
            raw["event_id"] = event.id
        raw["sources"] = list(found.sources)
        try:
            values, _sources = validation.reaction(raw, now=now)
            async with store.read() as q:
                known = await find_reaction_by_content(q, scope.guild_id, values)
            if known is not None:
                out.append({**kept, "outcome": "already", "reaction_id": known})
                continue
            added = await add_reaction(store, scope, raw, now=now)
        except ValidationError as exc:
            log.info("a drafted reaction was skipped: %s: %s", exc.field, exc.fix)
            out.append({**kept, "outcome": "skipped", "problem": f"{exc.field}: {exc.fix}"})
            continue
        out.append({**kept, "outcome": "recorded", "reaction_id": added.id})
    return out


async def _with_reactions(
    store: Store, scope: Scope, claimed: Draft, event: Event, now: datetime | None
) -> Draft:
    """Settle a draft whose event is stored, recording its reactions; the event stands
    even when recording them fails for another reason than their validation."""
    try:
        noted = await record_reactions(store, scope, claimed, event, now=now)
    except BaseException:
        await _settle(store, claimed.id, event.id, now_iso(now))
        raise
    return await _settle(store, claimed.id, event.id, now_iso(now), reactions=noted)


async def confirm_draft(
    store: Store, scope: Scope, draft_id: int, *, now: datetime | None = None
) -> tuple[Draft, Event]:
    """A moderator's click: the draft becomes an event through `add_event`, citing its
    sources, so subscribed channels are alerted as for `/event add`; then its reactions
    (`record_reactions`)."""
    stamp = now_iso(now)
    claimed = await _claim(store, scope, draft_id, "confirmed", stamp)
    raw = {**claimed.fields, "sources": list(claimed.sources)}
    try:
        event = await add_event(store, scope, raw, now=now)
    except BaseException:
        await _settle(store, claimed.id, None, now_iso(now), undo=True)
        raise
    return await _with_reactions(store, scope, claimed, event, now), event


async def apply_draft(
    store: Store, scope: Scope, draft_id: int, *, now: datetime | None = None
) -> tuple[Draft, Event, list[str]]:
    """A moderator's click on an update draft: its changes are made to the event through
    `update_event_fields`, so every channel alerted about it gets the correction; then
    its reactions (`record_reactions`)."""
    found = await get_draft(store, scope, draft_id)
    if found.kind != "update" or found.event_id is None:
        raise ValidationError(
            "draft",
            _("draft #{id} is a new launch, not a change to a recorded one; use Confirm.").format(
                id=found.id
            ),
        )
    stamp = now_iso(now)
    claimed = await _claim(store, scope, draft_id, "applied", stamp)
    try:
        event = await get_event(store, scope, int(claimed.event_id or 0))
        raw = event_raw(event)
        for change in changes(event, claimed.fields, claimed.sources):
            if change.field == "sources":
                raw["sources"] = [*raw["sources"], *change.new][: validation.MAX_SOURCES]
            elif change.field == "date":
                raw["date"] = change.new.iso()
            else:
                raw[change.field] = change.new
        updated, changed = await update_event_fields(store, scope, event.id, raw, now=now)
    except BaseException:
        await _settle(store, claimed.id, None, now_iso(now), undo=True)
        raise
    return await _with_reactions(store, scope, claimed, updated, now), updated, changed


def event_raw(event: Event) -> dict[str, Any]:
    """An event as `validation.event` input: every editable field as it stands, so an
    update changes only what is given anew."""
    record = event.as_record()
    raw: dict[str, Any] = {k: record[k] for k in EDITABLE_FIELDS if k != "date"}
    raw["date"] = event.date.iso()
    raw["sources"] = [s.as_dict() for s in event.sources]
    return raw


async def dismiss_draft(
    store: Store, scope: Scope, draft_id: int, *, now: datetime | None = None
) -> Draft:
    """Nothing is recorded; the draft is kept as dismissed (its item stays seen)."""
    return await _claim(store, scope, draft_id, "dismissed", now_iso(now))


# -- the review channel and its cards --------------------------------------------------------


async def review_channel(store: Store, guild_id: int) -> int | None:
    async with store.read() as q:
        return await DraftQueries(q.conn).review_channel(guild_id)


async def set_review_channel(store: Store, scope: Scope, channel_id: int | None) -> int | None:
    """Name the channel drafts are posted to (None: drafts wait in /draft list)."""
    async with store.transaction() as q:
        await DraftQueries(q.conn).set_review_channel(scope.guild_id, channel_id)
    return channel_id


async def cards_owed(store: Store, guild_ids: Sequence[int] | None = None) -> list[Draft]:
    """Drafts whose card must be posted, or edited to show a change."""
    async with store.read() as q:
        rows = await DraftQueries(q.conn).to_render(guild_ids)
    return [Draft.from_row(r) for r in rows]


async def card_posted(
    store: Store, draft_id: int, channel_id: int, message_id: int, revision: int
) -> None:
    async with store.transaction() as q:
        await DraftQueries(q.conn).mark_posted(draft_id, channel_id, message_id, revision)
