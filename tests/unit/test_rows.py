"""Typed rows: each dataclass and its table agree, and what derives from the fields'
annotations is what the store, the validator and the outbox rely on."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fields import columns
from bot.models import (
    EVENT_COLUMNS,
    Delivery,
    Event,
    GuildSettings,
    Reaction,
    Subscription,
    delivery_nonce,
)
from bot.services import Scope, add_event, get_settings, subscribe, update_settings
from db import Store
from tests.conftest import GUILD

STAMP = "2024-02-02T03:00:00.000000+00:00"


async def table_columns(store: Store, table: str) -> set[str]:
    async with store.read() as q:
        if store.backend == "sqlite":
            rows = await q.conn.fetchall("SELECT name FROM pragma_table_info(?)", [table])
        else:
            rows = await q.conn.fetchall(
                "SELECT column_name AS name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ?",
                [table],
            )
    return {r["name"] for r in rows}


@pytest.mark.parametrize(
    ("table", "row", "key"),
    [
        ("event", Event, "id"),
        ("reaction", Reaction, "id"),
        ("subscription", Subscription, "id"),
        ("delivery", Delivery, "id"),
        ("guild_settings", GuildSettings, None),
    ],
)
async def test_each_dataclass_has_exactly_its_tables_columns(
    store: Store, table: str, row: Any, key: str | None
) -> None:
    """A field without its migration (or a migrated column without its field) fails here,
    on both backends, before any query does."""
    expected = set(columns(row)) | ({key} if key else set())
    assert await table_columns(store, table) == expected


def test_the_event_columns_put_the_date_where_its_field_is() -> None:
    assert EVENT_COLUMNS[:5] == (
        "guild_id", "external_id", "occurred_on", "date_precision", "occurred_at"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "event_revision", "period", "nonce"),
    [
        ("alert", (7, 1), None, "a9.7.1"),
        ("correction", (7, 3), None, "c9.7.3"),
        ("digest", None, "daily:2024-02-05", delivery_nonce(9, "digest", None, None, "daily:2024-02-05")),
        ("alert", None, "test:x", delivery_nonce(9, "alert", None, None, "test:x")),
    ],
)  # fmt: skip
def test_a_new_delivery_is_pending_due_now_with_its_nonce(
    kind: str, event_revision: tuple[int, int] | None, period: str | None, nonce: str
) -> None:
    """One constructor for every queued row: an event's alert or correction, a digest, a
    test alert."""
    event = None
    if event_revision is not None:
        event = Event.from_row(
            {
                **dict.fromkeys(EVENT_COLUMNS),
                "id": event_revision[0],
                "revision": event_revision[1],
                "occurred_on": "2024",
                "date_precision": "year",
            }
        )
    d = Delivery.new(kind, 9, GUILD, 501, STAMP, event=event, period=period)
    assert (d.subscription_id, d.guild_id, d.channel_id, d.kind) == (9, GUILD, 501, kind)
    assert (d.status, d.attempts, d.next_attempt_at, d.created_at) == (
        "pending",
        0,
        STAMP,
        STAMP,
    )
    assert (d.event_id, d.revision) == (event_revision or (None, None))
    assert d.period == period and d.nonce == nonce
    assert d.first_attempt_at is d.claimed_until is d.message_id is None


async def test_resubscribing_keeps_when_it_was_made_and_its_last_digest(
    store: Store, scope: Scope
) -> None:
    """Subscribing a channel again replaces its filters, not its history: the digest
    catch-up at start-up reads both."""
    first = await subscribe(store, scope, 501, mode="digest")
    async with store.transaction() as q:
        await q.subscriptions.set_last_digest(first.id, STAMP)

    again = await subscribe(store, scope, 501, mode="both", regions="korean-peninsula")

    assert again.id == first.id and (again.mode, again.regions) == ("both", ["korean-peninsula"])
    assert (again.created_at, again.last_digest_at) == (first.created_at, STAMP)


async def test_changing_one_setting_keeps_the_others(store: Store) -> None:
    await update_settings(store, GUILD, default_actor="DPRK", moderator_role_ids=[5, 3])
    await update_settings(store, GUILD, timezone="Asia/Seoul")

    assert await get_settings(store, GUILD) == GuildSettings(
        GUILD, moderator_role_ids=[3, 5], default_actor="DPRK", timezone="Asia/Seoul"
    )


async def test_an_added_event_is_as_stored(store: Store, scope: Scope) -> None:
    """What add_event returns (built from the validated input) is the row the store holds."""
    added = await add_event(
        store,
        scope,
        {"date": "2024-01-28T23:00-05:00", "category": "srbm", "summary": "x", "count": 2},
    )
    async with store.read() as q:
        assert await q.events.get(added.id) == added
