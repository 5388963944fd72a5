"""Review: each draft posted to the review channel as a card, and the buttons that decide it.

A card (templates/review/card.j2) shows the draft's fields, its evidence, its sources and,
for an update draft, what it would change. Its buttons are persistent `DynamicItem`s whose
custom_id names the action and the draft (`lw:draft:confirm:12`), so they work after a
restart; only a member allowed `/event` (Manage Server, or the moderator role) may press
them. Confirm records the event through `services.drafts.confirm_draft` (that is,
`add_event`), Apply corrects the event, Edit opens a modal of the five fields most often
fixed, Dismiss records nothing; the card is then edited to say who decided and what it
became. Nothing is published without such a click.

`ReviewPoster` posts the cards owed (new drafts, and drafts changed since their card was
drawn), whichever process made the draft: the bot's own polls and `/draft`, or the CLI's
`feeds poll --once`, found by a sweep.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.drafting.models import EDIT_FIELDS, Draft, Review
from bot.embeds import COLOURS, NEUTRAL, embed
from bot.i18n import N_, _
from bot.models import EDITABLE_FIELDS, base36
from bot.services import drafts as service
from bot.services import get_settings
from bot.services.context import Scope
from bot.tree import NotModerator, report_error
from db import Store

if TYPE_CHECKING:
    from bot.client import LaunchWatch

log = logging.getLogger("launchwatch.review")

DECIDED = {"confirmed": 0x2ECC71, "applied": 0x2ECC71, "dismissed": 0x2C2F33}
#: The buttons of a card, by draft kind: (action, label, style).
BUTTONS = {
    "new": (
        ("confirm", N_("Confirm"), discord.ButtonStyle.success),
        ("edit", N_("Edit"), discord.ButtonStyle.secondary),
        ("dismiss", N_("Dismiss"), discord.ButtonStyle.danger),
    ),
    "update": (
        ("apply", N_("Apply"), discord.ButtonStyle.success),
        ("confirm", N_("Confirm as new"), discord.ButtonStyle.secondary),
        ("edit", N_("Edit"), discord.ButtonStyle.secondary),
        ("dismiss", N_("Dismiss"), discord.ButtonStyle.danger),
    ),
}
#: The Edit modal's inputs: field -> (label, placeholder, long text, max length).
EDIT_INPUTS = {
    "date": (N_("Date"), N_("2024-01-25, 2024-01 or 2024-01-25T10:22Z (UTC)"), False, 25),
    "category": (N_("Category"), N_("srbm, icbm, cruise_missile, space_launch…"), False, 20),
    "count": (N_("Count"), N_("how many; empty when reports don't say"), False, 5),
    "launch_site": (N_("Site"), N_("launch facility or area, e.g. Kim Chaek"), False, 200),
    "summary": (N_("Summary"), N_("one or two sentences on what happened"), True, 2000),
}
assert tuple(EDIT_INPUTS) == EDIT_FIELDS


def card(review: Review) -> tuple[discord.Embed, discord.ui.View | None]:
    """A draft's card: the embed, and its buttons while it is pending."""
    draft = review.draft
    colour = DECIDED.get(draft.status, COLOURS.get(draft.category, NEUTRAL))
    shown = embed(
        "review/card.j2",
        colour=colour,
        draft=draft,
        d={k: draft.fields.get(k) for k in EDITABLE_FIELDS},
        changes=review.changes,
        event_summary=review.event_summary,
    )
    if not draft.pending:
        return shown, None
    view = discord.ui.View(timeout=None)
    for action, _label, _style in BUTTONS[draft.kind]:
        view.add_item(DraftButton(action, draft.id, draft.kind))
    return shown, view


async def may_moderate(interaction: discord.Interaction) -> bool:
    """The rule of `/event` (commands/checks.py's ModeratorCog): Manage Server in the
    channel, or a role named with `/settings moderator-role`."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    bot = cast("LaunchWatch", interaction.client)
    settings = await get_settings(bot.store, interaction.guild_id)
    return any(role.id in settings.moderator_role_ids for role in interaction.user.roles)


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"lw:draft:(?P<action>confirm|apply|edit|dismiss):(?P<draft_id>\d+)",
):
    """A card's button; the custom_id carries what it does and to which draft."""

    def __init__(self, action: str, draft_id: int, kind: str = "new") -> None:
        label, style = next(
            ((lb, st) for a, lb, st in BUTTONS[kind] if a == action), (action, None)
        )
        super().__init__(
            discord.ui.Button(
                label=_(label),
                style=style or discord.ButtonStyle.secondary,
                custom_id=f"lw:draft:{action}:{draft_id}",
            )
        )
        self.action = action
        self.draft_id = draft_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DraftButton:
        return cls(match["action"], int(match["draft_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if not await may_moderate(interaction):
                raise NotModerator("Manage Server", True)
            if self.action == "edit":
                await self._edit(interaction)
                return
            await interaction.response.defer()  # the store may be busy: answer Discord first
            await decide(interaction, self.action, self.draft_id)
        except Exception as exc:
            await report_error(interaction, exc, f"draft button {self.action}")

    async def _edit(self, interaction: discord.Interaction) -> None:
        bot = cast("LaunchWatch", interaction.client)
        draft = await service.get_draft(bot.store, bot.scope(interaction), self.draft_id)
        service.still_pending(draft)
        await interaction.response.send_modal(EditModal(draft))


async def decide(interaction: discord.Interaction, action: str, draft_id: int) -> None:
    """Confirm, apply or dismiss, then redraw the card as decided."""
    bot = cast("LaunchWatch", interaction.client)
    scope = bot.scope(interaction)
    if action == "confirm":
        draft, _event = await service.confirm_draft(bot.store, scope, draft_id)
    elif action == "apply":
        draft, _event, _changed = await service.apply_draft(bot.store, scope, draft_id)
    else:
        draft = await service.dismiss_draft(bot.store, scope, draft_id)
    await redraw(interaction, bot.store, draft)


async def redraw(interaction: discord.Interaction, store: Store, draft: Draft) -> None:
    """Edit the card the click came from to show the draft as it is now."""
    bot = cast("LaunchWatch", interaction.client)
    shown, view = card(await service.review_of(store, bot.scope(interaction), draft))
    message = await interaction.edit_original_response(embed=shown, view=view)
    if draft.review_message_id == message.id:
        await service.card_posted(store, draft.id, message.channel.id, message.id, draft.revision)
    elif bot.drafting is not None:
        await bot.drafting.post()  # decided from /draft show: its card in the channel too


class EditModal(discord.ui.Modal):
    """The five fields most often fixed, filled in with the draft's values."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(
            title=_("Edit draft #{id}").format(id=draft.id)[:45],
            custom_id=f"lw:draft-edit:{draft.id}",
            timeout=900,
        )
        self.draft_id = draft.id
        self.inputs: dict[str, discord.ui.TextInput[EditModal]] = {}
        for field, (label, hint, long, limit) in EDIT_INPUTS.items():
            value = draft.fields.get(field)
            text = discord.ui.TextInput[EditModal](
                label=_(label),
                placeholder=_(hint),
                default=None if value is None else str(value)[:limit],
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                required=field in ("date", "category", "summary"),
                max_length=limit,
                custom_id=f"draft-{field}",
            )
            self.inputs[field] = text
            self.add_item(text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot = cast("LaunchWatch", interaction.client)
        if not await may_moderate(interaction):
            raise NotModerator("Manage Server", True)
        await interaction.response.defer()
        values = {field: text.value for field, text in self.inputs.items()}
        draft = await service.edit_draft(bot.store, bot.scope(interaction), self.draft_id, values)
        await redraw(interaction, bot.store, draft)

    async def on_error(  # type: ignore[override]  # a Modal's on_error has no item
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error, "draft edit")


class ReviewPoster:
    """Posts the cards owed to each guild's review channel, one pass at a time."""

    def __init__(
        self, bot: discord.Client, store: Store, *, owns: Callable[[int], bool] = lambda g: True
    ) -> None:
        self.bot = bot
        self.store = store
        self.owns = owns
        self._lock = asyncio.Lock()
        self._warned: set[int] = set()

    async def post_owed(self, guild_ids: Sequence[int] | None = None) -> int:
        """Post or redraw every card owed (of these guilds); the number done."""
        async with self._lock:
            done = 0
            for draft in await service.cards_owed(self.store, guild_ids):
                if not self.owns(draft.guild_id):
                    continue
                try:
                    done += await self._post(draft)
                except discord.HTTPException as exc:
                    self._warn(draft, exc)
            return done

    async def _post(self, draft: Draft) -> int:
        channel_id = draft.review_channel_id or await service.review_channel(
            self.store, draft.guild_id
        )
        if channel_id is None:
            return 0  # no review channel: the draft waits in /draft list
        channel = self.bot.get_partial_messageable(channel_id, guild_id=draft.guild_id)
        scope = Scope(draft.guild_id)
        shown, view = card(await service.review_of(self.store, scope, draft))
        if draft.review_message_id is not None:
            try:
                message = channel.get_partial_message(draft.review_message_id)
                await message.edit(embed=shown, view=view)
                await service.card_posted(
                    self.store, draft.id, channel_id, draft.review_message_id, draft.revision
                )
                return 1
            except discord.NotFound:
                if not draft.pending:
                    await service.card_posted(
                        self.store, draft.id, channel_id, draft.review_message_id, draft.revision
                    )
                    return 0
        kwargs: dict[str, Any] = {
            "embed": shown,
            "allowed_mentions": discord.AllowedMentions.none(),
            # A resend after a lost answer returns the first message, not a second card.
            "nonce": f"rv{base36(draft.id)}.{base36(draft.revision)}",
        }
        if view is not None:
            kwargs["view"] = view
        sent = await channel.send(**kwargs)
        await service.card_posted(self.store, draft.id, channel_id, sent.id, draft.revision)
        return 1

    def _warn(self, draft: Draft, exc: discord.HTTPException) -> None:
        if draft.guild_id not in self._warned:
            self._warned.add(draft.guild_id)
            log.warning(
                "cannot post draft #%s for review in guild %s: %s", draft.id, draft.guild_id, exc
            )
