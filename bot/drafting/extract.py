"""The drafting extractor's entry point: article text in, draft events and reactions out.

Offline, rule-based and deterministic: the same text and publication date always give
the same drafts. A launch is drafted when a sentence says one happened (a launch word
and a weapon, or a launch word where the text is already about a kind of weapon) and
dates it to the day or the month. Each draft keeps the sentences it came from as
`evidence`, and its confidence is always "reported": a moderator confirms it.

Within a sentence, each weapon word opens a stretch that runs to the next; a date
belongs to its stretch, and the facts in a stretch (place, figures, names, claims) to
that stretch's date, or to the one before it in the sentence. Facts in a sentence with
no date of its own go to the launch the text is talking about: the one last dated
(not a date after "since" or "after"), or the latest one for "the latest missiles".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.dates import PartialDate
from bot.drafting import claims, dates, figures, places, reactions, weapons
from bot.drafting.actors import ActorMention, find_actors, launcher
from bot.drafting.dates import DateMention, TimeMention
from bot.drafting.sentences import Sentence, split

_LATEST = re.compile(r"\b(?:the|its) (?:latest|most recent|newest)\b", re.IGNORECASE)


@dataclass
class EventDraft:
    """One launch as drafted. `day` is its local date (day or month precision)."""

    day: PartialDate
    category: str
    generic: bool
    fields: dict[str, Any] = field(default_factory=dict)
    time: TimeMention | None = None
    counts: list[tuple[int, int | None, bool]] = field(default_factory=list)  # (strength, n, vague)
    evidence: list[Sentence] = field(default_factory=list)
    dated_in: list[tuple[int, Sentence]] = field(default_factory=list)  # (dates in it, sentence)
    notes: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Drafts:
    """What the extractor found in one text."""

    events: list[dict[str, Any]]
    reactions: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "reactions": self.reactions}


@dataclass
class _Facts:
    sentence: Sentence
    dates: list[DateMention]
    times: list[TimeMention]
    weapons: list[weapons.Weapon]
    triggers: list[int]


def draft(text: str, published: date) -> Drafts:
    """Draft events and reactions from an article published on `published` (its local day)."""
    facts = _read(split(text), published)
    events, owners = _events(facts)
    if events:
        _details(facts, events, owners)
    ordered = sorted(events, key=_sort_key)
    records = [_event_record(e) for e in ordered]
    found = _reactions(facts) if events else []
    days = sorted(r["occurred_on"] for r in records)
    for r in found:
        r["since"], r["until"] = (days[0], days[-1]) if days else (None, None)
    return Drafts(records, found)


def _read(sentences: list[Sentence], published: date) -> list[_Facts]:
    out: list[_Facts] = []
    anchor: date | None = None
    for s in sentences:
        times = dates.find_times(s.scan, published)
        found = dates.find_dates(s.scan, published, anchor, [(t.start, t.end) for t in times])
        own = [d for d in found if not d.speech and not d.background and d.date.precision == "day"]
        if own:
            anchor = own[0].date.first_day
        out.append(
            _Facts(s, found, times, weapons.find_weapons(s.scan), weapons.real_triggers(s.scan))
        )
    return out


def _segments(f: _Facts) -> list[tuple[int, int, weapons.Weapon | None]]:
    """The sentence cut at each weapon word; the words before the first join it."""
    ws = f.weapons
    if not ws:
        return [(0, len(f.sentence.scan), None)]
    cuts = [0] + [w.start for w in ws[1:]] + [len(f.sentence.scan)]
    return [(cuts[i], cuts[i + 1], ws[i]) for i in range(len(ws))]


def _events(
    facts: list[_Facts],
) -> tuple[list[EventDraft], dict[int, list[tuple[int, int, EventDraft | None]]]]:
    """Events from the dated launch sentences; and for each sentence, which stretch of it
    belongs to which event (None: to a date that makes no event, such as a year)."""
    events: list[EventDraft] = []
    owners: dict[int, list[tuple[int, int, EventDraft | None]]] = {}
    context: str | None = None
    for f in facts:
        specific = [w.category for w in f.weapons if w.category and not w.generic]
        launch = bool(f.triggers) and (bool(f.weapons) or context is not None)
        usable = [d for d in f.dates if not d.speech]
        if launch and usable:
            owners[f.sentence.index] = _own(f, usable, events, context)
        if specific and f.triggers:
            context = specific[-1]
    return _merge_generic(events), owners


def _own(
    f: _Facts, usable: list[DateMention], events: list[EventDraft], context: str | None
) -> list[tuple[int, int, EventDraft | None]]:
    spans: list[tuple[int, int, EventDraft | None]] = []
    segments = _segments(f)
    current: EventDraft | None = None
    started = False
    for start, end, weapon in segments:
        inside = [d for d in usable if start <= d.start < end or (start == 0 and d.start < end)]
        if not inside:
            if started:
                spans.append((start, end, current))
            continue
        started = True
        for d in inside:
            if d.date.precision == "year":
                current = None
                continue
            current = _event_for(
                d.date, _kind(f, weapon, start, segments, context), events, f, len(usable)
            )
        spans.append((start, end, current))
    return spans


def _kind(
    f: _Facts, weapon: weapons.Weapon | None, start: int, segments: list[Any], context: str | None
) -> tuple[str, bool]:
    """The category a dated stretch gives, and whether it is only generic."""
    if weapon is not None and weapon.category and not weapon.generic:
        return weapon.category, False
    later = [
        w for s, _, w in segments if s > start and w is not None and w.category and not w.generic
    ]
    if later and not any(d.start >= later[0].start for d in f.dates if not d.speech):
        return str(later[0].category), False
    rocket = weapon is None or (
        weapon.name is None
        and f.sentence.scan[weapon.start : weapon.end].lower().startswith("rocket")
    )
    if rocket and context is not None:
        return context, False
    return "unknown", True


def _event_for(
    day: PartialDate, kind: tuple[str, bool], events: list[EventDraft], f: _Facts, n_dates: int
) -> EventDraft:
    category, generic = kind
    same_day = [e for e in events if e.day == day]
    match = next((e for e in same_day if e.category == category), None)
    if match is None and generic:
        match = same_day[0] if same_day else None
    if match is None and not generic:
        match = next((e for e in same_day if e.generic), None)
        if match is not None:
            match.category, match.generic = category, False
    if match is None:
        match = EventDraft(day, category, generic)
        events.append(match)
    if all(s is not f.sentence for _, s in match.dated_in):
        match.dated_in.append((n_dates, f.sentence))
    return match


def _merge_generic(events: list[EventDraft]) -> list[EventDraft]:
    """A launch known only as "a missile" on a day that also has a kind is that launch."""
    out = []
    for e in events:
        twin = next((o for o in events if o is not e and o.day == e.day and not o.generic), None)
        if e.generic and twin is not None:
            twin.dated_in.extend(x for x in e.dated_in if x not in twin.dated_in)
            e.fields["_merged_into"] = twin
            continue
        out.append(e)
    return out


def _resolve(e: EventDraft | None) -> EventDraft | None:
    while e is not None and "_merged_into" in e.fields:
        e = e.fields["_merged_into"]
    return e


def _details(facts: list[_Facts], events: list[EventDraft], owners: dict[int, Any]) -> None:
    """Give each event the facts of the stretches it owns, and of the sentences about it."""
    first = min((e for e in events), key=lambda e: min(s.index for _, s in e.dated_in))
    focus: EventDraft = first
    people = [m.group(0) for f in facts for m in claims.PERSON.finditer(f.sentence.scan)]
    latest = max(
        (e for e in events if e.day.precision == "day"), key=lambda e: e.day.text, default=first
    )
    for f in facts:
        s = f.sentence
        spans = owners.get(s.index)
        if spans is None:
            if not (
                f.triggers
                or f.weapons
                or figures.find_figures(s.scan)
                or places.find_places(s.scan)
            ):
                continue
            target = latest if _LATEST.search(s.scan) else focus
            spans = [(0, len(s.scan), target)]
            strength = 0
        else:
            strength = 1
            first_stretch = spans[0]
            main = [
                d
                for d in f.dates
                if not d.background
                and not d.speech
                and first_stretch[0] <= d.start < first_stretch[1]
            ]
            if first_stretch[0] == 0 and main and _resolve(first_stretch[2]) is not None:
                focus = _resolve(first_stretch[2])  # type: ignore[assignment]
            if spans[0][0] > 0:  # the words before the first dated stretch: the launch in focus
                spans = [(0, spans[0][0], focus), *spans]
        _fill(f, [(st, en, _resolve(e)) for st, en, e in spans], strength, people)


def _owner(spans: list[tuple[int, int, EventDraft | None]], at: int) -> EventDraft | None:
    for start, end, e in spans:
        if start <= at < end:
            return e
    return None


def _fill(
    f: _Facts, spans: list[tuple[int, int, EventDraft | None]], strength: int, people: list[str]
) -> None:
    """Put the sentence's facts on the events owning their stretches. The sentence is
    evidence for the events it dates, and for any it gave a fact to."""
    s = f.sentence
    gave: list[EventDraft] = []

    def owner(at: int) -> EventDraft | None:
        e = _owner(spans, at)
        if e is not None and e not in gave:
            gave.append(e)
        return e

    for w in f.weapons:
        e = _owner(spans, w.start)
        if e is None:
            continue
        fits = w.category is None or w.generic or e.category == w.category or e.generic
        if w.category and not w.generic and e.generic:
            e.category, e.generic = w.category, False
            owner(w.start)
        if not fits:
            continue
        if w.name and "name" not in e.fields:
            owner(w.start).fields["name"] = w.name  # type: ignore[union-attr]
        if w.platform and "platform" not in e.fields:
            owner(w.start).fields["platform"] = w.platform  # type: ignore[union-attr]
        if not w.adjunct and w.name is None and (w.count is not None or w.vague):
            e.counts.append(
                (2 if w.count is not None and w.count > 1 else strength, w.count, w.vague)
            )
    for p in weapons.find_platforms(s.scan):
        e = _owner(spans, p.start)
        if e is not None and "platform" not in e.fields:
            owner(p.start).fields["platform"] = p.platform  # type: ignore[union-attr]
    for m in places.find_places(s.scan):
        e = owner(m.start)
        if e is None:
            continue
        if m.place.kind == "site":
            e.fields.setdefault("_site", m.place)
        elif "_landing" not in e.fields or (
            e.fields["_landing"].kind == "area" and m.place.kind == "sea"
        ):
            e.fields["_landing"] = m.place
    for fig in figures.find_figures(s.scan):
        e = _owner(spans, fig.start)
        if e is not None and fig.field not in e.fields:
            owner(fig.start)
            e.fields[fig.field] = int(fig.km) if fig.km.is_integer() else fig.km
            if fig.note:
                e.notes.append({"field": fig.field, "reason": fig.note, "text": fig.text})
    for t in f.times:
        e = _owner(spans, t.start)
        if e is not None and e.time is None and e.day.precision == "day":
            owner(t.start)
            e.time = t
    found = claims.claim(s.scan, find_actors(s.scan), [w.start for w in f.weapons])
    if found is not None:
        e = owner(found[1])
        if e is not None:
            e.fields.setdefault("claimed", found[0])
    who = claims.overseer(s.scan, people)
    if who is not None:
        e = owner(who[1])
        if e is not None:
            e.fields.setdefault("overseen_by", who[0])
    if strength:
        gave.extend(
            e
            for st, en, e in spans
            if e is not None and e not in gave and any(st <= d.start < en for d in f.dates)
        )
    for e in gave:
        if s not in e.evidence:
            e.evidence.append(s)


def _count(e: EventDraft) -> int | None:
    explicit = [n for strength, n, _ in e.counts if strength == 2 and n]
    if explicit:
        return explicit[0]
    for level in (1, 0):
        first = next(((n, vague) for strength, n, vague in e.counts if strength == level), None)
        if first is not None:
            return None if first[1] else first[0]
    return None


def _sort_key(e: EventDraft) -> tuple[str, str]:
    return (e.day.text, (e.time and f"{e.time.hour:02d}{e.time.minute:02d}") or "")


def _event_record(e: EventDraft) -> dict[str, Any]:
    actor = launcher()
    when = e.day
    if e.time is not None:
        when = dates.at_utc(e.day.first_day, e.time, actor.zone or "UTC")
    site: places.Place | None = e.fields.get("_site")
    landing: places.Place | None = e.fields.get("_landing")
    return {
        "occurred_on": when.text,
        "date_precision": when.precision,
        "occurred_at": when.iso() if when.at else None,
        "actor": actor.event_actor or actor.name,
        "category": e.category,
        "name": e.fields.get("name"),
        "count": _count(e),
        "platform": e.fields.get("platform"),
        "launch_site": site.name if site else None,
        "latitude": site.lat if site else None,
        "longitude": site.lon if site else None,
        "landing_area": landing.name if landing else None,
        "distance_km": e.fields.get("distance_km"),
        "apogee_km": e.fields.get("apogee_km"),
        "claimed": e.fields.get("claimed"),
        "overseen_by": e.fields.get("overseen_by"),
        "region": "korean-peninsula",
        "confidence": "reported",
        "summary": _summary(e),
        "notes": e.notes,
        "evidence": [s.text for s in sorted(e.evidence, key=lambda s: s.index)],
    }


def _summary(e: EventDraft) -> str:
    """The article's own words for the launch: the sentence that dates it and nothing
    else (a table row before prose), else the first that dates it."""
    best = min(e.dated_in, key=lambda pair: (pair[0], not pair[1].row, pair[1].index))
    return best[1].summary


def _reactions(facts: list[_Facts]) -> list[dict[str, Any]]:
    issuer = _issuer(facts)
    found = []
    for f in facts:
        for hit, summary, quote in reactions.sentence_reactions(f.sentence, issuer):
            found.append((f.sentence, hit, summary, quote))
    out = []
    for r in reactions.merge(found):
        out.append(
            {
                "actor": r.actor,
                "actor_kind": r.actor_kind,
                "speaker": r.speaker,
                "speaker_title": r.speaker_title,
                "affiliation": r.affiliation,
                "stance": r.stance,
                "quote": r.quote,
                "summary": r.summary,
                "evidence": r.evidence,
            }
        )
    return out


def _issuer(facts: list[_Facts]) -> ActorMention | None:
    """Who "we" are in a statement: the first institution its opening lines name."""
    for f in facts[:3]:
        for m in find_actors(f.sentence.scan):
            if not m.actor.launcher:
                return m
    return None


#: The draft fields an event holds (bot/models.py EDITABLE_FIELDS, less what a draft has not).
_EVENT_INPUT = (
    "actor", "category", "name", "count", "platform", "launch_site", "latitude", "longitude",
    "landing_area", "distance_km", "apogee_km", "claimed", "overseen_by", "region", "summary",
    "confidence",
)  # fmt: skip
_REACTION_INPUT = (
    "actor", "actor_kind", "speaker", "speaker_title", "affiliation", "stance", "quote",
    "summary", "since", "until",
)  # fmt: skip


def event_input(record: dict[str, Any]) -> dict[str, Any]:
    """A drafted event as `services.add_event` takes it, for a moderator's "confirm"."""
    out = {k: record[k] for k in _EVENT_INPUT if record.get(k) is not None}
    out["date"] = record["occurred_at"] or record["occurred_on"]
    return out


def reaction_input(record: dict[str, Any]) -> dict[str, Any]:
    """A drafted reaction as `services.add_reaction` takes it (answering the text's series)."""
    return {k: record[k] for k in _REACTION_INPUT if record.get(k) is not None}
