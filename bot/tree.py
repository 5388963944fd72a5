"""The command tree's one error handler: every failure becomes a clear ephemeral answer.

Services raise typed errors that carry what a person needs to read; checks raise check
failures; anything else is logged with an error id that the apology repeats, so a
moderator's report can be matched to the traceback. A traceback never reaches a channel.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.embeds import content
from bot.errors import AlreadyRecorded, Forbidden, NotFound, ValidationError

log = logging.getLogger("launchwatch.commands")


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
        return content("errors/validation.j2", error=original), None
    if isinstance(original, NotFound):
        return content("errors/not_found.j2", error=original), None
    if isinstance(original, AlreadyRecorded):
        return content("errors/already_recorded.j2", error=original), None
    if isinstance(original, Forbidden):
        return content("errors/forbidden.j2", error=original), None
    if isinstance(error, NotModerator):
        return content("errors/permission.j2", error=error), None
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return content("errors/stale_command.j2"), None
    if isinstance(error, app_commands.NoPrivateMessage):
        return content("errors/guild_only.j2"), None
    if isinstance(error, app_commands.CheckFailure):
        return content("errors/check.j2"), None
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is None:
        return content("errors/transformer.j2", error=error), None
    error_id = secrets.token_hex(4)
    return content("errors/unexpected.j2", error_id=error_id), error_id


async def report_error(interaction: discord.Interaction, error: Exception, where: str) -> None:
    """Answer the person privately; log an unexpected error's traceback under its id."""
    text, error_id = error_text(error)
    if error_id is not None:
        log.error("error %s in %s", error_id, where, exc_info=error)
    elif isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        log.warning("%s: Discord's registration is stale; sync the commands (%s)", where, error)
    await respond_ephemeral(interaction, text)


class LaunchWatchTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        await report_error(interaction, error, f"/{command}")


async def answer_privately(
    interaction: discord.Interaction,
    text: str | None = None,
    *,
    embed: discord.Embed | None = None,
    file: discord.File | None = None,
) -> None:
    """The command's private answer: the follow-up of a deferred response, or the response."""
    kwargs: dict[str, Any] = {"ephemeral": True}
    if text is not None:
        kwargs["content"] = text
    if embed is not None:
        kwargs["embed"] = embed
    if file is not None:
        kwargs["file"] = file
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def respond_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer (or follow up) privately, whatever state the interaction is in."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error answer for interaction %s", interaction.id)
