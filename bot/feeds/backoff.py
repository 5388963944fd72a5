"""When to poll a feed again after failures, and when to call it broken.

A pure policy, so the scheduler and its tests agree on the numbers: the delay doubles
with each consecutive failure from the normal interval up to a cap, a server's own
Retry-After is honoured up to that cap, and after `broken_after` failures in a row the
feed counts as broken (a moderator is told, and it stops being polled until fixed).
With the defaults: 30 min, 1 h, 2 h, 4 h, then every 6 h; broken after 8 (about a day).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Doubling past this adds nothing (2**16 × any sane interval is past any cap) and keeps
#: the arithmetic small for a feed that has failed for years.
_MAX_DOUBLINGS = 16


@dataclass(frozen=True)
class Backoff:
    """Seconds between polls: `interval` when healthy, at most `cap` when failing."""

    interval: float = 900.0
    cap: float = 6 * 3600.0
    broken_after: int = 8

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds until the next poll after `failures` consecutive failures (0: healthy)."""
        if failures <= 0:
            return self.interval
        wait = self.interval * 2 ** min(failures, _MAX_DOUBLINGS)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, max(self.cap, self.interval))

    def broken(self, failures: int) -> bool:
        """True once the feed has failed `broken_after` times in a row."""
        return failures >= self.broken_after
