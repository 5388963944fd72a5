"""/reaction: moderators record and remove the reactions of governments and analysts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import services
from bot.embeds import embed
from bot.models import ACTOR_KINDS, STANCES
from bot.transformers import EventOption, ReactionOption, SaidOn, Since, Until
from bot.tree import answer_privately
from commands.checks import ModeratorCog
from commands.options import choices

if TYPE_CHECKING:
    from bot.client import LaunchWatch


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Reaction(
    ModeratorCog,
    group_name="reaction",
    group_description="Record reactions to launches (moderators)",
):
    @app_commands.command(
        name="add",
        description="Record what a government or analyst said about a launch or a series",
    )
    @app_commands.describe(
        actor="Who reacted: a government (Japan) or a person (Ankit Panda)",
        stance="Their stance",
        summary="What they said, in a sentence or two",
        event="The launch they reacted to (or give since/until for a series)",
        since="First day of the series of launches they reacted to",
        until="Last day of that series",
        actor_kind="What kind of actor",
        speaker="Who spoke, e.g. a ministry spokesperson's name",
        speaker_title="The speaker's title",
        affiliation="The speaker's institution",
        quote="Their exact words",
        source_url="A link to the report (http or https)",
        said_on="When they said it: 2024-01-30",
    )
    @app_commands.choices(stance=choices(STANCES), actor_kind=choices(ACTOR_KINDS))
    async def add(
        self,
        interaction: discord.Interaction,
        actor: app_commands.Range[str, 1, 100],
        stance: str,
        summary: app_commands.Range[str, 1, 2000],
        event: EventOption | None = None,
        since: Since | None = None,
        until: Until | None = None,
        actor_kind: str | None = None,
        speaker: app_commands.Range[str, 1, 100] | None = None,
        speaker_title: app_commands.Range[str, 1, 200] | None = None,
        affiliation: app_commands.Range[str, 1, 200] | None = None,
        quote: app_commands.Range[str, 1, 1500] | None = None,
        source_url: app_commands.Range[str, 1, 500] | None = None,
        said_on: SaidOn | None = None,
    ) -> None:
        raw = {
            "actor": actor, "stance": stance, "summary": summary,
            "event_id": event.id if event else None, "since": since, "until": until,
            "actor_kind": actor_kind, "speaker": speaker, "speaker_title": speaker_title,
            "affiliation": affiliation, "quote": quote, "said_on": said_on,
            "sources": [{"url": source_url}] if source_url else [],
        }  # fmt: skip
        reaction = await services.add_reaction(self.bot.store, self.bot.scope(interaction), raw)
        shown = embed("commands/reaction_added.j2", reaction=reaction, event=event)
        await answer_privately(interaction, embed=shown)

    @app_commands.command(name="remove", description="Remove a reaction recorded by mistake")
    @app_commands.describe(reaction="The reaction: type an actor or words from it")
    async def remove(self, interaction: discord.Interaction, reaction: ReactionOption) -> None:
        removed = await services.remove_reaction(
            self.bot.store, self.bot.scope(interaction), reaction.id
        )
        shown = embed("commands/reaction_removed.j2", reaction=removed)
        await answer_privately(interaction, embed=shown)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Reaction(bot))
