"""Typed slash-command options: each command receives a PartialDate or an Event, never raw text.

Errors raised here surface as `TransformerError` whose cause is our typed error; the
tree's handler reads the cause and answers with its fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot import services, validation
from bot.dates import PartialDate
from bot.errors import NotFound, ValidationError
from bot.i18n import _
from bot.models import Event, Reaction
from bot.render import clip, render

if TYPE_CHECKING:
    from bot.client import LaunchWatch

MAX_CHOICES = 25


def _bot(interaction: discord.Interaction) -> LaunchWatch:
    return cast("LaunchWatch", interaction.client)


class DateTransformer(app_commands.Transformer):
    """`2024`, `2024-01` or `2024-01-25` (or a UTC minute) as a PartialDate."""

    async def transform(self, interaction: discord.Interaction, value: Any) -> PartialDate:
        parsed = validation.partial_date(self.name_hint, value, required=True)
        assert parsed is not None
        return parsed

    name_hint = "date"


class SinceTransformer(DateTransformer):
    name_hint = "since"


class UntilTransformer(DateTransformer):
    name_hint = "until"


class SaidOnTransformer(DateTransformer):
    name_hint = "said_on"


def _is_id(text: str) -> bool:
    """An id as autocomplete sends it: ASCII digits that fit the store's 64-bit integers."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def check_range(since: PartialDate | None, until: PartialDate | None) -> None:
    """Refuse an `until` that ends before `since` begins (the person swapped them)."""
    if since is not None and until is not None and until.last_day < since.first_day:
        raise ValidationError(
            "until",
            _("{until} is before since {since}; swap them.").format(
                since=since.iso(), until=until.iso()
            ),
        )


def event_choice_name(event: Event) -> str:
    """How an event appears in an autocomplete list: `2024-01-29 · cruise missile · submarine`."""
    return clip(render("commands/event_choice.j2", event=event), 100)


class EventTransformer(app_commands.Transformer):
    """An event this server can see, chosen by autocomplete (its id) or typed (its id)."""

    async def transform(self, interaction: discord.Interaction, value: Any) -> Event:
        bot = _bot(interaction)
        text = str(value).strip().lstrip("#")
        if not _is_id(text):
            matches = await services.search_events(bot.store, bot.scope(interaction), text, limit=2)
            if len(matches) != 1:
                raise NotFound("event", value)
            return matches[0]
        return await services.get_event(bot.store, bot.scope(interaction), int(text))

    async def autocomplete(
        self, interaction: discord.Interaction, value: Any
    ) -> list[app_commands.Choice[int | float | str]]:
        bot = _bot(interaction)
        events = await services.search_events(
            bot.store, bot.scope(interaction), str(value or ""), MAX_CHOICES
        )
        return [app_commands.Choice(name=event_choice_name(e), value=str(e.id)) for e in events]


class ReactionTransformer(app_commands.Transformer):
    """A reaction by id, offered by autocomplete from this server's reactions."""

    async def transform(self, interaction: discord.Interaction, value: Any) -> Reaction:
        bot = _bot(interaction)
        text = str(value).strip().lstrip("#")
        if not _is_id(text):
            found = await services.search_reactions(bot.store, bot.scope(interaction), text, 2)
            if len(found) != 1:
                raise NotFound("reaction", value)
            return found[0]
        return await services.get_reaction(bot.store, bot.scope(interaction), int(text))

    async def autocomplete(
        self, interaction: discord.Interaction, value: Any
    ) -> list[app_commands.Choice[int | float | str]]:
        bot = _bot(interaction)
        found = await services.search_reactions(
            bot.store, bot.scope(interaction), str(value or ""), MAX_CHOICES
        )
        return [
            app_commands.Choice(
                name=clip(render("commands/reaction_choice.j2", reaction=r), 100), value=str(r.id)
            )
            for r in found
        ]


Date = app_commands.Transform[PartialDate, DateTransformer]
Since = app_commands.Transform[PartialDate, SinceTransformer]
Until = app_commands.Transform[PartialDate, UntilTransformer]
SaidOn = app_commands.Transform[PartialDate, SaidOnTransformer]
EventOption = app_commands.Transform[Event, EventTransformer]
ReactionOption = app_commands.Transform[Reaction, ReactionTransformer]
