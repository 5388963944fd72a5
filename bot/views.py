"""Paged answers: Previous/Next buttons that only the asker can press, and that expire.

A page is produced on demand by an async callback, so the view holds no rows; when the
view times out its buttons are disabled on the message itself (RoboDanny's paginator).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.i18n import _
from bot.tree import report_error

PageRenderer = Callable[[int], Awaitable[tuple[discord.Embed, int, int]]]
"""Given a page number, returns (embed, the page actually shown, the page count)."""

TIMEOUT = 180.0
"""Seconds of inactivity before a paginator's buttons disable themselves."""


class Paginator(discord.ui.View):
    def __init__(
        self,
        owner_id: int,
        renderer: PageRenderer,
        *,
        page: int,
        pages: int,
        timeout: float = TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.renderer = renderer
        self.page = page
        self.pages = pages
        self.message: discord.InteractionMessage | None = None
        self.previous.label = _("Previous")  # in the catalogue active now, not at import
        self.next.label = _("Next")
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page + 1 >= self.pages

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            _(
                "Only the person who asked can turn these pages. Run the command yourself to get "
                "your own copy."
            ),
            ephemeral=True,
        )
        return False

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        embed, self.page, self.pages = await self.renderer(page)
        self._sync()
        await interaction.response.edit_message(embed=embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id="page:prev")
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, custom_id="page:next")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.page + 1)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:
                pass  # the message was deleted, or the interaction token expired

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error, f"button {getattr(item, 'custom_id', '?')}")


async def send_paged(
    interaction: discord.Interaction,
    renderer: PageRenderer,
    *,
    ephemeral: bool = False,
    timeout: float = TIMEOUT,
) -> None:
    """Answer with page 0 and, when there is more than one page, the buttons."""
    embed, page, pages = await renderer(0)
    if pages <= 1:
        await interaction.response.send_message(embed=embed, ephemeral=ephemeral)
        return
    view = Paginator(interaction.user.id, renderer, page=page, pages=pages, timeout=timeout)
    await interaction.response.send_message(embed=embed, view=view, ephemeral=ephemeral)
    view.message = await interaction.original_response()
