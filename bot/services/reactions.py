"""Reactions of governments and analysts, to one event or to a series of events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot import validation
from bot.dates import PartialDate, since_bound, until_bound
from bot.errors import Forbidden, NotFound, ValidationError
from bot.i18n import _
from bot.models import Page, Reaction, Source
from bot.services.context import Scope, now_iso
from bot.services.events import _visible
from db import Queries, Store
from db.reactions import ReactionFilter

PER_PAGE = 10


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
        added = await q.reactions.add(Reaction.from_row(row, [Source(**s) for s in sources]))
        stored = await q.reactions.get(added.id)
        assert stored is not None
        return stored


async def get_reaction(store: Store, scope: Scope, reaction_id: int) -> Reaction:
    async with store.read() as q:
        reaction = await q.reactions.get(int(reaction_id))
    if reaction is None or not scope.can_see(reaction.guild_id):
        raise NotFound("reaction", reaction_id)
    return reaction


async def remove_reaction(store: Store, scope: Scope, reaction_id: int) -> Reaction:
    async with store.transaction() as q:
        reaction = await q.reactions.get(int(reaction_id))
        if reaction is None or not scope.can_see(reaction.guild_id):
            raise NotFound("reaction", reaction_id)
        if reaction.guild_id != scope.guild_id:
            raise Forbidden(
                _(
                    "This reaction belongs to another server's feed; only its moderators can "
                    "remove it."
                )
            )
        await q.reactions.remove(reaction.id)
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
        total = await q.reactions.count(f)
        page = max(0, min(page, max(0, (total - 1) // per_page)))
        found = await q.reactions.page(f, per_page, page * per_page)
        return Page(found, page, per_page, total)


async def search_reactions(
    store: Store, scope: Scope, text: str, limit: int = 25
) -> list[Reaction]:
    """This guild's reactions matching every word typed (for autocomplete), newest first."""
    async with store.read() as q:
        return await q.search.reactions([scope.guild_id], text.lower().split()[:8], limit)


async def all_reactions(store: Store, scope: Scope) -> list[Reaction]:
    async with store.read() as q:
        return await q.reactions.of_guilds([scope.guild_id])


async def find_reaction_by_content(
    q: Queries, guild_id: int, values: Mapping[str, Any]
) -> int | None:
    """The id of an identical reaction already stored (keeps imports idempotent)."""
    for reaction in await q.reactions.of_guilds([guild_id]):
        if all(
            getattr(reaction, k) == values.get(k)
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
            return reaction.id
    return None
