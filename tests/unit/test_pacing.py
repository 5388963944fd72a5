"""The pacer's windows, on a fake clock: what it lets through is what Discord would accept.

Discord counts the global limit over a sliding second at arrival, and each channel's
messages 5 per 5 seconds. A fan-out paced too fast collects 429s (and, in bulk, a ban);
one paced too slow delays every alert. Nothing here sleeps: the clock is moved by hand,
and a window that fits lets a request through without waiting.
"""

from __future__ import annotations

import asyncio
import random
from bisect import bisect_left

import pytest

from bot.pacing import Pacer, SlidingWindow


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def most_in_any_period(times: list[float], period: float) -> int:
    """The largest number of times that fall in one half-open window [t, t + period)."""
    times = sorted(times)
    return max((bisect_left(times, t + period) - i for i, t in enumerate(times)), default=0)


async def greedy_fan_out(
    window: SlidingWindow, clock: Clock, seconds: float, *, seed: int = 1
) -> list[float]:
    """Send as fast as the window allows for `seconds`; return when Discord saw each request.

    Each request is answered 0 to 0.8 s after it is let go and arrives at Discord somewhere
    in between (a burst queues on its way), as in a real fan-out over one connection.
    """
    rng = random.Random(seed)
    end = clock.now + seconds
    answers: list[tuple[float, object]] = []  # (when answered, slot)
    arrivals: list[float] = []
    while clock.now < end:
        for when, slot in [a for a in answers if a[0] <= clock.now]:
            window.release(slot)
            answers.remove((when, slot))
        if window.delay() <= 0:
            slot = await window.reserve()  # fits now: returns at once
            latency = rng.uniform(0.0, 0.8)
            arrivals.append(clock.now + rng.uniform(0.0, latency))
            answers.append((clock.now + latency, slot))
            continue
        next_answer = min((a[0] for a in answers), default=end)
        clock.advance(max(1e-6, min(window.delay(), next_answer - clock.now)))
    return [t for t in arrivals if t < end]


async def test_the_global_window_lets_its_limit_arrive_in_any_second_and_no_more() -> None:
    """A greedy fan-out through a 24-per-second window: never 25 arrivals in one second,
    yet close to 24 a second over ten seconds (the limit is used, not wasted)."""
    clock = Clock()
    window = SlidingWindow(24, 1.0, clock)
    arrivals = await greedy_fan_out(window, clock, 10.0)
    assert most_in_any_period(arrivals, 1.0) <= 24
    assert len(arrivals) >= 10 * 24 * 0.6


async def test_pacers_global_rate_is_its_budget_per_second() -> None:
    """`global_rate` 24 means at most 24 requests arriving in any one second."""
    clock = Clock()
    pacer = Pacer(24.0, 1.0, 5)
    pacer.global_window.clock = clock
    arrivals = await greedy_fan_out(pacer.global_window, clock, 10.0, seed=2)
    assert most_in_any_period(arrivals, 1.0) <= 24
    assert len(arrivals) >= 10 * 24 * 0.6


@pytest.mark.parametrize(("rate", "per_second"), [(24.5, 24), (48.9, 48), (0.5, 1), (1.0, 1)])
async def test_a_fractional_global_rate_rounds_down(rate: float, per_second: int) -> None:
    """24.5 a second is 24 in any second (a 49-per-2-s window would let 49 through in one)."""
    clock = Clock()
    pacer = Pacer(rate, 1.0, 5)
    pacer.global_window.clock = clock
    arrivals = await greedy_fan_out(pacer.global_window, clock, 6.0, seed=3)
    assert most_in_any_period(arrivals, 1.0) == per_second


async def test_a_slot_counts_until_a_second_after_its_answer() -> None:
    """A request answered after 0.3 s keeps its global slot until 1.3 s: Discord may have
    counted it as late as its answer."""
    clock = Clock()
    window = SlidingWindow(2, 1.0, clock)
    start = clock.now
    first = await window.reserve()
    await window.reserve()
    assert window.delay() > 0  # both slots in flight
    clock.advance(0.3)
    window.release(first)
    assert window.delay() == pytest.approx(1.0)  # counts until 1.3 s, a second after its answer
    clock.now = start + 1.3 - 1e-6
    assert window.delay() > 0
    clock.now = start + 1.3
    assert window.delay() == 0


async def test_a_hung_request_holds_its_slot_for_two_periods_at_most() -> None:
    """A request never answered frees its slot two seconds after it was let go, not at its
    time-out; one answered late counts a second after the answer, within the same bound."""
    clock = Clock()
    window = SlidingWindow(1, 1.0, clock)
    start = clock.now
    late = await window.reserve()
    clock.now = start + 1.5
    window.release(late)  # answered after 1.5 s: counts until 2 s, not 2.5 s
    assert window.delay() == pytest.approx(0.5)
    clock.now = start + 2.0
    hung = await window.reserve()  # never answered
    assert hung is not None
    clock.now = start + 4.0 - 1e-6
    assert window.delay() > 0
    clock.now = start + 4.0
    assert window.delay() == 0


async def test_acquire_counts_from_now_for_one_period() -> None:
    """`acquire` (no request to answer) is a slot that counts for one period from now."""
    clock = Clock()
    window = SlidingWindow(3, 2.0, clock)
    for _ in range(3):
        await window.acquire()
    assert window.delay() == pytest.approx(2.0)
    clock.advance(2.0)
    assert window.delay() == 0


async def test_a_channel_takes_five_messages_in_any_five_seconds() -> None:
    """The channel window (5 per 5 s, sliding): a burst of five, then each further message
    waits until the one five places earlier is five seconds old."""
    clock = Clock()
    pacer = Pacer(48.0, 1.0, 5)
    channel = pacer.channel(7)
    channel.clock = clock
    start = clock.now
    let_go: list[float] = []
    for _ in range(12):
        wait = channel.delay()
        clock.advance(wait)
        await channel.acquire()
        let_go.append(clock.now - start)
    assert let_go == pytest.approx([0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 10, 10])
    assert most_in_any_period(let_go, 5.0) == 5


@pytest.mark.parametrize(
    ("rate", "burst", "period"), [(1.0, 5, 5.0), (0.5, 5, 10.0), (2.5, 5, 2.0)]
)
def test_a_fractional_channel_rate_widens_the_window(
    rate: float, burst: int, period: float
) -> None:
    """`channel_rate` 0.5 with a burst of 5 is 5 messages per 10 s."""
    window = Pacer(48.0, rate, burst).channel(1)
    assert (window.limit, window.period) == (burst, pytest.approx(period))


async def test_pacer_slot_holds_the_global_slot_until_a_second_after_the_answer() -> None:
    """Through `Pacer.slot`, the global slot is held while the request is in flight and for a
    period after it is answered; the channel's counts from when it was let go."""
    clock = Clock()
    pacer = Pacer(1.0, 1.0, 5)
    pacer.global_window.clock = clock
    pacer.channel(1).clock = clock
    start = clock.now
    async with pacer.slot(1):
        clock.advance(0.4)  # in flight
        assert pacer.global_window.delay() > 0
    assert pacer.global_window.delay() == pytest.approx(1.0)  # answered at 0.4 s: until 1.4 s
    clock.now = start + 1.4
    assert pacer.global_window.delay() == 0
    assert pacer.channel(1).delay() == 0  # 1 of 5 used


async def test_a_waiting_channel_holds_no_global_slot() -> None:
    """A channel that must wait for its own window does not keep another channel's alert
    from the global budget."""
    clock = Clock()
    pacer = Pacer(1.0, 1.0, 5)
    pacer.global_window.clock = clock
    busy = pacer.channel(1)
    busy.clock = clock
    pacer.channel(2).clock = clock
    for _ in range(5):
        await busy.acquire()

    async def send(channel_id: int) -> None:
        async with pacer.slot(channel_id):
            pass

    waiting = asyncio.create_task(send(1))
    try:
        await asyncio.wait_for(send(2), 1.0)  # the global slot was free for channel 2
        assert not waiting.done()
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)


async def test_waiters_are_served_in_order_when_slots_free_up() -> None:
    """Requests waiting on a full window go in the order they came, each once a slot is free;
    an answer wakes them (no polling)."""
    clock = Clock()
    window = SlidingWindow(1, 1.0, clock)
    held = await window.reserve()
    order: list[str] = []

    async def take(name: str) -> object:
        slot = await window.reserve()
        order.append(name)
        return slot

    first = asyncio.create_task(take("first"))
    second = asyncio.create_task(take("second"))
    try:
        await asyncio.sleep(0)  # both are waiting now
        assert order == []
        clock.advance(2.0)  # the held slot's two periods are over
        window.release(held)  # an answer: wakes the first waiter
        slot = await asyncio.wait_for(first, 1.0)
        assert order == ["first"] and not second.done()
        clock.advance(2.0)
        window.release(slot)
        await asyncio.wait_for(second, 1.0)
        assert order == ["first", "second"]
    finally:
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
