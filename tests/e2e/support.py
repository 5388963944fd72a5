"""Helpers the end-to-end tests share: reading an answer, and waiting without fixed sleeps."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.emulator.api import Emulator, InvokeResult, World
from db import Store


def shown(result: InvokeResult) -> str:
    """Everything the answer says, as a reader sees it (Markdown escapes undone)."""
    parts: list[str] = [result.content or ""]
    for e in result.embeds:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
        parts.append(e.get("footer", {}).get("text", ""))
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until the condition holds, checking every 10 ms; fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settled(store: Store, timeout: float = 20.0) -> None:
    """Until the outbox has nothing pending."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with store.read() as q:
            if not await q.deliveries.count("pending"):
                return
        assert asyncio.get_running_loop().time() < deadline, "deliveries still pending"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def checked_emulator(world: World) -> AsyncIterator[Emulator]:
    """A started emulator over `world` with discord.py pointed at it; restored and checked on
    the way out: the test fails if any body the bot sent broke Discord's contract or limits,
    or went to a route the contract lacks (a test that provokes one on purpose asserts it and
    then clears ``spec_errors``)."""
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    emulator = Emulator(world=world)
    await emulator.start()
    emulator.patch_discord()
    try:
        yield emulator
    finally:
        await emulator.stop()
        assert (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (base, gateway)
    assert not emulator.emulator_errors, "\n".join(emulator.emulator_errors)
    assert not emulator.spec_errors, f"bodies Discord would refuse: {emulator.spec_errors}"
