"""/chart: pictures of the launches: a timeline chart, and a map of their launch sites."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds import COLOURS, NEUTRAL, attach, embed
from bot.i18n import _
from bot.pictures.specs import CountMode, Period
from bot.services import TimelineFilter
from bot.services.pictures import Rendered
from bot.transformers import Since, Until, check_range
from commands.options import CATEGORY_CHOICES, FILTER_HELP

if TYPE_CHECKING:
    from bot.client import LaunchWatch

CHART_FILE = "chart.png"
MAP_FILE = "sites.png"


@app_commands.guild_only()
class Chart(commands.GroupCog, group_name="chart", group_description="Launches as pictures"):
    """Open to everyone, like /timeline. Each answer defers first: the picture is drawn in
    the worker process, and meanwhile the bot answers everyone else."""

    def __init__(self, bot: LaunchWatch) -> None:
        self.bot = bot

    @app_commands.command(
        name="timeline", description="A bar chart of launches per month, quarter or year"
    )
    @app_commands.describe(
        **FILTER_HELP,
        by="One bar per month, quarter or year (default: whichever suits the period)",
        count="Count launches (default) or the missiles they fired",
    )
    @app_commands.choices(category=CATEGORY_CHOICES)
    async def timeline(
        self,
        interaction: discord.Interaction,
        since: Since | None = None,
        until: Until | None = None,
        category: str | None = None,
        actor: app_commands.Range[str, 1, 100] | None = None,
        by: Period | None = None,
        count: CountMode = "events",
    ) -> None:
        check_range(since, until)
        await interaction.response.defer(thinking=True)
        filters = TimelineFilter(since=since, until=until, category=category, actor=actor)
        rendered = await self.bot.pictures.chart(
            self.bot.store,
            self.bot.scope(interaction),
            filters,
            period=by,
            count=count,
        )
        await self._answer(interaction, rendered, CHART_FILE, category)

    @app_commands.command(
        name="map", description="A map of every launch site, sized by launches, by category"
    )
    @app_commands.describe(
        **{k: FILTER_HELP[k] for k in ("since", "until", "category")},
    )
    @app_commands.choices(category=CATEGORY_CHOICES)
    async def map(
        self,
        interaction: discord.Interaction,
        since: Since | None = None,
        until: Until | None = None,
        category: str | None = None,
    ) -> None:
        check_range(since, until)
        await interaction.response.defer(thinking=True)
        filters = TimelineFilter(since=since, until=until, category=category)
        rendered = await self.bot.pictures.site_map(
            self.bot.store, self.bot.scope(interaction), filters
        )
        await self._answer(interaction, rendered, MAP_FILE, category)

    async def _answer(
        self,
        interaction: discord.Interaction,
        rendered: Rendered,
        filename: str,
        category: str | None,
    ) -> None:
        """The picture under its title; the sentence when there is nothing to draw; an
        apology when drawing failed (the log says why)."""
        if rendered.sentence is not None:
            await interaction.followup.send(rendered.sentence)
            return
        picture = rendered.picture
        if picture is None:
            await interaction.followup.send(
                _(
                    "The picture could not be drawn just now; please try again in a moment. "
                    "(The bot's log says what went wrong.)"
                )
            )
            return
        shown = embed(
            "commands/chart.j2", colour=COLOURS.get(category or "", NEUTRAL), title=rendered.title
        )
        await interaction.followup.send(embed=shown, file=attach(shown, picture, filename))


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Chart(bot))
