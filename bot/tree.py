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

from bot.embeds import CONTENT, clip_lines
from bot.errors import AlreadyRecorded, Forbidden, NotFound, ValidationError
from bot.i18n import N_, _
from bot.render import clip, md, plain

log = logging.getLogger("launchwatch.commands")

#: Discord's option types, as "I couldn't read … as <type>" names them.
OPTION_TYPES = {
    "string": N_("string"), "integer": N_("integer"), "boolean": N_("boolean"),
    "user": N_("user"), "channel": N_("channel"), "role": N_("role"),
    "mentionable": N_("mentionable"), "number": N_("number"), "attachment": N_("attachment"),
}  # fmt: skip


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
        return clip_lines(f"**{md(original.field)}**: {md(original.fix)}", CONTENT), None
    if isinstance(original, NotFound):
        return clip_lines(not_found_text(original), CONTENT), None
    if isinstance(original, AlreadyRecorded):
        return clip_lines(already_recorded_text(original), CONTENT), None
    if isinstance(original, Forbidden):
        return clip_lines(md(original.reason), CONTENT), None
    if isinstance(error, NotModerator):
        return permission_text(error), None
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return _(
            "This command has changed since Discord last loaded it. Try again in a minute; if "
            "it keeps happening, ask a server admin to restart LaunchWatch so it can sync its "
            "commands."
        ), None
    if isinstance(error, app_commands.NoPrivateMessage):
        return _("LaunchWatch commands work inside a server, not in direct messages."), None
    if isinstance(error, app_commands.CheckFailure):
        return _(
            "You can't use this command here. Ask a server admin if you think you should."
        ), None
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is None:
        value = clip(md(plain(str(error.value))), 100)
        kind = error.type.name
        kind = _(OPTION_TYPES[kind]) if kind in OPTION_TYPES else kind.replace("_", " ")
        return _(
            "I couldn't read **{value}** as {kind}. Pick a value from the list, or check its form."
        ).format(value=value, kind=kind), None
    error_id = secrets.token_hex(4)
    return _(
        "Sorry, something went wrong on our side. If it happens again, give a server admin this "
        "error id: `{error_id}`."
    ).format(error_id=error_id), error_id


def not_found_text(error: NotFound) -> str:
    """What cannot be found, and where to pick one instead."""
    ref = clip(md(plain(str(error.ref))), 100)
    if error.what == "event":
        text = _("I can't find event {ref} in this server's feed.")
    elif error.what == "reaction":
        text = _("I can't find reaction {ref} in this server's feed.")
    else:
        text = _("I can't find subscription for channel {ref} in this server's feed.")
    hint = _("Pick one from the list that appears as you type.")
    return text.format(ref=ref) + " " + hint


def already_recorded_text(error: AlreadyRecorded) -> str:
    """The repeat of a launch just added: which event it is, its alert, what to do."""
    if error.alert is not None:
        channel_id, message_id = error.alert
        link = f"https://discord.com/channels/{error.guild_id}/{channel_id}/{message_id}"
        return _(
            "This launch is already recorded as event #{id}: the same date, category and summary "
            "were added a few minutes ago, so nothing was added again. Its alert: {link} See it "
            "with `/launch event:{id}`; to record a different launch, change the summary."
        ).format(id=error.event_id, link=link)
    return _(
        "This launch is already recorded as event #{id}: the same date, category and summary "
        "were added a few minutes ago, so nothing was added again. See it with "
        "`/launch event:{id}`; to record a different launch, change the summary."
    ).format(id=error.event_id)


def permission_text(error: NotModerator) -> str:
    """The permission a family needs, and (where a role may stand in) which role."""
    permission = _(error.permission)
    if error.moderator_role_allowed:
        return _(
            "You need the **{permission}** permission or this server's moderator role to use this "
            "command. Ask a server admin to give you the role set with `/settings moderator-role`."
        ).format(permission=permission)
    return _(
        "You need the **{permission}** permission to use this command. Ask a server admin."
    ).format(permission=permission)


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
