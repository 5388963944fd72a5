"""/reactions: who said what, grouped by actor, about a launch, an actor or a period."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import services
from bot.embeds import embed
from bot.transformers import EventOption, Since, Until, check_range
from bot.views import TIMEOUT, send_paged

if TYPE_CHECKING:
    from bot.client import LaunchWatch


PER_PAGE = 5
"""Reactions to a page: each carries a quote and a summary, and an embed holds 6,000 characters."""


class Reactions(commands.Cog):
    def __init__(self, bot: LaunchWatch, *, page_timeout: float = TIMEOUT) -> None:
        self.bot = bot
        self.page_timeout = page_timeout

    @app_commands.command(
        name="reactions", description="What governments and analysts said, grouped by who said it"
    )
    @app_commands.describe(
        event="Reactions to this launch (and to series covering its date)",
        actor="Reactions of this government or analyst over time, e.g. Japan",
        since="Said from this date: 2024, 2024-01 or 2024-01-25",
        until="Said up to this date, inclusive",
    )
    @app_commands.guild_only()
    async def reactions(
        self,
        interaction: discord.Interaction,
        event: EventOption | None = None,
        actor: app_commands.Range[str, 1, 100] | None = None,
        since: Since | None = None,
        until: Until | None = None,
    ) -> None:
        check_range(since, until)
        scope = self.bot.scope(interaction)

        async def page(n: int) -> tuple[discord.Embed, int, int]:
            result = await services.reactions(
                self.bot.store,
                scope,
                event_id=event.id if event else None,
                actor=actor,
                since=since,
                until=until,
                page=n,
                per_page=PER_PAGE,
            )
            shown = embed(
                "commands/reactions.j2",
                page=result,
                event=event,
                actor=actor,
                since=since,
                until=until,
            )
            return shown, result.page, result.pages

        await send_paged(interaction, page, timeout=self.page_timeout)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Reactions(bot))
