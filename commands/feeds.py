"""/feeds: moderators choose the feeds the bot reads, and the words that make an item a draft."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.embeds import embed
from bot.errors import NotFound
from bot.feeds.models import WatchedFeed
from bot.i18n import _
from bot.render import clip, md
from bot.services import feeds as service
from bot.transformers import MAX_CHOICES
from bot.tree import answer_privately
from commands.checks import ModeratorCog

if TYPE_CHECKING:
    from bot.client import LaunchWatch


class FeedTransformer(app_commands.Transformer):
    """One of this server's feeds: its id (as autocomplete sends it), or its name or address."""

    async def transform(self, interaction: discord.Interaction, value: str) -> WatchedFeed:
        bot: LaunchWatch = interaction.client  # type: ignore[assignment]
        scope = bot.scope(interaction)
        text = str(value).strip().lstrip("#")
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return await service.get_feed(bot.store, scope, int(text))
        found = [
            f
            for f in await service.list_feeds(bot.store, scope)
            if text.casefold() in (f.url.casefold(), (f.name or "").casefold())
        ]
        if len(found) != 1:
            raise NotFound("feed", value)
        return found[0]

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str
    ) -> list[app_commands.Choice[str]]:
        bot: LaunchWatch = interaction.client  # type: ignore[assignment]
        typed = str(value).casefold()
        feeds = await service.list_feeds(bot.store, bot.scope(interaction))
        return [
            app_commands.Choice(name=clip(f"#{f.id} {f.label} ({f.state})", 100), value=str(f.id))
            for f in feeds
            if typed in f"#{f.id} {f.label}".casefold()
        ][:MAX_CHOICES]


FeedOption = app_commands.Transform[WatchedFeed, FeedTransformer]


def said(sentence: str, feed: WatchedFeed) -> str:
    """A sentence about a feed, its name (a moderator's text) made safe for Discord."""
    return sentence.format(name=md(feed.label), id=feed.id, minutes=feed.interval_s // 60)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(
    ModeratorCog,
    group_name="feeds",
    group_description="Feeds the bot reads for launch news, drafted for review (moderators)",
):
    def _poller_schedule(self, feed: WatchedFeed) -> None:
        """(Re)schedule the feed's polls in this process (at once, for a new or resumed feed)."""
        if self.bot.drafting is not None:
            self.bot.drafting.poller.schedule(feed)

    @app_commands.command(name="add", description="Read a feed (RSS, Atom or JSON Feed)")
    @app_commands.describe(
        url="The feed's address (http or https)",
        every="How often to read it: 15m (default), 30m, 1h, 2h",
        name="What to call it, e.g. Yonhap (default: its address)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 500],
        every: app_commands.Range[str, 1, 20] | None = None,
        name: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        feed = await service.add_feed(
            self.bot.store, self.bot.scope(interaction), url, every=every, name=name
        )
        self._poller_schedule(feed)
        text = _(
            "Reading **{name}** (feed #{id}) every {minutes} minutes, starting now. Items that "
            "match the watch terms (`/feeds terms`) become drafts for review; `/feeds list` "
            "shows how it goes."
        )
        await answer_privately(interaction, said(text, feed))

    @app_commands.command(name="remove", description="Stop reading a feed")
    @app_commands.describe(feed="The feed")
    async def remove(self, interaction: discord.Interaction, feed: FeedOption) -> None:
        gone = await service.remove_feed(self.bot.store, self.bot.scope(interaction), feed.id)
        if self.bot.drafting is not None:
            self.bot.drafting.poller.unschedule(gone.id)
        text = _(
            "Stopped reading **{name}** (feed #{id}); the drafts it made stay in `/draft list`."
        )
        await answer_privately(interaction, said(text, gone))

    @app_commands.command(name="pause", description="Stop reading a feed for now")
    @app_commands.describe(feed="The feed")
    async def pause(self, interaction: discord.Interaction, feed: FeedOption) -> None:
        paused = await service.set_feed_state(
            self.bot.store, self.bot.scope(interaction), feed.id, "paused"
        )
        self._poller_schedule(paused)
        text = _("Paused **{name}** (feed #{id}); `/feeds resume` reads it again.")
        await answer_privately(interaction, said(text, paused))

    @app_commands.command(
        name="resume", description="Read a paused or broken feed again, starting now"
    )
    @app_commands.describe(feed="The feed")
    async def resume(self, interaction: discord.Interaction, feed: FeedOption) -> None:
        resumed = await service.set_feed_state(
            self.bot.store, self.bot.scope(interaction), feed.id, "active"
        )
        self._poller_schedule(resumed)
        if feed.state == "broken":
            text = _(
                "Reading **{name}** (feed #{id}) again, starting now; its failures are forgotten. "
                "If it breaks again, `/feeds list` says why."
            )
        else:
            text = _("Reading **{name}** (feed #{id}) again, starting now.")
        await answer_privately(interaction, said(text, resumed))

    @app_commands.command(
        name="list", description="Each feed: its state, last success, items and any failure"
    )
    async def list(self, interaction: discord.Interaction) -> None:
        feeds = await service.list_feeds(self.bot.store, self.bot.scope(interaction))
        await answer_privately(interaction, embed=embed("commands/feeds_list.j2", feeds=feeds))

    @app_commands.command(
        name="terms", description="The words that make a feed item a draft: show or change them"
    )
    @app_commands.describe(
        add="Words or phrases to add, comma-separated, e.g. Hwasong, Sohae",
        remove="Words or phrases to remove, comma-separated",
        reset="Go back to the default list",
    )
    async def terms(
        self,
        interaction: discord.Interaction,
        add: app_commands.Range[str, 1, 1000] | None = None,
        remove: app_commands.Range[str, 1, 1000] | None = None,
        reset: bool = False,
    ) -> None:
        scope = self.bot.scope(interaction)
        if add or remove or reset:
            terms, default = await service.change_watch_terms(
                self.bot.store, scope, add=add, remove=remove, reset=reset
            )
        else:
            terms, default = await service.watch_terms(self.bot.store, scope.guild_id)
        shown = embed(
            "commands/feeds_terms.j2",
            terms=terms,
            default=default,
            changed=bool(add or remove or reset),
        )
        await answer_privately(interaction, embed=shown)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Feeds(bot))
