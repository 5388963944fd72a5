"""/launch: one event in full: facts, sources, reactions and change log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import services
from bot.embeds import COLOURS, NEUTRAL, embed
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
        await interaction.response.send_message(embed=shown)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Launch(bot))
