"""`Queries`: the store's operations on one connection, by aggregate.

`async with store.transaction() as q:` (or `store.read()`) gives one; each aggregate holds
its own SQL, written once in portable SQL with `?` placeholders, and takes and returns the
row dataclasses of `bot/models.py`:

- `q.events`: events, their sources and revisions (`db/events.py`);
- `q.reactions`: reactions and their sources (`db/reactions.py`);
- `q.subscriptions` (`db/subscriptions.py`);
- `q.deliveries`: the outbox and its claims (`db/deliveries.py`);
- `q.settings`: per-guild settings (`db/settings.py`);
- `q.search`: the autocomplete's searches (`db/search.py`).

Where the dialects differ (full-text search, row locks, bulk inserts) an aggregate calls
one method of the connection, which each backend answers in its own SQL (`db/store.py`,
`Conn`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from db.deliveries import Deliveries
from db.events import Events
from db.reactions import Reactions
from db.search import Search
from db.settings import Settings
from db.subscriptions import Subscriptions

if TYPE_CHECKING:
    from db.store import Conn


class Queries:
    """Every aggregate's queries, on one connection (inside a transaction, or a read view)."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.events = Events(conn)
        self.reactions = Reactions(conn)
        self.subscriptions = Subscriptions(conn)
        self.deliveries = Deliveries(conn)
        self.settings = Settings(conn)
        self.search = Search(self.events, self.reactions)

    @property
    def wrote_deliveries(self) -> bool:
        """Whether this transaction queued deliveries: its commit wakes the dispatchers."""
        return self.deliveries.wrote

    @wrote_deliveries.setter
    def wrote_deliveries(self, value: bool) -> None:
        self.deliveries.wrote = value

    async def counts(self, guild_ids: Sequence[int] | None = None) -> dict[str, int]:
        """Row counts for /about and `db export`; per guild when guild_ids is given."""
        return {
            "event": await self.events.total(guild_ids),
            "reaction": await self.reactions.total(guild_ids),
            "subscription": await self.subscriptions.total(guild_ids),
        }
