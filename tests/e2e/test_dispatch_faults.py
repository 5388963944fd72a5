"""The dispatcher under strain, on SQLite and on PostgreSQL.

A failing store: one error at any await point of claim, send or settle still leaves every
alert posted exactly once and nothing pending or in flight, and the error is in the log
with its traceback at once. The store is the real one wrapped by `FaultyStore`, which
fails the n-th call (after the test arms it) of a query method, of a transaction's
COMMIT, or just after a COMMIT that went through (the caller sees an error for a write
that happened).

A backlog: one channel hundreds of alerts behind holds only its share of the claims, so
another channel's new alert goes out at once.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import services
from bot.dispatch import Dispatcher
from bot.emulator.api import Emulator
from bot.sandbox.harness import SandboxBot, sandbox_config
from bot.sandbox.world import SANDBOX_GUILD_ID, add_feed_channels
from bot.services import Scope
from db import Store
from db.base import Aggregate
from db.queries import Queries
from tests.e2e.support import settled, until

SCOPE = Scope(SANDBOX_GUILD_ID, 1)
CHANNELS = 4
EVENTS = 3  # so each channel's worker has rows queued behind the one that fails


class InjectedError(Exception):
    """What the store raises where a test told it to (as `database is locked` would be)."""


class Faults:
    """Which calls fail: the n-th call (counted from `arm`) at each point."""

    def __init__(self) -> None:
        self.plan: dict[str, set[int]] = {}
        self.calls: Counter[str] = Counter()
        self.fired: list[str] = []

    def arm(self, plan: dict[str, tuple[int, ...]]) -> None:
        self.plan = {point: set(nths) for point, nths in plan.items()}
        self.calls.clear()

    def hit(self, point: str) -> None:
        if point not in self.plan:
            return
        self.calls[point] += 1
        if self.calls[point] in self.plan[point]:
            self.fired.append(point)
            raise InjectedError(f"injected: database is locked ({point})")


def point_of(name: str, values: dict[str, Any], result: Any) -> str | None:
    """The fault point of a query call; None for a claim that found nothing (a sweep)."""
    if name == "deliveries.claim":
        return name if result else None
    if name == "deliveries.update":
        changes = [k for k in values if k != "pending_only"]
        tag = f"status={values['status']}" if "status" in values else changes[0]
        return f"{name}:{tag}"
    return name


class FaultyQueries:
    """A `Queries` (or one of its aggregates) whose calls run, then fail where the plan says
    (a failed write inside a transaction is rolled back with it, as if the statement
    itself had failed)."""

    def __init__(self, inner: Any, faults: Faults, points: list[str], prefix: str = "") -> None:
        self._inner = inner
        self._faults = faults
        self._points = points
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if isinstance(attr, Aggregate):
            return FaultyQueries(attr, self._faults, self._points, f"{self._prefix}{name}.")
        if not callable(attr) or name.startswith("_"):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await attr(*args, **kwargs)
            point = point_of(self._prefix + name, kwargs, result)
            if point is not None:
                self._points.append(point)
                self._faults.hit(point)
            return result

        return call


class FaultyStore(Store):
    """The real store, with faults where a test arms them."""

    def __init__(self, inner: Store, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults
        self.backend = inner.backend
        self.url = inner.url
        self.on_commit = inner.on_commit  # the real store calls these after its commits

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        points: list[str] = []
        async with self.inner.transaction() as q:
            yield FaultyQueries(q, self.faults, points)  # type: ignore[misc]
            if points:
                self.faults.hit(f"commit:{points[0]}")
        if points:
            self.faults.hit(f"committed:{points[0]}")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Queries]:
        async with self.inner.read() as q:
            yield FaultyQueries(q, self.faults, [])  # type: ignore[misc]

    async def migrate(self) -> list[int]:
        return await self.inner.migrate()

    async def close(self) -> None:
        await self.inner.close()

    async def listen(self, callback: Callable[[], None]) -> None:
        await self.inner.listen(callback)


@asynccontextmanager
async def bot_over(
    store: Store, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[tuple[SandboxBot, Faults]]:
    """The real bot over `store` wrapped in a FaultyStore, connected to the emulator."""
    faults = Faults()
    bot = SandboxBot(sandbox_config(tmp_path / "unused.db"), store=FaultyStore(store, faults))
    async with emulator.connected(bot):
        await emulator.wait_synced(SANDBOX_GUILD_ID)
        yield bot, faults


async def rows(store: Store) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall("SELECT * FROM delivery ORDER BY id")


#: Which calls fail: {point: (n-th calls)}. Claim: the query, its COMMIT, or a COMMIT that
#: went through unseen. Send: the reads before it and the mark of the first try. Settle:
#: the mark as sent (after the post), its COMMIT, a COMMIT that went through unseen, and
#: the mark failing with the back-off after it (the row is given back by the runner).
CASES: dict[str, dict[str, tuple[int, ...]]] = {
    "claim": {"deliveries.claim": (1,)},
    "claim-commit": {"commit:deliveries.claim": (1,)},
    "claim-committed-unseen": {"committed:deliveries.claim": (1,)},
    "read-subscription": {"subscriptions.get": (2,)},
    "read-delivery": {"deliveries.get": (2,)},
    "read-event": {"events.get": (2,)},
    "mark-first-try": {"deliveries.update:first_attempt_at": (2,)},
    "settle": {"deliveries.update:status=sent": (2,)},
    "settle-commit": {"commit:deliveries.update:status=sent": (2,)},
    "settle-committed-unseen": {"committed:deliveries.update:status=sent": (2,)},
    "settle-and-back-off": {
        "deliveries.update:status=sent": (2,),
        "deliveries.update:attempts": (1,),
    },
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_store_error_anywhere_still_delivers_every_alert_once(
    store: Store,
    discord_emulator: Emulator,
    tmp_path: Path,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An injected store error at one await point: every alert still reaches its channel
    exactly once, every row ends sent, nothing stays pending, claimed or in flight."""
    plan = CASES[case]
    channels = add_feed_channels(discord_emulator.world, CHANNELS)
    for channel_id in channels:
        await services.subscribe(store, SCOPE, channel_id)
    async with bot_over(store, discord_emulator, tmp_path) as (bot, faults):
        dispatcher = bot.dispatcher
        assert dispatcher is not None
        faults.arm(plan)
        caplog.set_level(logging.INFO, "launchwatch.dispatch")
        for day in range(EVENTS):
            await services.add_event(
                store,
                SCOPE,
                {"date": f"2024-02-1{day}", "category": "srbm", "summary": f"Launch {day}."},
            )
        await until(lambda: set(faults.fired) == set(plan), 10)
        await settled(store)
        await until(lambda: dispatcher.in_flight == 0 and not dispatcher._owed_claims)
        found = await rows(store)
        assert [r["status"] for r in found] == ["sent"] * CHANNELS * EVENTS
        assert all(r["claimed_until"] is None or r["status"] == "sent" for r in found)
    assert [discord_emulator.count_posts(c) for c in channels] == [EVENTS] * CHANNELS
    assert discord_emulator.duplicate_posts() == []
    assert {r["message_id"] for r in found} == {
        m.id for c in channels for m in discord_emulator.messages(c)
    }
    if not case.startswith("claim"):
        # The failing row's error was logged at once, with its traceback and its id.
        [record] = [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
        assert record.levelno == logging.ERROR and record.exc_info is not None
        assert re.search(r"delivery \d+ ", record.getMessage())


async def test_a_row_that_raises_does_not_strand_the_rows_behind_it(
    store: Store, discord_emulator: Emulator, tmp_path: Path
) -> None:
    """The channel's later rows go out while the failed one backs off and follows."""
    [channel_id] = add_feed_channels(discord_emulator.world, 1)
    await services.subscribe(store, SCOPE, channel_id)
    async with bot_over(store, discord_emulator, tmp_path) as (bot, faults):
        assert bot.dispatcher is not None
        faults.arm({"deliveries.get": (1,)})
        for day in range(EVENTS):
            await services.add_event(
                store, SCOPE, {"date": f"2024-03-1{day}", "category": "srbm", "summary": f"L{day}."}
            )
        await settled(store)
        await until(lambda: bot.dispatcher is not None and bot.dispatcher.in_flight == 0)
        assert discord_emulator.count_posts(channel_id) == EVENTS
        assert [r["status"] for r in await rows(store)] == ["sent"] * EVENTS


def test_the_claim_runs_out_well_before_a_row_must_be_reconciled() -> None:
    """A row a worker lost comes back when its claim runs out; by then a resend must still
    be deduplicated by its nonce (and at worst it is reconciled first)."""
    from bot import dispatch

    assert dispatch.CLAIM < dispatch.RECONCILE_AFTER < dispatch.NONCE_WINDOW
    assert isinstance(Dispatcher.in_flight, property)


async def test_a_backlog_in_one_channel_does_not_hold_up_another(
    store: Store, discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Hundreds of alerts queued for one channel (an import; the channel takes about one a
    second): a new event's alert to another channel goes out while the busy one has had
    only a handful, and the busy one never holds more claimed rows than it can send soon."""
    busy, idle = add_feed_channels(discord_emulator.world, 2)
    await services.subscribe(store, SCOPE, busy)
    imported = [
        {
            "date": f"2023-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}",
            "category": "srbm",
            "summary": f"Import {i}.",
        }
        for i in range(600)
    ]
    await services.add_events(store, SCOPE, imported, alert=True)
    await services.subscribe(store, SCOPE, idle)
    async with bot_over(store, discord_emulator, tmp_path) as (bot, _faults):
        dispatcher = bot.dispatcher
        assert dispatcher is not None
        await until(lambda: discord_emulator.count_posts(busy) >= 1)
        await services.add_event(store, SCOPE, {"date": "2024-04-01", "category": "icbm", "summary": "New."})  # fmt: skip
        await until(lambda: discord_emulator.count_posts(idle) == 1)
        assert discord_emulator.count_posts(busy) < 30  # not its backlog first
        async with store.read() as q:
            [held] = await q.conn.fetchall(
                "SELECT COUNT(*) AS n FROM delivery WHERE channel_id = ? AND status = 'pending' "
                "AND claimed_until IS NOT NULL",
                [busy],
            )
        assert held["n"] <= dispatcher.per_channel
