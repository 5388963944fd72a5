"""The permission rules of the command families (docs/architecture.md, "Permissions").

Discord's `default_permissions` hides and refuses a family for members without the
permission, but an admin can open it to a role under Integrations, and a stale
registration can lag behind: so each family checks again when a command runs, in its
cog's `interaction_check`. discord.py calls that for every slash command of a GroupCog,
before the options are read (an `app_commands.check` on a Group would be silently
ignored); it does not call it for autocomplete, which reads and answers nothing private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_
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


class ModeratorCog(commands.GroupCog):
    """A family for Manage Server, or a role named with `/settings moderator-role`.

    A family subclasses this (or a rule below) with `group_name=` and `group_description=`,
    and declares the same permission to Discord with `@app_commands.default_permissions`
    and `@app_commands.guild_only()` on the class; loading it checks the two agree.
    """

    permission: ClassVar[str] = "manage_guild"
    #: The permission as Discord names it, translated when shown (bot/tree.py).
    permission_label: ClassVar[str] = N_("Manage Server")
    moderator_role_allowed: ClassVar[bool] = True

    def __init__(self, bot: LaunchWatch) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Refuse to load a family whose hint to Discord is not its own rule's permission."""
        group = self.app_command
        hint = group.default_permissions if group is not None else None
        if group is None or not group.guild_only or not getattr(hint, self.permission, False):
            raise TypeError(
                f"{type(self).__name__}: decorate it with @app_commands.guild_only() and "
                f"@app_commands.default_permissions({self.permission}=True)"
            )

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
        if self.defers(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
        return True

    def defers(self, interaction: discord.Interaction) -> bool:
        """Whether the check defers the command: all but one that opens a modal, which must
        be the first answer (`/draft text`)."""
        return True


class ChannelModeratorCog(ModeratorCog):
    """A family for Manage Channels, or a moderator role (`/alerts`)."""

    permission = "manage_channels"
    permission_label = N_("Manage Channels")


class AdminCog(ModeratorCog):
    """A family for Manage Server only (`/settings`)."""

    moderator_role_allowed = False
