"""The command tree's one error handler: every failure becomes a clear ephemeral answer.

Services raise typed errors that carry what a person needs to read; checks raise check
failures; anything else is logged with an error id that the apology repeats, so a
moderator's report can be matched to the traceback. A traceback never reaches a channel.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.errors import Forbidden, NotFound, ValidationError
from bot.render import render

log = logging.getLogger("launchwatch.commands")
NO_PINGS = discord.AllowedMentions.none()


class NotModerator(app_commands.CheckFailure):
    """The member lacks the permission (or moderator role) a command group needs."""

    def __init__(self, permission: str, moderator_role_allowed: bool) -> None:
        super().__init__(permission)
        self.permission = permission
        self.moderator_role_allowed = moderator_role_allowed


def error_text(error: Exception) -> tuple[str, str | None]:
    """The answer for an error, and an error id when it was unexpected."""
    original = getattr(error, "original", None) or error.__cause__ or error
    if isinstance(original, ValidationError):
        return render("errors/validation.j2", error=original), None
    if isinstance(original, NotFound):
        return render("errors/not_found.j2", error=original), None
    if isinstance(original, Forbidden):
        return render("errors/forbidden.j2", error=original), None
    if isinstance(error, NotModerator):
        return render("errors/permission.j2", error=error), None
    if isinstance(error, app_commands.NoPrivateMessage):
        return render("errors/guild_only.j2"), None
    if isinstance(error, app_commands.CheckFailure):
        return render("errors/check.j2"), None
    if isinstance(error, app_commands.TransformerError):
        return render("errors/transformer.j2", error=error), None
    error_id = secrets.token_hex(4)
    return render("errors/unexpected.j2", error_id=error_id), error_id


class LaunchWatchTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        text, error_id = error_text(error)
        if error_id is not None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("error %s in /%s", error_id, command, exc_info=error)
        await respond_ephemeral(interaction, text)


async def respond_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer (or follow up) privately, whatever state the interaction is in."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not deliver an error answer for interaction %s", interaction.id)
