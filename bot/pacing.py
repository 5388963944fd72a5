"""Pacing under Discord's limits, so a fan-out runs at the limit without collecting 429s.

Discord counts the global limit over a sliding second; a token bucket would let a burst
through at a window's edge and double up. So each limit here is a sliding window: at most
`limit` acquisitions in any `period` seconds, waiters served in order.

Discord counts a request when it arrives, later than we let it go and by a delay that varies
(a burst queues on its way): counted from when they were let go, a burst that arrives slowly
and the next one arriving quickly put more than `limit` arrivals in one second. So in the
global window a request sent through `Pacer.slot` counts from when it is let go until one
period after its answer, which comes after Discord counted it; then no period of arrivals
holds more than `limit`. An answer slower than a period counts as if it came at the end of
that period, so a hung request holds its slot for two periods at most, not until its time-out.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress


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
        #: Each slot taken and until when it counts (at most `limit` of them).
        self._until: dict[object, float] = {}
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds until one more event fits (0 when it fits now), unless an answer comes first."""
        now = self.clock()
        for slot, until in list(self._until.items()):
            if until <= now:
                del self._until[slot]
        if len(self._until) < self.limit:
            return 0.0
        return min(self._until.values()) - now

    async def reserve(self) -> object:
        """Take a slot, in order: it counts until one period after `release` (two at most)."""
        async with self._lock:  # FIFO: asyncio.Lock wakes waiters in order
            while (wait := self.delay()) > 0:
                self._released.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), wait)
            slot = object()
            self._until[slot] = self.clock() + 2 * self.period
            return slot

    def release(self, slot: object) -> None:
        """The request was answered: its slot counts for one more period."""
        if slot in self._until:
            self._until[slot] = min(self._until[slot], self.clock() + self.period)
            self._released.set()

    async def acquire(self) -> None:
        """Take a slot that counts for one period from now."""
        self.release(await self.reserve())


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
        # Discord's window is one second: a fractional rate rounds down (24.5/s: 24 a second),
        # as a wider window (49 per 2 s) would let 49 through in one second.
        self.global_window = SlidingWindow(max(1, int(global_rate)), 1.0)
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

    @asynccontextmanager
    async def slot(self, channel_id: int) -> AsyncIterator[None]:
        """Wait for the channel's window, then hold a global slot while the request is in flight.

        The global slot counts until a period after the answer (see the module's docstring).
        The channel's counts from now: discord.py itself keeps to each channel's bucket, from
        the headers of the answers (it returns the answer that empties a bucket only once the
        bucket refills, so counting from answers would make a busy channel wait twice). The
        channel's comes first, so a slow channel holds no global slot.
        """
        await self.channel(channel_id).acquire()
        ours = await self.global_window.reserve()
        try:
            yield
        finally:
            self.global_window.release(ours)
