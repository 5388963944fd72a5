"""A tiny change notifier: code bumps it, tests wait until a condition on the state holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Changes:
    """Wake every waiter on each :meth:`bump`; waiters re-check their own predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def bump(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Return once ``predicate()`` is true; ``TimeoutError`` naming ``what`` otherwise."""
        end = time.monotonic() + timeout
        while not predicate():
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            event = self._event
            try:
                await asyncio.wait_for(event.wait(), min(left, 0.5))
            except TimeoutError:
                continue
