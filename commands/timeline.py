"""/timeline: launches in date order, ten to a page, with their sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import services
from bot.embeds import COLOURS, NEUTRAL, embed
from bot.services import TimelineFilter
from bot.transformers import Since, Until, check_range
from bot.views import TIMEOUT, send_paged
from commands.options import CATEGORY_CHOICES, FILTER_HELP

if TYPE_CHECKING:
    from bot.client import LaunchWatch


class Timeline(commands.Cog):
    def __init__(self, bot: LaunchWatch, *, page_timeout: float = TIMEOUT) -> None:
        self.bot = bot
        self.page_timeout = page_timeout

    @app_commands.command(
        name="timeline", description="Launches in date order, oldest first, with their sources"
    )
    @app_commands.describe(
        **FILTER_HELP,
        region="Only this region, e.g. korean-peninsula",
    )
    @app_commands.choices(category=CATEGORY_CHOICES)
    @app_commands.guild_only()
    async def timeline(
        self,
        interaction: discord.Interaction,
        since: Since | None = None,
        until: Until | None = None,
        category: str | None = None,
        actor: app_commands.Range[str, 1, 100] | None = None,
        region: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        check_range(since, until)
        filters = TimelineFilter(
            since=since, until=until, category=category, actor=actor, region=region
        )
        scope = self.bot.scope(interaction)

        async def page(n: int) -> tuple[discord.Embed, int, int]:
            result, applied = await services.timeline(self.bot.store, scope, filters, n)
            colour = COLOURS.get(category or "", NEUTRAL)
            shown = embed(
                "commands/timeline.j2", colour=colour, page=result, filters=applied, asked=filters
            )
            return shown, result.page, result.pages

        await send_paged(interaction, page, timeout=self.page_timeout)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Timeline(bot))
