"""Helpers the end-to-end tests share: reading an answer, and waiting without fixed sleeps."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from bot.emulator.api import InvokeResult
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
