"""Reactions of governments and analysts, to one event or to a series of events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot import validation
from bot.dates import PartialDate, since_bound, until_bound
from bot.errors import Forbidden, NotFound, ValidationError
from bot.i18n import _
from bot.models import Page, Reaction
from bot.services.context import Scope, now_iso
from bot.services.events import _visible
from db import Queries, Store
from db.queries import ReactionFilter

PER_PAGE = 10


async def _load(q: Queries, rows: list[dict[str, Any]]) -> list[Reaction]:
    srcs = await q.sources_for("reaction", [r["id"] for r in rows])
    return [Reaction.from_row(r, srcs[r["id"]]) for r in rows]


async def add_reaction(
    store: Store, scope: Scope, raw: Mapping[str, Any], *, now: datetime | None = None
) -> Reaction:
    """Store a reaction; its event (when given) must be visible to this guild."""
    values, sources = validation.reaction(raw, now=now)
    async with store.transaction() as q:
        if values["event_id"] is not None:
            try:
                event = await _visible(q, scope, int(values["event_id"]))
            except (NotFound, ValueError):
                raise ValidationError(
                    "event",
                    _("there is no event {id}; pick one from the list as you type.").format(
                        id=values["event_id"]
                    ),
                ) from None
            values["event_id"] = event.id
        row = {
            **values,
            "guild_id": scope.guild_id,
            "created_by": scope.user_id,
            "created_at": now_iso(now),
        }
        reaction_id = await q.insert_reaction(row)
        await q.insert_sources("reaction", reaction_id, sources)
        stored = await q.get_reaction(reaction_id)
        assert stored is not None
        return (await _load(q, [stored]))[0]


async def get_reaction(store: Store, scope: Scope, reaction_id: int) -> Reaction:
    async with store.read() as q:
        row = await q.get_reaction(int(reaction_id))
        if row is None or not scope.can_see(row["guild_id"]):
            raise NotFound("reaction", reaction_id)
        return (await _load(q, [row]))[0]


async def remove_reaction(store: Store, scope: Scope, reaction_id: int) -> Reaction:
    async with store.transaction() as q:
        row = await q.get_reaction(int(reaction_id))
        if row is None or not scope.can_see(row["guild_id"]):
            raise NotFound("reaction", reaction_id)
        if row["guild_id"] != scope.guild_id:
            raise Forbidden(
                _(
                    "This reaction belongs to another server's feed; only its moderators can "
                    "remove it."
                )
            )
        reaction = (await _load(q, [row]))[0]
        await q.delete_reaction(reaction.id)
        return reaction


async def reactions(
    store: Store,
    scope: Scope,
    *,
    event_id: int | None = None,
    actor: str | None = None,
    since: PartialDate | None = None,
    until: PartialDate | None = None,
    page: int = 0,
    per_page: int = PER_PAGE,
) -> Page[Reaction]:
    """Reactions by event (with series covering its date), by actor, or by period.

    Governments' statements come first, grouped by actor; analysts' assessments after.
    """
    async with store.read() as q:
        event_day = None
        if event_id is not None:
            event = await _visible(q, scope, int(event_id))
            event_day = event.date.text
        f = ReactionFilter(
            guild_ids=scope.visible_guilds,
            event_id=event_id,
            event_day=event_day,
            actor=actor,
            since=since_bound(since) if since else None,
            until=until_bound(until) if until else None,
        )
        total = await q.count_reactions(f)
        page = max(0, min(page, max(0, (total - 1) // per_page)))
        rows = await q.list_reactions(f, per_page, page * per_page)
        return Page(await _load(q, rows), page, per_page, total)


async def search_reactions(
    store: Store, scope: Scope, text: str, limit: int = 25
) -> list[Reaction]:
    """This guild's reactions matching every word typed (for autocomplete), newest first."""
    async with store.read() as q:
        rows = await q.search_reactions([scope.guild_id], text.lower().split()[:8], limit)
        return await _load(q, rows)


async def all_reactions(store: Store, scope: Scope) -> list[Reaction]:
    async with store.read() as q:
        return await _load(q, await q.all_reactions([scope.guild_id]))


async def find_reaction_by_content(
    q: Queries, guild_id: int, values: Mapping[str, Any]
) -> int | None:
    """The id of an identical reaction already stored (keeps imports idempotent)."""
    for row in await q.all_reactions([guild_id]):
        if all(
            row.get(k) == values.get(k)
            for k in (
                "event_id",
                "since",
                "until",
                "actor",
                "stance",
                "summary",
                "said_on",
                "speaker",
            )
        ):
            return int(row["id"])
    return None
