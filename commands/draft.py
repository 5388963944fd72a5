"""/draft: moderators hand the bot an article (pasted, attached, or by address) to draft.

Each drafted launch waits for a moderator's click on its card in the review channel
(`/settings review-channel`), or here with `/draft show` when no channel is named;
nothing is recorded until then (bot/review.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.dates import PartialDate
from bot.drafting.articles import fetch_article, html_text
from bot.drafting.models import Draft as DraftRow
from bot.embeds import embed
from bot.errors import ValidationError
from bot.feeds import Fetcher
from bot.i18n import _, ngettext
from bot.render import label, md, pdate
from bot.review import card
from bot.services import drafts as service
from bot.services.drafts import SourceInfo
from bot.tree import NotModerator, answer_privately, report_error
from commands.checks import ModeratorCog

if TYPE_CHECKING:
    from bot.client import LaunchWatch

#: What `/draft file:` reads, and how much of it.
FILE_TYPES = (".txt", ".md", ".html", ".htm")
MAX_FILE = 1_000_000
PART = 4000


def published_day(value: str | None) -> date:
    """The day a text was published (default today, UTC): weekdays resolve against it."""
    if value is None or not value.strip():
        return datetime.now(UTC).date()
    when = PartialDate.parse(value, "published")
    if when.precision not in ("day", "minute"):
        raise ValidationError("published", _("give the day it was published, YYYY-MM-DD."))
    when.check_not_future("published")
    return when.first_day


def too_big(name: str) -> str:
    fix = _("{name} is larger than 1 MB; attach the article alone, as text.")
    return fix.format(name=md(name))


def made_text(drafts: list[DraftRow], channel: int | None, published: date) -> str:
    """What a moderator is told after /draft: the drafts made, and where their cards are."""
    if not drafts:
        return _(
            "No launch to draft: the text reports none dated to a day or a month (published "
            "{day}), or only launches already recorded as they are."
        ).format(day=published.isoformat())
    parts = []
    for d in drafts:
        if d.kind == "update":
            part = _("draft #{id} ({date}, {category}, an update to event #{event})")
        else:
            part = _("draft #{id} ({date}, {category})")
        parts.append(
            part.format(id=d.id, date=pdate(d.date), category=label(d.category), event=d.event_id)
        )
    made = ngettext("Drafted {count} launch: {drafts}.", "Drafted {count} launches: {drafts}.",
                    len(drafts)).format(count=len(drafts), drafts=", ".join(parts))  # fmt: skip
    if channel is not None:
        where = _("Nothing is recorded until a moderator confirms: the cards are in {channel}.")
    else:
        where = _(
            "Nothing is recorded until a moderator confirms. No review channel is set "
            "(`/settings review-channel`), so see `/draft show draft:{id}`."
        )
    return f"{made} {where.format(channel=f'<#{channel}>', id=drafts[0].id)}"


class TextModal(discord.ui.Modal):
    """Up to three parts of 4,000 characters (Discord's limit for one input), an address
    to cite, and the publication day."""

    def __init__(self, cog: Draft) -> None:
        super().__init__(title=_("Draft from a text"), timeout=900)
        self.cog = cog
        paragraph = discord.TextStyle.paragraph
        self.first = discord.ui.TextInput[TextModal](
            label=_("Text"), style=paragraph, max_length=PART
        )
        self.second = discord.ui.TextInput[TextModal](
            label=_("Text, continued"), style=paragraph, max_length=PART, required=False
        )
        self.third = discord.ui.TextInput[TextModal](
            label=_("Text, continued further"), style=paragraph, max_length=PART, required=False
        )
        self.url = discord.ui.TextInput[TextModal](
            label=_("Its address (optional)"), placeholder="https://…", max_length=500,
            required=False,
        )  # fmt: skip
        self.published = discord.ui.TextInput[TextModal](
            label=_("Published on (default: today)"), placeholder=_("YYYY-MM-DD"), max_length=25,
            required=False,
        )  # fmt: skip
        for item in (self.first, self.second, self.third, self.url, self.published):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if not await self.cog.allowed(interaction):
            raise NotModerator(self.cog.permission_label, True)
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = "\n".join(p.value for p in (self.first, self.second, self.third) if p.value)
        url = self.url.value.strip() or None
        source = SourceInfo(url=url) if url else None
        if source is not None and source.as_source() is None:
            raise ValidationError(
                "url", _("that is not a web address; use one starting with https://.")
            )
        await self.cog.made(
            interaction, text, published_day(self.published.value), "text", source, ""
        )

    async def on_error(  # type: ignore[override]  # a Modal's on_error has no item
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error, "draft text")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Draft(
    ModeratorCog,
    group_name="draft",
    group_description="Draft launches from an article, for review (moderators)",
):
    def defers(self, interaction: discord.Interaction) -> bool:
        """`/draft text` answers with a modal, which must be the first answer."""
        return interaction.command is None or interaction.command.name != "text"

    async def allowed(self, interaction: discord.Interaction) -> bool:
        """The family's rule again, for a modal's submission (no cog check runs there)."""
        from commands.checks import holds_moderator_role

        return bool(interaction.permissions.manage_guild) or await holds_moderator_role(interaction)

    async def made(
        self,
        interaction: discord.Interaction,
        text: str,
        published: date,
        origin: str,
        source: SourceInfo | None,
        title: str,
    ) -> None:
        """Draft the text, post the cards, and tell the moderator where they are."""
        scope = self.bot.scope(interaction)
        drafts = await service.draft_text(
            self.bot.store, scope, text, published, origin=origin, source=source, title=title
        )
        if self.bot.drafting is not None:
            await self.bot.drafting.post()
        channel = await service.review_channel(self.bot.store, scope.guild_id)
        await answer_privately(interaction, made_text(drafts, channel, published))

    @app_commands.command(name="text", description="Paste an article to draft its launches")
    async def text(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(TextModal(self))

    @app_commands.command(
        name="file", description="Attach an article (.txt, .md or .html, up to 1 MB)"
    )
    @app_commands.describe(
        file="The article", published="The day it was published, YYYY-MM-DD (default: today)"
    )
    async def file(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        published: app_commands.Range[str, 1, 25] | None = None,
    ) -> None:
        suffix = PurePosixPath(file.filename).suffix.lower()
        if suffix not in FILE_TYPES:
            fix = _("{name} is not a .txt, .md or .html file; attach the article as one of those.")
            raise ValidationError("file", fix.format(name=md(file.filename)))
        if file.size > MAX_FILE:
            raise ValidationError("file", too_big(file.filename))
        day = published_day(published)
        data = await file.read()
        if len(data) > MAX_FILE:
            raise ValidationError("file", too_big(file.filename))
        if suffix in (".html", ".htm"):
            text = html_text(data) or ""
        else:
            text = data.decode("utf-8", errors="replace")
        await self.made(interaction, text, day, "file", None, file.filename)

    @app_commands.command(name="url", description="Draft the article at an address (if allowed)")
    @app_commands.describe(
        url="The article's address (http or https)",
        published="The day it was published, YYYY-MM-DD (default: today)",
    )
    async def url(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 500],
        published: app_commands.Range[str, 1, 25] | None = None,
    ) -> None:
        if not self.bot.config.get("drafting", "fetch_articles"):
            raise ValidationError(
                "url",
                _(
                    "fetching articles is off on this bot ([drafting] fetch_articles); paste the "
                    "text with /draft text or attach it with /draft file."
                ),
            )
        day = published_day(published)
        source = SourceInfo(url=url.strip())
        if source.as_source() is None:
            raise ValidationError(
                "url", _("that is not a web address; use one starting with https://.")
            )
        drafting = self.bot.drafting
        fetcher = drafting.fetcher if drafting is not None else None
        if fetcher is None:
            async with Fetcher(self.bot.config.get("feeds", "allow_hosts")) as own:
                text = await fetch_article(own, url.strip())
        else:
            text = await fetch_article(fetcher, url.strip())
        if not isinstance(text, str):
            raise ValidationError("url", text.reason)
        await self.made(interaction, text, day, "url", source, "")

    @app_commands.command(name="list", description="The drafts waiting for a moderator")
    async def list(self, interaction: discord.Interaction) -> None:
        scope = self.bot.scope(interaction)
        drafts = await service.list_drafts(self.bot.store, scope, limit=25)
        channel = await service.review_channel(self.bot.store, scope.guild_id)
        shown = embed("commands/draft_list.j2", drafts=drafts, channel=channel)
        await answer_privately(interaction, embed=shown)

    @app_commands.command(name="show", description="One draft's card, with its buttons")
    @app_commands.describe(draft="The draft's number, from /draft list")
    async def show(
        self, interaction: discord.Interaction, draft: app_commands.Range[int, 1]
    ) -> None:
        scope = self.bot.scope(interaction)
        found = await service.get_draft(self.bot.store, scope, draft)
        shown, view = card(await service.review_of(self.bot.store, scope, found))
        followup = cast(discord.Webhook, interaction.followup)
        if view is None:
            await followup.send(embed=shown, ephemeral=True)
        else:
            await followup.send(embed=shown, view=view, ephemeral=True)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Draft(bot))
