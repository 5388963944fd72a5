"""/event: moderators add, edit, retract, source and export launch events."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import models, services
from bot.embeds import COLOURS, NEUTRAL, embed
from bot.i18n import _
from bot.models import CONFIDENCES, EDITABLE_FIELDS, OUTCOMES, PLATFORMS
from bot.transformers import Date, EventOption
from bot.tree import answer_privately
from commands.checks import ModeratorCog
from commands.options import CATEGORY_CHOICES, choices

if TYPE_CHECKING:
    from bot.client import LaunchWatch

#: A second /event add of the same launch this soon is a retry, answered with the first.
TWIN_WINDOW = timedelta(minutes=10)
CLEAR = "-"
"""The value that empties an optional field: Discord will not send an empty required option."""
#: `/event edit field`: the fields a moderator may edit, as the data model lists them.
FIELD_CHOICES = choices(EDITABLE_FIELDS)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Event(
    ModeratorCog, group_name="event", group_description="Record launch events (moderators)"
):
    @app_commands.command(
        name="add", description="Record a launch; subscribed channels are alerted"
    )
    @app_commands.describe(
        date="When: 2024, 2024-01, 2024-01-25 or 2024-01-25T10:22Z (UTC)",
        category="What was launched",
        summary="One or two sentences on what happened",
        actor="Who launched it (default: this server's default actor)",
        name="Missile or vehicle name, e.g. Hwasong-18",
        count="How many were launched (leave empty when reports don't say)",
        platform="What it was launched from",
        site="Launch facility or area, e.g. Kim Chaek",
        landing_area="Where it came down, e.g. Sea of Japan (East Sea)",
        distance_km="Distance flown, in km",
        apogee_km="Highest altitude, in km",
        outcome="Did it work?",
        claimed="What the launching state says, e.g. long-range",
        overseen_by="Who oversaw it",
        region="Region, e.g. korean-peninsula",
        confidence="How sure the reports are (confirmed or disputed need a source)",
        source_url="A link to the report (http or https)",
        source_title="The report's title, or a citation when there is no link",
    )
    @app_commands.choices(
        category=CATEGORY_CHOICES,
        platform=choices(PLATFORMS),
        outcome=choices(OUTCOMES),
        confidence=choices(c for c in CONFIDENCES if c != "retracted"),
    )
    async def add(
        self,
        interaction: discord.Interaction,
        date: Date,
        category: str,
        summary: app_commands.Range[str, 1, 2000],
        actor: app_commands.Range[str, 1, 100] | None = None,
        name: app_commands.Range[str, 1, 100] | None = None,
        count: app_commands.Range[int, 1, 10000] | None = None,
        platform: str | None = None,
        site: app_commands.Range[str, 1, 200] | None = None,
        landing_area: app_commands.Range[str, 1, 200] | None = None,
        distance_km: app_commands.Range[float, 0, 100000] | None = None,
        apogee_km: app_commands.Range[float, 0, 100000] | None = None,
        outcome: str | None = None,
        claimed: app_commands.Range[str, 1, 300] | None = None,
        overseen_by: app_commands.Range[str, 1, 200] | None = None,
        region: app_commands.Range[str, 1, 64] | None = None,
        confidence: str | None = None,
        source_url: app_commands.Range[str, 1, 500] | None = None,
        source_title: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        raw = {
            "date": date, "category": category, "summary": summary, "actor": actor, "name": name,
            "count": count, "platform": platform, "launch_site": site, "landing_area": landing_area,
            "distance_km": distance_km, "apogee_km": apogee_km, "outcome": outcome,
            "claimed": claimed, "overseen_by": overseen_by, "region": region,
            "confidence": confidence,
        }  # fmt: skip
        if source_url or source_title:
            raw["sources"] = [{"url": source_url, "title": source_title}]
        event = await services.add_event(
            self.bot.store, self.bot.scope(interaction), raw, twin_window=TWIN_WINDOW
        )
        await self._answer(interaction, "commands/event_added.j2", event, changed=[])

    @app_commands.command(
        name="edit",
        description="Correct one field of a launch; alerted channels get the correction",
    )
    @app_commands.describe(
        event="The launch to correct",
        field="Which field",
        value="The new value; a single - clears an optional field",
    )
    @app_commands.choices(field=FIELD_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction,
        event: EventOption,
        field: str,
        value: app_commands.Range[str, 1, 2000],
    ) -> None:
        cleared = None if value.strip() == CLEAR else value
        updated, changed = await services.edit_event(
            self.bot.store, self.bot.scope(interaction), event.id, field, cleared
        )
        await self._answer(interaction, "commands/event_edited.j2", updated, changed=changed)

    @app_commands.command(
        name="retract",
        description="Retract a launch that did not happen; alerted channels are told",
    )
    @app_commands.describe(
        event="The launch to retract", reason="Why, in a sentence; readers will see it"
    )
    async def retract(
        self,
        interaction: discord.Interaction,
        event: EventOption,
        reason: app_commands.Range[str, 1, 500],
    ) -> None:
        updated = await services.retract_event(
            self.bot.store, self.bot.scope(interaction), event.id, reason
        )
        await self._answer(
            interaction, "commands/event_retracted.j2", updated, changed=["confidence"]
        )

    @app_commands.command(name="source", description="Add a source to a launch")
    @app_commands.describe(
        event="The launch",
        url="A link (http or https)",
        title="Its title, or a citation",
        publisher="Who published it",
    )
    async def source(
        self,
        interaction: discord.Interaction,
        event: EventOption,
        url: app_commands.Range[str, 1, 500] | None = None,
        title: app_commands.Range[str, 1, 300] | None = None,
        publisher: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        raw = {"url": url, "title": title, "publisher": publisher}
        updated = await services.add_source(
            self.bot.store, self.bot.scope(interaction), event.id, raw
        )
        await self._answer(interaction, "commands/event_sourced.j2", updated, changed=["sources"])

    @app_commands.command(
        name="export", description="Download this server's events (and reactions) as a file"
    )
    @app_commands.describe(format="csv: events, one row each; json: events and reactions")
    @app_commands.choices(
        format=[
            app_commands.Choice(name="CSV", value="csv"),
            app_commands.Choice(name="JSON", value="json"),
        ]
    )
    async def export(self, interaction: discord.Interaction, format: str = "json") -> None:
        from bot.transfer import export_data

        text = await export_data(self.bot.store, self.bot.scope(interaction), format)  # type: ignore[arg-type]
        data = text.encode("utf-8")
        if len(data) > interaction.filesize_limit:
            too_big = _(
                "This server's export is {size} MB, more than the {limit} MB Discord lets me "
                "attach here. Run `python -m bot db export --format {format} --guild {guild} "
                "-o FILE` on the bot's host instead."
            )
            await answer_privately(
                interaction,
                too_big.format(
                    size=round(len(data) / 1048576, 1),
                    limit=round(interaction.filesize_limit / 1048576, 1),
                    format=format,
                    guild=interaction.guild_id,
                ),
            )
            return
        file = discord.File(io.BytesIO(data), filename=f"launchwatch-events.{format}")
        if format == "json":
            said = _(
                "This server's events and reactions, as JSON. Import it elsewhere with "
                "`python -m bot db import FILE --format json`."
            )
        else:
            said = _(
                "This server's events, as CSV. Import it elsewhere with "
                "`python -m bot db import FILE --format csv`."
            )
        await answer_privately(interaction, said, file=file)

    async def _answer(
        self,
        interaction: discord.Interaction,
        template: str,
        event: models.Event,
        *,
        changed: list[str],
    ) -> None:
        shown = embed(
            template, colour=COLOURS.get(event.category, NEUTRAL), event=event, changed=changed
        )
        await answer_privately(interaction, embed=shown)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Event(bot))
