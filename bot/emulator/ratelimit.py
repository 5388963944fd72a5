"""Discord's rate limits: a global sliding one-second window plus per-route fixed-window buckets.

Answers carry the real headers so discord.py paces itself exactly as it would against Discord.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RouteLimit:
    """``limit`` requests per ``per`` seconds, per route and major parameter."""

    limit: int
    per: float


# Discord's published/observed values; tests may pass their own (e.g. a lower message limit).
DEFAULT_ROUTE_LIMITS: dict[str, RouteLimit] = {
    "POST /channels/{channel_id}/messages": RouteLimit(5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 5.0),
    "DELETE /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 1.0),
    "POST /webhooks/{webhook_id}/{webhook_token}": RouteLimit(5, 2.0),
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}": RouteLimit(5, 2.0),
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original": RouteLimit(5, 2.0),
    "PUT /applications/{application_id}/commands": RouteLimit(2, 1.0),
    "PUT /applications/{application_id}/guilds/{guild_id}/commands": RouteLimit(2, 1.0),
}
DEFAULT_OTHER_ROUTES = RouteLimit(20, 1.0)


@dataclass
class Verdict:
    """Outcome of one rate-limit check: allowed or a 429 with its retry time and headers."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"


@dataclass
class _Bucket:
    limit: RouteLimit
    reset_at: float = 0.0
    remaining: int = 0


class RateLimiter:
    """Decides whether a request may pass now; the clock is injectable for tests."""

    def __init__(
        self,
        *,
        global_limit: int = 50,
        route_limits: dict[str, RouteLimit | tuple[int, float]] | None = None,
        default_limit: RouteLimit = DEFAULT_OTHER_ROUTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.global_limit = global_limit
        self.route_limits = dict(DEFAULT_ROUTE_LIMITS)
        for route, value in (route_limits or {}).items():
            self.route_limits[route] = (
                value if isinstance(value, RouteLimit) else RouteLimit(*value)
            )
        self.default_limit = default_limit
        self.clock = clock
        self._window: deque[float] = deque()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def set_route_limit(self, route: str, limit: int, per: float) -> None:
        """Change one route's bucket (``"POST /channels/{channel_id}/messages"``)."""
        self.route_limits[route] = RouteLimit(limit, per)
        self._buckets = {k: b for k, b in self._buckets.items() if k[0] != route}

    def reset(self) -> None:
        """Forget past requests: an empty global window and fresh buckets."""
        self._window.clear()
        self._buckets.clear()

    def check(self, route: str, major: str, *, exempt_global: bool = False) -> Verdict:
        """Count the request if it may pass; otherwise describe the 429."""
        now = self.clock()
        if not exempt_global:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.global_limit:
                retry = _ceil_ms(self._window[0] + 1.0 - now)
                return Verdict(False, self._global_headers(retry), retry, True, "global")
        bucket = self._bucket(route, major, now)
        if bucket.remaining <= 0:
            retry = _ceil_ms(bucket.reset_at - now)
            headers = self._route_headers(route, bucket, now)
            headers.update(
                {
                    "X-RateLimit-Scope": "user",
                    "X-RateLimit-Global": "false",
                    "Retry-After": str(math.ceil(retry)),
                }
            )
            return Verdict(False, headers, retry, False, "user")
        bucket.remaining -= 1
        if not exempt_global:
            self._window.append(now)
        return Verdict(True, self._route_headers(route, bucket, now))

    def _bucket(self, route: str, major: str, now: float) -> _Bucket:
        key = (route, major)
        bucket = self._buckets.get(key)
        if bucket is None:
            limit = self.route_limits.get(route, self.default_limit)
            bucket = self._buckets[key] = _Bucket(limit)
        if now >= bucket.reset_at:
            bucket.reset_at = now + bucket.limit.per
            bucket.remaining = bucket.limit.limit
        return bucket

    def _route_headers(self, route: str, bucket: _Bucket, now: float) -> dict[str, str]:
        reset_after = max(0.0, bucket.reset_at - now)
        return {
            "X-RateLimit-Limit": str(bucket.limit.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.remaining)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route.encode()).hexdigest()[:16],
        }

    @staticmethod
    def _global_headers(retry: float) -> dict[str, str]:
        return {
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
            "Retry-After": str(math.ceil(retry)),
        }


def _ceil_ms(seconds: float) -> float:
    """Round a wait up to the millisecond, so a client that waits it is not early."""
    return max(0.001, math.ceil(seconds * 1000) / 1000)
