"""Faults a test can switch on: broken channels and flaky REST (500s, hangs, lost answers)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bot.sandbox.errors import MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_CHANNEL

CHANNEL_FAULTS = {
    MISSING_ACCESS: 403,
    MISSING_PERMISSIONS: 403,
    UNKNOWN_CHANNEL: 404,
}


@dataclass
class Flakiness:
    """A share of REST requests that fail with 500, hang past the client's patience, or are
    carried out and then answered 500 (the answer lost on its way back, as behind a proxy)."""

    share: float
    mode: str  # "500", "hang" or "lost"
    hang_seconds: float
    routes: frozenset[str] | None  # only these route keys ("POST /channels/..."), or all


@dataclass
class Faults:
    """The switchboard; the server consults it on every request."""

    seed: int = 0
    channels: dict[int, tuple[int, int]] = field(default_factory=dict)
    flaky: Flakiness | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def break_channel(self, channel_id: int, code: int = MISSING_ACCESS) -> None:
        """Every request touching this channel answers 403 (50001/50013) or 404 (10003)."""
        if code not in CHANNEL_FAULTS:
            raise ValueError(f"channel faults are one of {sorted(CHANNEL_FAULTS)}")
        self.channels[channel_id] = (CHANNEL_FAULTS[code], code)

    def fix_channel(self, channel_id: int) -> None:
        self.channels.pop(channel_id, None)

    def channel_fault(self, channel_id: int | None) -> tuple[int, int] | None:
        """(status, code) for a broken channel, else None."""
        return None if channel_id is None else self.channels.get(channel_id)

    def make_flaky(
        self,
        share: float,
        *,
        mode: str = "500",
        seed: int | None = None,
        hang_seconds: float = 60.0,
        routes: list[str] | None = None,
    ) -> None:
        """Fail ``share`` (0..1) of REST requests; ``mode`` is ``"500"``, ``"hang"`` or
        ``"lost"`` (done, then answered 500: a retry without a nonce would repeat it)."""
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be within 0..1")
        if mode not in ("500", "hang", "lost"):
            raise ValueError("mode must be '500', 'hang' or 'lost'")
        if seed is not None:
            self.rng = random.Random(seed)
        chosen = frozenset(routes) if routes else None
        self.flaky = Flakiness(share, mode, hang_seconds, chosen)

    def roll(self, route: str) -> Flakiness | None:
        """The flakiness that hits this request, if it does."""
        flaky = self.flaky
        if flaky is None or (flaky.routes is not None and route not in flaky.routes):
            return None
        return flaky if self.rng.random() < flaky.share else None

    def clear(self) -> None:
        """Switch every fault off."""
        self.channels.clear()
        self.flaky = None
