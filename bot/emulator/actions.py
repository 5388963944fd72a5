"""Acting as Discord users: run slash commands, type into autocomplete, click, submit modals.

Each action builds the interaction Discord would send from the *synced* command tree, applies
Discord's permission gate, dispatches it over the gateway and waits for the bot's answer.
"""

from __future__ import annotations

from typing import Any

from .components import SELECT_TYPES, find_component, submitted
from .gateway import Gateway
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    InteractionHub,
    InteractionNotAnswered,
    InvokeResult,
    Pending,
)
from .records import MessageRecord, Recorder
from .registry import CommandRefused, CommandRegistry
from .world import Channel, Guild, Member, World


class UserActions:
    """The user-facing half of :class:`~.emulator.Emulator`."""

    world: World
    store: Recorder
    registry: CommandRegistry
    hub: InteractionHub
    gateway: Gateway

    @property
    def interaction_deadline(self) -> float:
        """Seconds the bot has for its first answer (Discord: 3)."""
        return self.hub.deadline

    @interaction_deadline.setter
    def interaction_deadline(self, seconds: float) -> None:
        self.hub.deadline = seconds

    def _attachment_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        raise NotImplementedError

    def _where(self, channel: int | str, guild: int | None) -> tuple[Guild, Channel]:
        target = self.world.guilds[guild] if guild else self.world.default_guild()
        return target, self.world.find_channel(channel, target.id)

    def _prepare(
        self,
        command: str,
        options: dict[str, Any] | None,
        user: int | str,
        guild: Guild,
        channel: Channel,
        focused: str | None = None,
    ) -> tuple[Member, dict[str, Any], str]:
        member = self.world.find_member(user, guild.id)
        data, name, files = self.registry.prepare(
            command,
            options or {},
            guild,
            channel,
            member,
            focused=focused,
            attachment_url=lambda att_id, fname: self._attachment_url(channel.id, att_id, fname),
        )
        self.store.extra_files.extend(files)
        return member, data, name

    async def invoke(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: int | str = "member",
        channel: int | str = "general",
        guild: int | None = None,
        timeout: float | None = None,
        settle: bool = True,
        settle_timeout: float = 10.0,
    ) -> InvokeResult:
        """Run a slash command as ``user``; ``res.refused`` when Discord's gate stops it."""
        where, chan = self._where(channel, guild)
        try:
            member, data, name = self._prepare(command, options, user, where, chan)
        except CommandRefused as refusal:
            return InvokeResult(name=command, refused=True, refusal=str(refusal))
        pending, payload = self.hub.create(
            APPLICATION_COMMAND, where, chan, member, data, name=name
        )
        return await self._run(pending, payload, timeout, settle, settle_timeout)

    async def autocomplete(
        self,
        command: str,
        options: dict[str, Any],
        *,
        focused: str,
        user: int | str = "member",
        channel: int | str = "general",
        guild: int | None = None,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """Type into ``focused``; the choices the bot offered. Raises CommandRefused."""
        where, chan = self._where(channel, guild)
        member, data, name = self._prepare(command, options, user, where, chan, focused)
        pending, payload = self.hub.create(AUTOCOMPLETE, where, chan, member, data, name=name)
        result = await self._run(pending, payload, timeout, False, 0.0)
        return result.choices or []

    async def click(
        self,
        message: MessageRecord | InvokeResult,
        custom_id: str,
        *,
        user: int | str = "member",
        values: list[str] | None = None,
        timeout: float | None = None,
        settle: bool = True,
        settle_timeout: float = 10.0,
    ) -> InvokeResult:
        """Press a button (or pick ``values`` in a select) on a message."""
        target = message.message if isinstance(message, InvokeResult) else message
        if target is None:
            raise ValueError("there is no message to click on")
        component = find_component(target.components, custom_id)
        if component is None:
            raise ValueError(f"message {target.id} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        where, chan = self._where(target.channel_id, target.guild_id)
        member = self.world.find_member(user, where.id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in SELECT_TYPES:
            data["values"] = list(values or [])
        pending, payload = self.hub.create(
            COMPONENT, where, chan, member, data, name=custom_id, target=target
        )
        return await self._run(pending, payload, timeout, settle, settle_timeout)

    async def submit_modal(
        self,
        shown: InvokeResult,
        values: dict[str, str],
        *,
        user: int | str = "member",
        timeout: float | None = None,
        settle: bool = True,
    ) -> InvokeResult:
        """Fill in the modal a response showed (``values`` by custom_id or label) and submit."""
        modal = shown.modal
        if modal is None:
            raise ValueError("that response did not show a modal")
        pending_before = self.hub.by_id[shown.interaction_id]
        where, chan = self._where(pending_before.channel.id, pending_before.guild_id)
        member = self.world.find_member(user, where.id)
        data = {
            "custom_id": modal["custom_id"],
            "components": [submitted(c, values) for c in modal.get("components") or []],
        }
        pending, payload = self.hub.create(
            MODAL_SUBMIT, where, chan, member, data, name=modal["custom_id"],
            target=pending_before.target,
        )  # fmt: skip
        return await self._run(pending, payload, timeout, settle, 10.0)

    async def _run(
        self,
        pending: Pending,
        payload: dict[str, Any],
        timeout: float | None,
        settle: bool,
        settle_timeout: float,
    ) -> InvokeResult:
        await self.gateway.dispatch_to_guild(pending.guild_id, "INTERACTION_CREATE", payload)
        wait = self.interaction_deadline + 2.0 if timeout is None else timeout
        result = await self.hub.wait_answer(pending, wait)
        if settle and result.response_type == 5 and not result.late:
            try:
                await result.wait_settled(settle_timeout)
            except TimeoutError:
                raise InteractionNotAnswered(
                    f"{result.name!r} deferred but never followed up in {settle_timeout}s"
                ) from None
        return result
