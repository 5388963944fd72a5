"""/settings: the server's moderator role, display time zone, default actor and log channel."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot import services
from bot.errors import ValidationError
from bot.i18n import _
from bot.render import md
from bot.transformers import MAX_CHOICES
from bot.tree import answer_privately
from commands.checks import AdminCog

if TYPE_CHECKING:
    from bot.client import LaunchWatch


@cache
def _zones() -> list[str]:
    """IANA zone names, cities before legacy aliases such as `ROK` or `Etc/GMT-9`."""
    names = available_timezones() - {"localtime", "posixrules", "Factory"}
    return sorted(names, key=lambda z: ("/" not in z, z.startswith("Etc/"), z))


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Settings(
    AdminCog,
    group_name="settings",
    group_description="Server settings for LaunchWatch (Manage Server)",
):
    @app_commands.command(
        name="moderator-role", description="Let a role record events and reactions"
    )
    @app_commands.describe(role="Members with this role may use /event, /reaction and /alerts")
    async def moderator_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        assert interaction.guild_id is not None
        if role.is_default():
            raise ValidationError(
                "role",
                _(
                    "@everyone can't be the moderator role, or every member could change the "
                    "feed; pick a role only moderators hold."
                ),
            )
        current = await services.get_settings(self.bot.store, interaction.guild_id)
        roles = sorted({*current.moderator_role_ids, role.id})
        await services.update_settings(
            self.bot.store, interaction.guild_id, moderator_role_ids=roles
        )
        granted = _(
            "Members with {role} may now use `/event`, `/reaction` and `/alerts` as far as "
            "LaunchWatch is concerned."
        ).format(role=role.mention)
        step = _(
            "One step is left for a server admin: Discord hides those commands from anyone "
            "without Manage Server (or Manage Channels for `/alerts`) until you allow the role "
            "under **Server Settings → Integrations → LaunchWatch**, for each of `/event`, "
            "`/reaction` and `/alerts`."
        )
        await answer_privately(interaction, granted + "\n" + step)

    @app_commands.command(
        name="timezone", description="The time zone digests and plain dates default to"
    )
    @app_commands.describe(tz="An IANA time zone such as Asia/Seoul, Europe/London or UTC")
    async def timezone(
        self, interaction: discord.Interaction, tz: app_commands.Range[str, 1, 64]
    ) -> None:
        assert interaction.guild_id is not None
        await services.update_settings(self.bot.store, interaction.guild_id, timezone=tz)
        text = _(
            "Digests and plain dates now default to **{tz}**. Exact times still show in each "
            "reader's own time zone."
        ).format(tz=md(tz))
        await answer_privately(interaction, text)

    @timezone.autocomplete("tz")
    async def timezone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        words = current.lower().replace("/", " ").split()  # "new york" finds America/New_York
        found = [z for z in _zones() if all(w in z.lower().replace("_", " ") for w in words)]
        return [app_commands.Choice(name=z, value=z) for z in found[:MAX_CHOICES]]

    @app_commands.command(
        name="default-actor", description="Who /event add records as the actor when none is given"
    )
    @app_commands.describe(actor="e.g. DPRK")
    async def default_actor(
        self, interaction: discord.Interaction, actor: app_commands.Range[str, 1, 100]
    ) -> None:
        assert interaction.guild_id is not None
        settings = await services.update_settings(
            self.bot.store, interaction.guild_id, default_actor=actor
        )
        text = _("`/event add` now records **{actor}** as the actor when none is given.")
        await answer_privately(interaction, text.format(actor=md(settings.default_actor)))

    @app_commands.command(
        name="log-channel", description="Where LaunchWatch reports broken subscriptions"
    )
    @app_commands.describe(channel="A channel moderators read")
    async def log_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        assert interaction.guild_id is not None
        await services.update_settings(
            self.bot.store, interaction.guild_id, log_channel_id=channel.id
        )
        text = _("LaunchWatch will report broken subscriptions in {channel}.")
        await answer_privately(interaction, text.format(channel=channel.mention))

    @app_commands.command(
        name="review-channel",
        description="Where drafts from feeds and /draft are posted for review",
    )
    @app_commands.describe(
        channel="A channel moderators read; drafts wait in /draft list without one"
    )
    async def review_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        from bot.services.drafts import set_review_channel
        from commands.alerts import missing_permissions

        assert interaction.guild is not None
        missing = missing_permissions(channel, interaction.guild.me, None)
        if missing:
            where, lacks = "#" + md(channel.name), ", ".join(missing)
            if len(missing) == 1:
                fix = _(
                    "LaunchWatch can't post drafts in {channel}: it lacks {permission} there. "
                    "Grant it in the channel's permissions, then try again."
                ).format(channel=where, permission=lacks)
            else:
                fix = _(
                    "LaunchWatch can't post drafts in {channel}: it lacks {permissions} there. "
                    "Grant them in the channel's permissions, then try again."
                ).format(channel=where, permissions=lacks)
            raise ValidationError("channel", fix)
        await set_review_channel(self.bot.store, self.bot.scope(interaction), channel.id)
        if self.bot.drafting is not None:
            await self.bot.drafting.post()  # drafts that were waiting go there now
        text = _(
            "Drafts from feeds and `/draft` are posted in {channel}, each with Confirm, Edit "
            "and Dismiss. Only members allowed `/event` may press them; nothing is published "
            "without a click."
        )
        await answer_privately(interaction, text.format(channel=channel.mention))


async def setup(bot: LaunchWatch) -> None:
    await bot.add_cog(Settings(bot))
