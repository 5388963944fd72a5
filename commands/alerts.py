"""/alerts: subscribe channels to alerts and digests, and look after the subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot import alerts, services
from bot.embeds import CONTENT, clip_lines, content, embed
from bot.errors import ValidationError
from bot.i18n import N_, _
from bot.models import CATEGORIES, CONFIDENCE_RANK, Subscription
from bot.render import md
from bot.services.subscriptions import queue_test_alert
from bot.transformers import EventOption
from bot.tree import answer_privately
from commands.checks import ChannelModeratorCog

if TYPE_CHECKING:
    from bot.client import LaunchWatch

#: What the bot needs in a channel to alert there (corrections reply, so history too).
NEEDED = (
    ("view_channel", N_("View Channel")),
    ("send_messages", N_("Send Messages")),
    ("embed_links", N_("Embed Links")),
    ("read_message_history", N_("Read Message History")),
)


def missing_permissions(
    channel: discord.abc.GuildChannel, me: discord.Member, role: discord.Role | None
) -> list[str]:
    """The permissions the bot lacks to do its job in `channel` (and to ping `role`)."""
    perms = channel.permissions_for(me)
    missing = [_(name) for attr, name in NEEDED if not getattr(perms, attr)]
    if role is not None and not role.mentionable and not perms.mention_everyone:
        missing.append(_("Mention Everyone (or make {role} mentionable)").format(role=role.name))
    return missing


async def category_names(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest the next category for a comma-separated list."""
    done, _comma, typing = current.rpartition(",")
    prefix = f"{done}," if done else ""
    return [
        app_commands.Choice(name=f"{prefix}{c}"[:100], value=f"{prefix}{c}"[:100])
        for c in CATEGORIES
        if c.startswith(typing.strip().lower())
    ][:25]


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Alerts(
    ChannelModeratorCog,
    group_name="alerts",
    group_description="Alerts and digests for this server's channels (Manage Channels)",
):
    def _target(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None
    ) -> discord.abc.GuildChannel:
        target = channel or interaction.channel
        if not isinstance(target, discord.abc.GuildChannel) or interaction.guild is None:
            raise ValidationError("channel", _("pick a text channel of this server."))
        return target

    def _check_bot(
        self,
        interaction: discord.Interaction,
        target: discord.abc.GuildChannel,
        role: discord.Role | None,
    ) -> None:
        assert interaction.guild is not None
        missing = missing_permissions(target, interaction.guild.me, role)
        if missing:
            where = "#" + md(target.name)
            lacks = ", ".join(missing)
            if len(missing) == 1:
                fix = _(
                    "LaunchWatch can't alert in {channel}: it lacks {permission} there. Grant it "
                    "in the channel's permissions, then try again."
                ).format(channel=where, permission=lacks)
            else:
                fix = _(
                    "LaunchWatch can't alert in {channel}: it lacks {permissions} there. Grant "
                    "them in the channel's permissions, then try again."
                ).format(channel=where, permissions=lacks)
            raise ValidationError("channel", fix)

    async def _answer(self, interaction: discord.Interaction, text: str) -> None:
        await answer_privately(interaction, clip_lines(text, CONTENT))

    @app_commands.command(name="subscribe", description="Send alerts (and/or digests) to a channel")
    @app_commands.describe(
        channel="Where to post (default: this channel)",
        categories="Only these kinds, comma-separated, e.g. icbm,slbm (default: all)",
        actors="Only these actors, comma-separated, e.g. DPRK (default: all)",
        regions="Only these regions, comma-separated, e.g. korean-peninsula (default: all)",
        min_confidence="Only events at least this sure (default: disputed, i.e. all)",
        mention_role="A role to ping with each alert (default: none)",
        mode="instant: each event as it is added; digest: a summary per period; both",
        digest_every="daily, or weekly on Mondays",
        digest_time="When digests are posted, HH:MM in the time zone (default 08:00)",
        timezone="IANA time zone for the digest time, e.g. Asia/Seoul (default: the server's)",
    )
    @app_commands.choices(
        min_confidence=[app_commands.Choice(name=c, value=c) for c in CONFIDENCE_RANK],
        mode=[app_commands.Choice(name=m, value=m) for m in ("instant", "digest", "both")],
        digest_every=[app_commands.Choice(name=d, value=d) for d in ("daily", "weekly")],
    )
    @app_commands.autocomplete(categories=category_names)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        categories: app_commands.Range[str, 1, 300] | None = None,
        actors: app_commands.Range[str, 1, 300] | None = None,
        regions: app_commands.Range[str, 1, 300] | None = None,
        min_confidence: str | None = None,
        mention_role: discord.Role | None = None,
        mode: str = "instant",
        digest_every: str | None = None,
        digest_time: app_commands.Range[str, 1, 5] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        target = self._target(interaction, channel)
        self._check_bot(interaction, target, mention_role)
        scope = self.bot.scope(interaction)
        settings = await services.get_settings(self.bot.store, scope.guild_id)
        sub = await services.subscribe(
            self.bot.store, scope, target.id,
            categories=categories, actors=actors, regions=regions, min_confidence=min_confidence,
            mention_role_id=mention_role.id if mention_role else None, mode=mode,
            digest_every=digest_every,
            digest_time=digest_time or self.bot.config.get("schedule", "default_digest_time"),
            timezone=timezone or settings.timezone or self.bot.config.get("schedule", "default_timezone"),
        )  # fmt: skip
        self._reschedule(sub)
        await self._answer(interaction, content("commands/alerts_subscribed.j2", sub=sub))

    @app_commands.command(name="unsubscribe", description="Stop alerts and digests in a channel")
    @app_commands.describe(channel="The channel (default: this channel)")
    async def unsubscribe(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        target = self._target(interaction, channel)
        sub = await services.unsubscribe(self.bot.store, self.bot.scope(interaction), target.id)
        if self.bot.digests is not None:
            self.bot.digests.unschedule(sub.id)
        await self._answer(
            interaction,
            _("{channel} gets no more alerts or digests.").format(channel=f"<#{sub.channel_id}>"),
        )

    @app_commands.command(
        name="pause", description="Hold alerts and digests in a channel until resumed"
    )
    @app_commands.describe(channel="The channel (default: this channel)")
    async def pause(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        target = self._target(interaction, channel)
        sub = await services.set_subscription_state(
            self.bot.store, self.bot.scope(interaction), target.id, "paused"
        )
        self._reschedule(sub)
        await self._answer(
            interaction,
            _(
                "Alerts to {channel} are paused; events added meanwhile are not sent there. "
                "`/alerts resume` starts them again."
            ).format(channel=f"<#{sub.channel_id}>"),
        )

    @app_commands.command(name="resume", description="Resume a paused or broken subscription")
    @app_commands.describe(channel="The channel (default: this channel)")
    async def resume(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        target = self._target(interaction, channel)
        self._check_bot(interaction, target, None)
        sub = await services.set_subscription_state(
            self.bot.store, self.bot.scope(interaction), target.id, "active"
        )
        self._reschedule(sub)
        await self._answer(
            interaction,
            _("Alerts to {channel} are back on.").format(channel=f"<#{sub.channel_id}>"),
        )

    @app_commands.command(
        name="list", description="This server's subscriptions: filters, mode, state and deliveries"
    )
    async def list(self, interaction: discord.Interaction) -> None:
        subs = await services.list_subscriptions(self.bot.store, self.bot.scope(interaction))
        shown = embed("commands/alerts_list.j2", subs=subs)
        await answer_privately(interaction, embed=shown)

    @app_commands.command(
        name="test",
        description="Post a sample alert to a subscribed channel, through the real pipeline",
    )
    @app_commands.describe(channel="The subscribed channel (default: this channel)")
    async def test(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        target = self._target(interaction, channel)
        sub = await queue_test_alert(self.bot.store, self.bot.scope(interaction), target.id)
        await self._answer(
            interaction,
            _("A test alert is on its way to {channel}.").format(channel=f"<#{sub.channel_id}>"),
        )

    @app_commands.command(
        name="preview", description="See privately what the alert for an event looks like"
    )
    @app_commands.describe(event="The launch: type a date (jan 29), a place or a platform")
    async def preview(self, interaction: discord.Interaction, event: EventOption) -> None:
        post = alerts.alert(event, None)
        assert post.embed is not None
        await answer_privately(interaction, post.content, embed=post.embed)

    def _reschedule(self, sub: Subscription) -> None:
        if self.bot.digests is not None:
            self.bot.digests.schedule(sub)


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Alerts(bot))
