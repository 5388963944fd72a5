"""/about: what LaunchWatch is, its version, and what the store holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import embed

if TYPE_CHECKING:
    from bot.client import LaunchWatch


class About(commands.Cog):
    def __init__(self, bot: LaunchWatch) -> None:
        self.bot = bot

    @app_commands.command(
        name="about", description="What LaunchWatch is, its version and what it holds"
    )
    @app_commands.guild_only()
    async def about(self, interaction: discord.Interaction) -> None:
        scope = self.bot.scope(interaction)
        async with self.bot.store.read() as q:
            counts = await q.counts(scope.visible_guilds)
        await interaction.response.send_message(
            embed=embed(
                "commands/about.j2",
                version=self.bot.version,
                counts=counts,
                backend=self.bot.store.backend,
            ),
            ephemeral=True,
        )


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(About(bot))
