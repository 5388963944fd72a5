"""Run-time permission checks for the command groups (docs/architecture.md, "Permissions").

Discord's `default_permissions` hides and refuses a group for members without the
permission, but an admin can open it to a role under Integrations, and a stale
registration can lag behind: so each group checks again here, in `interaction_check`
(an `app_commands.check` decorator on a Group is silently ignored by discord.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.services import get_settings
from bot.tree import NotModerator

if TYPE_CHECKING:
    from bot.client import LaunchWatch


async def holds_moderator_role(interaction: discord.Interaction) -> bool:
    bot = cast("LaunchWatch", interaction.client)
    member = interaction.user
    if interaction.guild_id is None or not isinstance(member, discord.Member):
        return False
    settings = await get_settings(bot.store, interaction.guild_id)
    return any(role.id in settings.moderator_role_ids for role in member.roles)


class ModeratorGroup(app_commands.Group):
    """`/event`, `/reaction`: Manage Server, or a role named with `/settings moderator-role`."""

    permission = "manage_guild"
    permission_label = "Manage Server"
    moderator_role_allowed = True

    def __init__(self, bot: LaunchWatch) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        allowed = getattr(interaction.permissions, self.permission) or (
            self.moderator_role_allowed and await holds_moderator_role(interaction)
        )
        if not allowed:
            raise NotModerator(self.permission_label, self.moderator_role_allowed)
        # These commands write. A write can wait for the store (an import holding SQLite's
        # lock), so answer Discord within its 3 seconds first; the answer follows up.
        await interaction.response.defer(ephemeral=True, thinking=True)
        return True


class ChannelModeratorGroup(ModeratorGroup):
    """`/alerts`: Manage Channels, or a moderator role."""

    permission = "manage_channels"
    permission_label = "Manage Channels"


class AdminGroup(ModeratorGroup):
    """`/settings`: Manage Server only."""

    moderator_role_allowed = False
