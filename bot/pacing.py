"""Pacing under Discord's limits, so a fan-out runs at the limit without collecting 429s.

Discord counts the global limit over a sliding second; a token bucket would let a burst
through at a window's edge and double up. So each limit here is a sliding window: at most
`limit` acquisitions in any `period` seconds, waiters served in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` events in any `period` seconds."""

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self.clock = clock
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        now = self.clock()
        while self._stamps and now - self._stamps[0] >= self.period:
            self._stamps.popleft()
        if len(self._stamps) < self.limit:
            return 0.0
        return self._stamps[0] + self.period - now

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: asyncio.Lock wakes waiters in order
            while (wait := self.delay()) > 0:  # noqa: ASYNC110 - the wait is known exactly
                await asyncio.sleep(wait)
            self._stamps.append(self.clock())


class Pacer:
    """The global budget for this process, plus one window per channel."""

    def __init__(
        self,
        global_rate: float,
        channel_rate: float,
        channel_burst: int,
        *,
        max_channels: int = 10_000,
    ) -> None:
        # A fractional rate (24.5/s) is kept exact by widening the window: 49 per 2 s.
        scale = 1 if float(global_rate).is_integer() else 2
        self.global_window = SlidingWindow(max(1, int(global_rate * scale)), float(scale))
        self.channel_burst = channel_burst
        self.channel_period = channel_burst / channel_rate
        self._channels: OrderedDict[int, SlidingWindow] = OrderedDict()
        self._max_channels = max_channels

    def channel(self, channel_id: int) -> SlidingWindow:
        window = self._channels.get(channel_id)
        if window is None:
            window = SlidingWindow(self.channel_burst, self.channel_period)
            self._channels[channel_id] = window
            if len(self._channels) > self._max_channels:
                self._channels.popitem(last=False)
        else:
            self._channels.move_to_end(channel_id)
        return window

    async def acquire(self, channel_id: int) -> None:
        """Wait for the channel's window, then the global one (so a slow channel holds no global slot)."""
        await self.channel(channel_id).acquire()
        await self.global_window.acquire()
