"""Importing a file: match each row to what the guild holds, then add, update or leave it.

Everything goes through the services, so every row is validated and every change gets its
revisions, exactly as a moderator's would. The file is parsed first: a file that cannot
be read changes nothing; a row whose date or category (or external_id) cannot be read is
reported with its line and skipped.

A bad field costs only that field: the row is imported without it and a warning names
the line and field. On re-import the stored value stays, because a field we could not
read is unknown, not empty. A row whose confidence needs a source it no longer has (its
sources could not be read) is imported as `reported`, with a warning. A summary is
required, so a new row without a readable one is still skipped. The parsers' notes (the
text of `between 25 and 90 km`, stored as 90) become import notes in the event's change
log, written with the value they explain and again whenever the file's text changes.

Idempotence: events match on external_id within the acting guild (`cns:<F1>`, or what
our exports wrote); a row equal to its event counts as unchanged and costs no write.
An `lw:<id>` row exported from this same guild also matches event <id> when that event
still has no external_id (the id, guild and created_at must all agree), so exporting
and re-importing into the same server updates instead of duplicating.

Retracted events: the services refuse confidence=retracted on add, so a retracted row is
added (or updated) at an ordinary confidence, never alerting, and then retracted with
`retract_event` and its reason, which records the retraction as the services always do.
An import does not change an event that is already retracted here (as `/event edit`
refuses to): such a row counts as unchanged when it agrees, and is reported otherwise.

Reactions (JSON) match first on every field; failing that, `find_reaction_by_content`
finds one with the same event, actor, stance, summary, date and speaker. As reactions
cannot be edited, such a near match is reported and skipped rather than overwritten.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import validation
from bot.errors import LaunchWatchError, ValidationError
from bot.fields import specs
from bot.i18n import N_, _
from bot.models import EVENT_DEFAULTS, Event, Reaction, differs
from bot.services import (
    Scope,
    TimelineFilter,
    add_reaction,
    get_settings,
    list_events,
    retract_event,
)
from bot.services.events import IMPORT_NOTE, event_history, insert_validated, update_event_fields
from bot.services.reactions import all_reactions, find_reaction_by_content
from bot.transfer import cns, records
from bot.transfer.parsing import EventRow, Parsed, ReactionRow, read_text
from db import Store

Validated = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Format:
    """A file format `import_file` reads: its parser, and what it is (for `--format`'s help)."""

    parse: Callable[[str, Path], Parsed]
    #: Marked for the catalogue; translate where shown, `_(fmt.what)`.
    what: str


#: Every import format, by the name `db import --format` takes: the CLI's choices and help
#: are read from here, so a new format is one parser and one line (docs/contributing.md).
FORMATS: dict[str, Format] = {
    "cns": Format(cns.parse, N_("the CNS North Korea Missile Test Database")),
    "csv": Format(records.parse_csv, N_("our CSV export (events)")),
    "json": Format(records.parse_json, N_("our JSON export (events and reactions)")),
}

#: A write transaction of an import holds the store's write lock for about this long at
#: most, and after about this long of writing the import steps aside for `STEP_ASIDE`, so
#: the bot's own writers (a moderator's /event add, the dispatcher) get in between. SQLite
#: has one writer; PostgreSQL has none of this lock, and the pauses cost little there.
HOLD = 0.5
STEP_ASIDE = 0.1
#: New events per transaction: it starts small (with --alert each event may fan out to
#: thousands of deliveries, written in the event's own transaction) and adapts to `HOLD`.
FIRST_BATCH = 20
MAX_BATCH = 5000
#: Fields a row cannot be imported without: a bad one skips the row.
_ESSENTIAL = ("date", "category", "external_id")
#: Fields `validation.event` fills in itself when blank.
_DEFAULTED = tuple(EVENT_DEFAULTS)

#: The fields `find_reaction_by_content` compares: two reactions alike in these are one
#: statement, whatever else differs.
_CONTENT_KEY = ("event_id", "since", "until", "actor", "stance", "summary", "said_on", "speaker")
_REACTION_KEY = (
    "event_id", "since", "until", "actor", "actor_kind", "speaker", "speaker_title",
    "affiliation", "stance", "summary", "quote", "said_on",
)  # fmt: skip


@dataclass(frozen=True)
class ImportWarning:
    """A field a row was imported without, and why (`field` as the file names it).

    For a row whose confidence (say `confirmed`) needs a source and none could be read,
    `demoted_from` holds that confidence instead: the event was imported as reported.
    """

    line: int
    field: str
    reason: str = ""
    demoted_from: str | None = None


@dataclass
class ImportReport:
    """What an import did. Each problem is (line where the record starts, reason), and
    `warned` counts the rows kept without a field (each named in `warnings`)."""

    imported: int = 0
    updated: int = 0
    skipped: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    warned: int = 0
    warnings: list[ImportWarning] = field(default_factory=list)

    def summary(self) -> str:
        return _(
            "imported {imported}, updated {updated}, skipped {skipped}, unchanged {unchanged}, "
            "warned {warned}"
        ).format(
            imported=self.imported,
            updated=self.updated,
            skipped=self.skipped,
            unchanged=self.unchanged,
            warned=self.warned,
        )


@dataclass
class _New:
    """A new event waiting to be added with others in one transaction."""

    line: int
    key: str
    validated: Validated
    notes: dict[str, str]
    warnings: list[ImportWarning]


async def import_file(
    store: Store,
    scope: Scope,
    path: Path,
    fmt: str,
    *,
    alert: bool = False,
) -> ImportReport:
    """Import a file in one of the `FORMATS` (a CNS database CSV, or our own CSV or JSON
    export) into `scope.guild_id`.

    Alerts (and corrections) go out only when `alert` is true: forty years of history
    must not page every channel. Raises `UnreadableFile` when the file as a whole cannot
    be read; every other problem is a line of the report.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; use one of {', '.join(FORMATS)}")
    source = read_text(path)
    parsed = FORMATS[fmt].parse(source.text, path)
    parsed.notes[:0] = source.notes  # lines read as cp1252: reported with the others
    return await _Importer(store, scope, alert, parsed).run()


class _Importer:
    def __init__(self, store: Store, scope: Scope, alert: bool, parsed: Parsed) -> None:
        self.store = store
        self.scope = scope
        self.alert = alert
        self.parsed = parsed
        self.report = ImportReport(problems=list(parsed.notes))
        self.by_key: dict[str, Event] = {}
        self.by_id: dict[int, Event] = {}
        self.seen: set[str] = set()
        self.default_actor = "DPRK"
        self.stored: dict[int, Reaction] = {}
        self.exact: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        self.alike: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        self.claimed: set[int] = set()
        #: New events waiting to be added together.
        self.pending: list[_New] = []
        self.batch = FIRST_BATCH
        self.turns = _Turns()

    async def run(self) -> ImportReport:
        settings = await get_settings(self.store, self.scope.guild_id)
        self.default_actor = settings.default_actor or "DPRK"
        own = Scope(self.scope.guild_id, self.scope.user_id)
        for event in await list_events(self.store, own, TimelineFilter()):
            self._remember(event)
        for row in self.parsed.events:
            await self._guarded(row.line, row.error, self._event, row)
            if len(self.pending) >= self.batch:
                await self._flush()
        await self._flush()
        if self.parsed.reactions:
            await self._reactions(self.parsed.reactions)
        self.report.problems.sort(key=lambda p: p[0])
        self.report.warnings.sort(key=lambda w: w.line)
        return self.report

    async def _guarded(
        self, line: int, error: str | None, step: Callable[[Any], Awaitable[None]], row: Any
    ) -> None:
        """Run one row's step; a refusal becomes a problem of that line, and the rest goes on."""
        if error is None:
            try:
                await step(row)
                return
            except ValidationError as exc:
                field = self.parsed.labels.get(exc.field, exc.field)
                error = f"{field}: {exc.fix}"
            except LaunchWatchError as exc:
                error = str(exc)
        self.report.skipped += 1
        self.report.problems.append((line, error))

    def _remember(self, event: Event, key: str | None = None) -> None:
        self.by_id[event.id] = event
        for k in (event.external_id, key):
            if k:
                self.by_key[k] = event

    # -- events ---------------------------------------------------------------------------
    async def _event(self, row: EventRow) -> None:
        assert row.raw is not None
        raw = dict(row.raw)
        if validation._blank(raw.get("actor")):
            raw["actor"] = self.default_actor
        key = validation.text("external_id", raw.get("external_id"))
        if key is None:
            raise ValidationError(
                "external_id",
                _(
                    "is empty; give every row a unique id (such as sheet:12) so importing the "
                    "file again updates the event instead of adding a copy."
                ),
            )
        if key in self.seen:
            raise ValidationError(
                "external_id",
                _("{id} is on an earlier row of this file too; ids must be unique.").format(id=key),
            )
        self.seen.add(key)
        existing = self.by_key.get(key) or self._same_guild_origin(key, row)
        if existing is not None:
            self._remember(existing, key)  # the file's reactions name it by this key
            if existing.external_id is None:
                raw.pop("external_id", None)  # an lw:<id> match keeps the event as it is
        reason = None
        if row.retraction_reason is not None:
            reason = validation.text("retraction_reason", row.retraction_reason, required=True)
        bad = dict(row.unreadable)
        _without(raw, bad, existing)
        demoted = None
        try:
            values, sources = _validated(raw, existing, reason)
        except ValidationError:
            # Rare, so only now look field by field for what cannot be read.
            more = _unreadable(raw)
            _without(raw, more, existing)
            bad.update(more)
            confidence = validation.enum("confidence", raw.get("confidence"))
            if reason is None and not raw.get("sources") and confidence in _NEEDS_SOURCE:
                demoted, raw["confidence"] = confidence, "reported"
            values, sources = _validated(raw, existing, reason)
        warnings = [
            ImportWarning(row.line, self.parsed.labels.get(f, f), why) for f, why in bad.items()
        ]
        if demoted is not None:
            label = self.parsed.labels.get("confidence", "confidence")
            warnings.append(ImportWarning(row.line, label, demoted_from=demoted))
        notes = {f: text for f, text in row.notes.items() if f not in bad}
        if existing is None and reason is None:
            self.pending.append(_New(row.line, key, (values, sources), notes, warnings))
            return
        if existing is None:
            await self._flush()  # keep the file's order: ids follow the rows
            (event,) = await insert_validated(
                self.store, self.scope, [(values, sources)], alert=False, now=None, notes=[notes]
            )
            event = await retract_event(self.store, self.scope, event.id, reason or "")
            self._remember(event, key)
            self.report.imported += 1
            self._warn(warnings)
            return
        notes = await self._notes_to_write(existing, values, notes)
        if _same(existing, values, sources, reason) and not notes:
            self.report.unchanged += 1
            self._warn(warnings)
            return
        if existing.retracted:
            raise ValidationError(
                "confidence",
                _(
                    "event {id} ({key}) is retracted in this server; an import does not change a "
                    "retracted event. Add a new event instead."
                ).format(id=existing.id, key=key),
            )
        event, changed = await update_event_fields(
            self.store, self.scope, existing.id, raw, alert=self.alert, notes=notes
        )
        await self.turns.wrote()
        if reason is not None:
            event = await retract_event(self.store, self.scope, event.id, reason)
            changed = [*changed, "confidence"]
        self._remember(event, key)
        if changed:
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        self._warn(warnings)

    def _warn(self, warnings: list[ImportWarning]) -> None:
        """Count a row kept without some field; called once the row is in the store."""
        if warnings:
            self.report.warned += 1
            self.report.warnings.extend(warnings)

    async def _notes_to_write(
        self, event: Event, values: Mapping[str, Any], notes: dict[str, str]
    ) -> dict[str, str]:
        """The notes this row adds to a stored event: those of a value that changes, and
        those whose text differs from the field's last note (a re-import adds none)."""
        if not notes or event.retracted:
            return {}
        last: dict[str | None, str | None] = {}
        for revision in await event_history(self.store, self.scope, event.id):
            if revision.field == IMPORT_NOTE:
                last[revision.old] = revision.new
        current = event.as_record()
        return {
            f: text
            for f, text in notes.items()
            if last.get(f) != text or differs(current.get(f), values.get(f))
        }

    async def _flush(self) -> None:
        """Add the pending new events in one transaction; if that fails, row by row, so a
        refusal names its own line and the others still import."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            started = time.monotonic()
            events = await insert_validated(
                self.store,
                self.scope,
                [new.validated for new in batch],
                alert=self.alert,
                now=None,
                notes=[new.notes for new in batch],
            )
            took = time.monotonic() - started
            # Size the next batch to fill about 80% of HOLD at the rate this one ran.
            fit = int(len(batch) * 0.8 * HOLD / max(took, 1e-3))
            self.batch = max(1, min(MAX_BATCH, fit, 2 * len(batch) + FIRST_BATCH))
            await self.turns.wrote()
        except LaunchWatchError:
            for new in batch:
                await self._guarded(new.line, None, self._add_one, new)
            return
        for new, event in zip(batch, events, strict=True):
            self._remember(event, new.key)
            self._warn(new.warnings)
        self.report.imported += len(events)

    async def _add_one(self, new: _New) -> None:
        (event,) = await insert_validated(
            self.store, self.scope, [new.validated], alert=self.alert, now=None, notes=[new.notes]
        )
        self._remember(event, new.key)
        self.report.imported += 1
        self._warn(new.warnings)

    def _same_guild_origin(self, key: str, row: EventRow) -> Event | None:
        """Event <id> for an `lw:<id>` row this guild exported, if it still has no external_id."""
        if row.origin is None or not key.startswith("lw:"):
            return None
        guild_id, event_id, created_at = row.origin
        event = self.by_id.get(event_id)
        if (
            key == f"lw:{event_id}"
            and guild_id == self.scope.guild_id
            and event is not None
            and event.external_id is None
            and event.created_at == created_at
        ):
            return event
        return None

    # -- reactions ------------------------------------------------------------------------
    async def _reactions(self, rows: list[ReactionRow]) -> None:
        for reaction in await all_reactions(self.store, self.scope):
            self._keep(reaction)
        for row in rows:
            await self._guarded(row.line, row.error, self._reaction, row)

    def _keep(self, reaction: Reaction) -> None:
        self.stored[reaction.id] = reaction
        record = reaction.as_record()
        self.exact[_reaction_key(record, record["sources"])].append(reaction.id)
        self.alike[_content(record)].append(reaction.id)

    async def _reaction(self, row: ReactionRow) -> None:
        assert row.raw is not None
        raw: dict[str, Any] = dict(row.raw)
        if row.event_external_id is not None:
            event = self.by_key.get(row.event_external_id)
            if event is None:
                raise ValidationError(
                    "event_external_id",
                    _("no event {id} in this file or this server; import its event first.").format(
                        id=row.event_external_id
                    ),
                )
            raw["event_id"] = event.id
        values, sources = validation.reaction(raw)
        for reaction_id in self.exact.get(_reaction_key(values, sources), []):
            if reaction_id not in self.claimed:
                self.claimed.add(reaction_id)
                self.report.unchanged += 1
                return
        near = None
        if any(i not in self.claimed for i in self.alike.get(_content(values), [])):
            # Only when a near match is likely: the service scans every reaction per call.
            async with self.store.read() as q:
                near = await find_reaction_by_content(q, self.scope.guild_id, values)
        if near is not None and near not in self.claimed:
            raise ValidationError(
                "reaction",
                _(
                    "reaction {id} says the same but differs in its other fields or sources; "
                    "reactions are not changed by an import: remove it with /reaction remove and "
                    "import again."
                ).format(id=near),
            )
        reaction = await add_reaction(self.store, self.scope, raw)
        self._keep(reaction)
        self.claimed.add(reaction.id)
        self.report.imported += 1


#: Confidences an event may hold only with a source.
_NEEDS_SOURCE = ("confirmed", "disputed")


def _unreadable(raw: Mapping[str, Any]) -> dict[str, str]:
    """The fields of `raw` that cannot be stored, checked one by one (-> why), except those
    a row cannot be kept without: their errors skip the row, as before."""
    bad = {}
    for name, value in raw.items():
        if name in _ESSENTIAL or (name in _DEFAULTED and validation._blank(value)):
            continue
        try:
            if name == "sources":
                validation.sources(value)
            else:
                validation.event_field(name, value)
        except ValidationError as exc:
            bad[name] = exc.fix
    return bad


def _without(raw: dict[str, Any], fields: Mapping[str, str], existing: Event | None) -> None:
    """Leave unreadable fields out of `raw`: a new event gets the services' default, a
    stored one keeps its value (unknown is not empty)."""
    for name in fields:
        if name == "time":  # the launch time: the date is already the day alone
            if existing is not None and existing.date.at is not None:
                if existing.date.text == raw.get("date"):
                    raw["date"] = existing.date
        elif existing is None or (name == "confidence" and existing.retracted):
            raw.pop(name, None)
        elif name == "sources":
            raw["sources"] = [s.as_dict() for s in existing.sources]
        elif name in _STORED:
            raw[name] = getattr(existing, name)
        else:
            raw.pop(name, None)


#: Event fields `_without` may copy from a stored event.
_STORED = frozenset(specs(Event)) - {"date", "sources"}


def _validated(raw: dict[str, Any], existing: Event | None, reason: str | None) -> Validated:
    if reason is not None:
        raw["confidence"] = _before_retraction(existing, raw.get("sources"))
    return validation.event(raw)


class _Turns:
    """Step aside for `STEP_ASIDE` after about `HOLD` seconds of back-to-back writes: SQLite
    gives its lock to whoever asks when it is free, and a waiting process's busy handler
    polls, so an import that commits and begins again at once could starve it."""

    def __init__(self) -> None:
        self.since = time.monotonic()

    async def wrote(self) -> None:
        if time.monotonic() - self.since >= HOLD:
            await asyncio.sleep(STEP_ASIDE)
            self.since = time.monotonic()


def _before_retraction(existing: Event | None, sources: Any) -> str:
    """The confidence to hold a retracted row at until `retract_event`: keep the event's own
    when the sources allow it, else `reported` (which needs none)."""
    if (
        existing is not None
        and not existing.retracted
        and (sources or existing.confidence == "reported")
    ):
        return existing.confidence
    return "reported"


def _same(
    event: Event, values: Mapping[str, Any], sources: list[dict[str, Any]], reason: str | None
) -> bool:
    """Would these validated values leave the event as it is? (As `_apply` compares.)"""
    current = event.as_record()
    for column, new in values.items():
        if column != "confidence" and differs(current.get(column), new):
            return False
    if reason is not None:
        if not event.retracted or event.retraction_reason != reason:
            return False
    elif event.confidence != values["confidence"]:
        return False
    return [s.as_dict() for s in event.sources] == sources


def _content(values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values.get(k) for k in _CONTENT_KEY)


def _reaction_key(values: Mapping[str, Any], sources: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Every stored field of a reaction, hashable: equal keys are the same reaction."""
    return (
        *(values.get(k) for k in _REACTION_KEY),
        *(tuple(sorted(s.items())) for s in sources),
    )
