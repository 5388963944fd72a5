"""Importing a file: match each row to what the guild holds, then add, update or leave it.

Everything goes through the services, so every row is validated and every change gets its
revisions, exactly as a moderator's would. The file is parsed first: a file that cannot
be read changes nothing; a row that cannot be read is reported with its line and skipped.

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

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from bot import validation
from bot.errors import LaunchWatchError, ValidationError
from bot.models import Event, Reaction
from bot.services import (
    Scope,
    TimelineFilter,
    add_event,
    add_reaction,
    get_settings,
    list_events,
    retract_event,
)
from bot.services.events import insert_validated, update_event_fields
from bot.services.reactions import all_reactions, find_reaction_by_content
from bot.transfer import cns, records
from bot.transfer.parsing import EventRow, Parsed, ReactionRow, read_text
from db import Store

Validated = tuple[dict[str, Any], list[dict[str, Any]]]
#: New events added per transaction: large enough to import thousands of rows a second.
BATCH = 500

#: The fields `find_reaction_by_content` compares: two reactions alike in these are one
#: statement, whatever else differs.
_CONTENT_KEY = ("event_id", "since", "until", "actor", "stance", "summary", "said_on", "speaker")
_REACTION_KEY = (
    "event_id", "since", "until", "actor", "actor_kind", "speaker", "speaker_title",
    "affiliation", "stance", "summary", "quote", "said_on",
)  # fmt: skip


@dataclass
class ImportReport:
    """What an import did. Each problem is (line where the record starts, reason)."""

    imported: int = 0
    updated: int = 0
    skipped: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"imported {self.imported}, updated {self.updated}, "
            f"skipped {self.skipped}, unchanged {self.unchanged}"
        )


async def import_file(
    store: Store,
    scope: Scope,
    path: Path,
    fmt: Literal["cns", "csv", "json"],
    *,
    alert: bool = False,
) -> ImportReport:
    """Import a CNS database CSV, or our own CSV or JSON export, into `scope.guild_id`.

    Alerts (and corrections) go out only when `alert` is true: forty years of history
    must not page every channel. Raises `UnreadableFile` when the file as a whole cannot
    be read; every other problem is a line of the report.
    """
    path = Path(path)
    if fmt not in ("cns", "csv", "json"):
        raise ValueError(f"unknown import format {fmt!r}; use cns, csv or json")
    text = read_text(path)
    if fmt == "cns":
        parsed = cns.parse(text, path)
    elif fmt == "csv":
        parsed = records.parse_csv(text, path)
    else:
        parsed = records.parse_json(text, path)
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
        #: New events waiting to be added together: (line, key, raw, validated).
        self.pending: list[tuple[int, str, dict[str, Any], Validated]] = []

    async def run(self) -> ImportReport:
        settings = await get_settings(self.store, self.scope.guild_id)
        self.default_actor = settings.default_actor or "DPRK"
        own = Scope(self.scope.guild_id, self.scope.user_id)
        for event in await list_events(self.store, own, TimelineFilter()):
            self._remember(event)
        for row in self.parsed.events:
            await self._guarded(row.line, row.error, self._event, row)
            if len(self.pending) >= BATCH:
                await self._flush()
        await self._flush()
        if self.parsed.reactions:
            await self._reactions(self.parsed.reactions)
        self.report.problems.sort(key=lambda p: p[0])
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
                "is empty; give every row a unique id (such as sheet:12) so importing the "
                "file again updates the event instead of adding a copy.",
            )
        if key in self.seen:
            raise ValidationError(
                "external_id", f"{key} is on an earlier row of this file too; ids must be unique."
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
            raw["confidence"] = _before_retraction(existing, raw.get("sources"))
        values, sources = validation.event(raw)
        if existing is None and reason is None:
            self.pending.append((row.line, key, raw, (values, sources)))
            return
        if existing is None:
            await self._flush()  # keep the file's order: ids follow the rows
            event = await add_event(self.store, self.scope, raw, alert=False)
            event = await retract_event(self.store, self.scope, event.id, reason or "")
            self._remember(event, key)
            self.report.imported += 1
            return
        if _same(existing, values, sources, reason):
            self.report.unchanged += 1
            return
        if existing.retracted:
            raise ValidationError(
                "confidence",
                f"event {existing.id} ({key}) is retracted in this server; an import does not "
                "change a retracted event. Add a new event instead.",
            )
        event, changed = await update_event_fields(
            self.store, self.scope, existing.id, raw, alert=self.alert
        )
        if reason is not None:
            event = await retract_event(self.store, self.scope, event.id, reason)
            changed = [*changed, "confidence"]
        self._remember(event, key)
        if changed:
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    async def _flush(self) -> None:
        """Add the pending new events in one transaction; if that fails, row by row, so a
        refusal names its own line and the others still import."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            validated = [v for *_, v in batch]
            events = await insert_validated(
                self.store, self.scope, validated, alert=self.alert, now=None
            )
        except LaunchWatchError:
            for line, key, raw, _ in batch:
                await self._guarded(line, None, self._add_one, (key, raw))
            return
        for (_, key, *_), event in zip(batch, events, strict=True):
            self._remember(event, key)
        self.report.imported += len(events)

    async def _add_one(self, item: tuple[str, dict[str, Any]]) -> None:
        key, raw = item
        event = await add_event(self.store, self.scope, raw, alert=self.alert)
        self._remember(event, key)
        self.report.imported += 1

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
                    f"no event {row.event_external_id} in this file or this server; "
                    "import its event first.",
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
                f"reaction {near} says the same but differs in its other fields or sources; "
                "reactions are not changed by an import: remove it with /reaction remove "
                "and import again.",
            )
        reaction = await add_reaction(self.store, self.scope, raw)
        self._keep(reaction)
        self.claimed.add(reaction.id)
        self.report.imported += 1


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
        if column != "confidence" and _differs(current.get(column), new):
            return False
    if reason is not None:
        if not event.retracted or event.retraction_reason != reason:
            return False
    elif event.confidence != values["confidence"]:
        return False
    return [s.as_dict() for s in event.sources] == sources


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(old) != float(new)
    if isinstance(old, str) and isinstance(new, str) and old.endswith("Z"):
        try:
            return datetime.fromisoformat(old) != datetime.fromisoformat(new)
        except ValueError:
            return old != new
    return bool(old != new)


def _content(values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(values.get(k) for k in _CONTENT_KEY)


def _reaction_key(values: Mapping[str, Any], sources: list[dict[str, Any]]) -> tuple[Any, ...]:
    """Every stored field of a reaction, hashable: equal keys are the same reaction."""
    return (
        *(values.get(k) for k in _REACTION_KEY),
        *(tuple(sorted(s.items())) for s in sources),
    )
