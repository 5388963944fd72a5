"""/launch: one event in full: facts, sources, reactions, change log, and its map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import services
from bot.alerts import MAP_FILE
from bot.embeds import COLOURS, NEUTRAL, attach, embed
from bot.transformers import EventOption

if TYPE_CHECKING:
    from bot.client import LaunchWatch


class Launch(commands.Cog):
    def __init__(self, bot: LaunchWatch) -> None:
        self.bot = bot

    @app_commands.command(
        name="launch", description="One launch in full: facts, sources, reactions and change log"
    )
    @app_commands.describe(
        event="The launch: type a date (jan 29), a place (kim chaek) or a platform (submarine)"
    )
    @app_commands.guild_only()
    async def launch(self, interaction: discord.Interaction, event: EventOption) -> None:
        # Its map may take a moment to draw (in the picture worker): "thinking" first.
        await interaction.response.defer(thinking=True)
        scope = self.bot.scope(interaction)
        history = await services.event_history(self.bot.store, scope, event.id)
        said = await services.reactions(self.bot.store, scope, event_id=event.id, per_page=25)
        shown = embed(
            "commands/launch.j2",
            colour=COLOURS.get(event.category, NEUTRAL),
            event=event,
            history=history,
            reactions=said,
        )
        picture = await self.bot.pictures.launch_map(event)
        if picture is None:
            await interaction.followup.send(embed=shown)
            return
        await interaction.followup.send(embed=shown, file=attach(shown, picture, MAP_FILE))


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Launch(bot))
