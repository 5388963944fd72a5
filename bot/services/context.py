"""Who is acting, for which guild, and what that guild may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Scope:
    """The acting guild and person, and the deployment's publisher guilds.

    A guild sees its own events and the publishers' (docs/architecture.md, "Who sees
    what"), and changes only its own.
    """

    guild_id: int
    user_id: int | None = None
    publishers: tuple[int, ...] = field(default_factory=tuple)

    @property
    def visible_guilds(self) -> list[int]:
        return [self.guild_id, *(g for g in self.publishers if g != self.guild_id)]

    def can_see(self, guild_id: int) -> bool:
        return guild_id == self.guild_id or guild_id in self.publishers


def now_iso(now: datetime | None = None) -> str:
    """A UTC timestamp as stored: ISO-8601 with offset, sortable as text."""
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
