"""Launch events: recording, alerting, correcting, retracting, and reading them back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest

from bot.dates import PartialDate
from bot.errors import AlreadyRecorded, Forbidden, NotFound, ValidationError
from bot.models import Event
from bot.services import (
    Scope,
    TimelineFilter,
    add_event,
    add_source,
    edit_event,
    event_history,
    get_event,
    list_events,
    retract_event,
    search_events,
    set_subscription_state,
    subscribe,
    timeline,
    update_settings,
)
from bot.services.events import update_event_fields
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD, PUBLISHER

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
SOURCE = {"url": "https://www.yna.co.kr/view/AEN20240202000251315", "publisher": "Yonhap"}
PUBLISHING = Scope(PUBLISHER, MODERATOR + 1, publishers=(PUBLISHER,))
OTHER = Scope(OTHER_GUILD, MODERATOR + 2, publishers=(PUBLISHER,))


def launch(**overrides: Any) -> dict[str, Any]:
    """The February 2nd launch from Kim Chaek, as a moderator would enter it."""
    raw: dict[str, Any] = {
        "date": "2024-02-02",
        "actor": "DPRK",
        "category": "cruise_missile",
        "count": 2,
        "launch_site": "Kim Chaek",
        "landing_area": "Sea of Japan (East Sea)",
        "distance_km": 150,
        "summary": "Multiple cruise missiles fired off the east coast.",
    }
    raw.update(overrides)
    return raw


async def add(store: Store, scope: Scope, **overrides: Any) -> Event:
    alert = overrides.pop("alert", True)
    return await add_event(store, scope, launch(**overrides), alert=alert, now=NOW)


async def rows(store: Store, table: str) -> list[dict[str, Any]]:
    async with store.read() as q:
        return await q.conn.fetchall(f"SELECT * FROM {table} ORDER BY id")


async def channel(store: Store, scope: Scope, channel_id: int, **options: Any) -> int:
    """Subscribe a channel for `scope`'s guild; returns the subscription id."""
    return (await subscribe(store, scope, channel_id, now=NOW, **options)).id


async def deliveries(store: Store, kind: str | None = None) -> list[tuple[int, str]]:
    """(channel, kind) of every queued delivery, oldest first."""
    return [
        (d["channel_id"], d["kind"])
        for d in await rows(store, "delivery")
        if kind is None or d["kind"] == kind
    ]


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Everything an event change could write, to compare before and after a refusal."""
    return {t: await rows(store, t) for t in ("event", "event_revision", "source", "delivery")}


class TestAddEvent:
    """`/event add`: the event, its first revision and its sources, in one transaction."""

    async def test_added_event_is_stored_at_revision_one(self, store: Store, scope: Scope) -> None:
        """A new event comes back, and reads back, with every field at revision 1."""
        added = await add(store, scope, sources=[SOURCE], name="Hwasal-2")

        stored = await get_event(store, scope, added.id)
        assert stored == added
        assert stored.revision == 1
        assert stored.guild_id == GUILD
        assert stored.created_by == MODERATOR
        assert (stored.occurred_on, stored.date_precision) == ("2024-02-02", "day")
        assert (stored.category, stored.count, stored.distance_km) == ("cruise_missile", 2, 150)
        assert (stored.launch_site, stored.name) == ("Kim Chaek", "Hwasal-2")
        assert (stored.confidence, stored.outcome) == ("reported", "unknown")
        assert [s.as_dict() for s in stored.sources] == [
            {**SOURCE, "title": None, "published_on": None}
        ]

    async def test_added_event_has_a_created_history_row(self, store: Store, scope: Scope) -> None:
        """The history of a new event starts with one 'created' entry by its author."""
        added = await add(store, scope)

        history = await event_history(store, scope, added.id)

        assert [(r.revision, r.field, r.changed_by) for r in history] == [(1, "created", MODERATOR)]

    async def test_minute_precise_event_keeps_its_instant(self, store: Store, scope: Scope) -> None:
        """A launch timed to the minute in Seoul time reads back as that UTC instant."""
        added = await add(store, scope, date="2024-01-29T08:00+09:00")

        stored = await get_event(store, scope, added.id)

        assert stored.date == PartialDate(
            "2024-01-28", "minute", datetime(2024, 1, 28, 23, 0, tzinfo=UTC)
        )

    async def test_month_precise_event_stays_a_month(self, store: Store, scope: Scope) -> None:
        """A launch known only to the month is not given an invented day."""
        added = await add(store, scope, date="2023-11")

        stored = await get_event(store, scope, added.id)

        assert (stored.occurred_on, stored.date_precision, stored.occurred_at) == (
            "2023-11",
            "month",
            None,
        )

    async def test_blank_actor_takes_the_guild_default(self, store: Store, scope: Scope) -> None:
        """With no actor given, the guild's default actor is used."""
        await update_settings(store, GUILD, default_actor="PRC")

        added = await add(store, scope, actor="")

        assert added.actor == "PRC"

    async def test_blank_actor_without_a_default_is_dprk(self, store: Store, scope: Scope) -> None:
        """With no actor and no guild default, the actor is DPRK."""
        assert (await add(store, scope, actor=None)).actor == "DPRK"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"category": "rocket"}, "category"),
            ({"count": 0}, "count"),
            ({"distance_km": -5}, "distance_km"),
            ({"date": "2024-02-30"}, "date"),
            ({"date": "2024-03-01"}, "date"),
            ({"sources": [{"url": "ftp://example.org/x"}]}, "source_url"),
            ({"confidence": "confirmed"}, "source"),
            ({"summary": "x" * 2001}, "summary"),
        ],
    )
    async def test_rejected_event_writes_nothing(
        self, store: Store, scope: Scope, overrides: dict[str, Any], field: str
    ) -> None:
        """Invalid input is refused naming the field, with no event and no alert written."""
        await channel(store, scope, 501)

        with pytest.raises(ValidationError) as caught:
            await add(store, scope, **overrides)

        assert caught.value.field == field
        assert await snapshot(store) == {
            "event": [],
            "event_revision": [],
            "source": [],
            "delivery": [],
        }

    async def test_duplicate_external_id_is_refused(self, store: Store, scope: Scope) -> None:
        """A second event with the same external id in one server is refused, unchanged."""
        await channel(store, scope, 501)
        await add(store, scope, external_id="cns:245")
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await add(store, scope, external_id="cns:245", date="2024-01-25")

        assert caught.value.field == "external_id"
        assert await snapshot(store) == before


class TestTwins:
    """A retried `/event add` (same guild, date, category, summary) within the window."""

    FIELDS: ClassVar[dict[str, Any]] = {
        "date": "2024-02-02",
        "category": "srbm",
        "summary": "Two SRBMs.",
    }
    WINDOW = timedelta(minutes=10)

    async def test_a_repeat_within_the_window_is_refused_naming_the_first(
        self, store: Store, scope: Scope
    ) -> None:
        """The second add raises AlreadyRecorded with the first event's id and stores nothing."""
        first = await add_event(store, scope, self.FIELDS, now=NOW, twin_window=self.WINDOW)
        later = NOW + timedelta(minutes=9)
        with pytest.raises(AlreadyRecorded) as caught:
            await add_event(store, scope, self.FIELDS, now=later, twin_window=self.WINDOW)
        assert caught.value.event_id == first.id
        assert [e.id for e in await list_events(store, scope, TimelineFilter())] == [first.id]

    async def test_outside_the_window_or_another_guild_it_is_a_new_launch(
        self, store: Store, scope: Scope
    ) -> None:
        """Eleven minutes on, or in another server, the same text is a launch of its own."""
        first = await add_event(store, scope, self.FIELDS, now=NOW, twin_window=self.WINDOW)
        later = NOW + timedelta(minutes=11)
        second = await add_event(store, scope, self.FIELDS, now=later, twin_window=self.WINDOW)
        other = Scope(OTHER_GUILD, MODERATOR)
        third = await add_event(store, other, self.FIELDS, now=later, twin_window=self.WINDOW)
        assert len({first.id, second.id, third.id}) == 3


class TestAlerts:
    """Adding an event queues one alert per matching subscription, in the same transaction."""

    async def test_alert_per_instant_or_both_subscription(self, store: Store, scope: Scope) -> None:
        """Channels alerting instantly, or instantly and by digest, each get one alert."""
        await channel(store, scope, 501, mode="instant")
        await channel(store, scope, 502, mode="both")
        await channel(store, scope, 503, mode="digest")

        added = await add(store, scope)

        queued = await rows(store, "delivery")
        assert sorted(d["channel_id"] for d in queued) == [501, 502]
        for d in queued:
            assert (d["kind"], d["status"], d["attempts"]) == ("alert", "pending", 0)
            assert (d["event_id"], d["revision"], d["guild_id"]) == (added.id, 1, GUILD)
            assert 0 < len(d["nonce"]) <= 25
        assert len({d["nonce"] for d in queued}) == 2

    @pytest.mark.parametrize(
        ("filters", "alerted"),
        [
            ({"categories": ["cruise_missile", "icbm"]}, True),
            ({"categories": ["icbm"]}, False),
            ({"actors": ["dprk"]}, True),
            ({"actors": ["PRC"]}, False),
            ({"regions": ["Korean-Peninsula"]}, True),
            ({"regions": ["middle-east"]}, False),
            ({"min_confidence": "reported"}, True),
            ({"min_confidence": "confirmed"}, False),
        ],
    )
    async def test_subscription_filters_are_honoured(
        self, store: Store, scope: Scope, filters: dict[str, Any], alerted: bool
    ) -> None:
        """A reported DPRK cruise-missile launch alerts only channels whose filters admit it."""
        await channel(store, scope, 501, **filters)

        await add(store, scope)

        assert await deliveries(store) == ([(501, "alert")] if alerted else [])

    async def test_confirmed_event_passes_a_confirmed_threshold(
        self, store: Store, scope: Scope
    ) -> None:
        """A channel wanting only confirmed events is alerted about a confirmed one."""
        await channel(store, scope, 501, min_confidence="confirmed")

        await add(store, scope, confidence="confirmed", sources=[SOURCE])

        assert await deliveries(store) == [(501, "alert")]

    async def test_disputed_event_misses_a_reported_threshold(
        self, store: Store, scope: Scope
    ) -> None:
        """A disputed event does not reach a channel that wants at least reported ones."""
        await channel(store, scope, 501, min_confidence="reported")
        await channel(store, scope, 502)

        await add(store, scope, confidence="disputed", sources=[SOURCE])

        assert await deliveries(store) == [(502, "alert")]

    @pytest.mark.parametrize("state", ["paused", "broken"])
    async def test_inactive_subscription_gets_no_alert(
        self, store: Store, scope: Scope, state: str
    ) -> None:
        """A paused or broken channel is not alerted."""
        await channel(store, scope, 501)
        await set_subscription_state(store, scope, 501, state, reason="Missing Access")

        await add(store, scope)

        assert await deliveries(store) == []

    async def test_publisher_event_alerts_every_guild(self, store: Store, scope: Scope) -> None:
        """An event recorded by a publisher guild alerts subscribers in every server."""
        await channel(store, scope, 501)
        await channel(store, OTHER, 601)
        await channel(store, PUBLISHING, 701)

        await add(store, PUBLISHING)

        queued = await rows(store, "delivery")
        assert sorted((d["channel_id"], d["guild_id"]) for d in queued) == [
            (501, GUILD),
            (601, OTHER_GUILD),
            (701, PUBLISHER),
        ]

    async def test_non_publisher_event_alerts_only_its_guild(
        self, store: Store, scope: Scope
    ) -> None:
        """An ordinary server's event alerts its own channels and nobody else's."""
        await channel(store, scope, 501)
        await channel(store, OTHER, 601)
        await channel(store, PUBLISHING, 701)

        await add(store, scope)

        assert await deliveries(store) == [(501, "alert")]

    async def test_alert_false_queues_nothing(self, store: Store, scope: Scope) -> None:
        """An import without --alert stores the event but pages no channel."""
        await channel(store, scope, 501)

        added = await add(store, scope, alert=False)

        assert [e["id"] for e in await rows(store, "event")] == [added.id]
        assert await deliveries(store) == []

    async def test_alert_wakes_the_dispatcher(self, store: Store, scope: Scope) -> None:
        """Adding an event that queues an alert wakes the dispatcher once, after the commit."""
        woken: list[int] = []
        await channel(store, scope, 501)

        async def pending() -> int:
            async with store.read() as q:
                return await q.deliveries.count("pending")

        store.on_commit.append(lambda: woken.append(1))
        await add(store, scope)
        await add(store, scope, date="2024-01-25", alert=False)

        assert woken == [1]
        assert await pending() == 1


class TestEditEvent:
    """`/event edit`: one field at a time, every change recorded and sent as a correction."""

    async def test_edit_records_old_and_new_value(self, store: Store, scope: Scope) -> None:
        """Changing the count records revision 2 with the old and new count."""
        added = await add(store, scope)

        edited, changed = await edit_event(store, scope, added.id, "count", "3", now=NOW)

        assert changed == ["count"]
        assert (edited.count, edited.revision) == (3, 2)
        history = await event_history(store, scope, added.id)
        assert [(r.revision, r.field, r.old, r.new) for r in history[1:]] == [
            (2, "count", "2", "3")
        ]
        assert history[1].changed_by == MODERATOR

    async def test_date_edit_records_the_day_change(self, store: Store, scope: Scope) -> None:
        """Moving an event to another day records the old and new day."""
        added = await add(store, scope)

        edited, changed = await edit_event(store, scope, added.id, "date", "2024-01-31", now=NOW)

        assert changed == ["occurred_on"]
        assert edited.occurred_on == "2024-01-31"
        last = (await event_history(store, scope, added.id))[-1]
        assert (last.field, last.old, last.new) == ("occurred_on", "2024-02-02", "2024-01-31")

    async def test_unchanged_edit_records_nothing(self, store: Store, scope: Scope) -> None:
        """Setting a field to the value it already has writes no revision and no correction."""
        await channel(store, scope, 501)
        added = await add(store, scope, date="2024-02-02T01:10Z")
        before = await snapshot(store)

        for field, value in [
            ("count", 2),
            ("distance_km", "150.0"),
            ("launch_site", " Kim  Chaek "),
            ("date", "2024-02-02T10:10+09:00"),
        ]:
            edited, changed = await edit_event(store, scope, added.id, field, value, now=NOW)
            assert changed == [], field
            assert edited.revision == 1

        assert await snapshot(store) == before

    async def test_correction_goes_only_to_alerted_channels(
        self, store: Store, scope: Scope
    ) -> None:
        """A channel that got the alert gets a correction; one subscribed later gets none."""
        await channel(store, scope, 501)
        added = await add(store, scope)
        await channel(store, scope, 502)

        await edit_event(store, scope, added.id, "distance_km", 1500, now=NOW)

        assert await deliveries(store) == [(501, "alert"), (501, "correction")]
        correction = (await rows(store, "delivery"))[-1]
        assert (correction["revision"], correction["status"]) == (2, "pending")

    async def test_no_correction_when_the_alert_never_arrived(
        self, store: Store, scope: Scope
    ) -> None:
        """A channel whose alert was given up on (dead) is not sent a correction."""
        await channel(store, scope, 501)
        added = await add(store, scope)
        async with store.transaction() as q:
            await q.conn.execute("UPDATE delivery SET status = 'dead'")

        await edit_event(store, scope, added.id, "count", 4, now=NOW)

        assert await deliveries(store) == [(501, "alert")]

    async def test_no_correction_for_an_event_imported_without_alerts(
        self, store: Store, scope: Scope
    ) -> None:
        """Editing an event nobody was alerted about queues nothing."""
        await channel(store, scope, 501)
        added = await add(store, scope, alert=False)

        await edit_event(store, scope, added.id, "count", 4, now=NOW)

        assert await deliveries(store) == []

    async def test_text_ending_in_z_can_be_edited(self, store: Store, scope: Scope) -> None:
        """A name such as `Hwasal-Z` is text like any other, not a timestamp."""
        added = await add(store, scope, name="Hwasal-Z")

        edited, changed = await edit_event(store, scope, added.id, "name", "Hwasal-2", now=NOW)

        assert (edited.name, changed) == ("Hwasal-2", ["name"])

    async def test_editing_a_publisher_event_is_forbidden(self, store: Store, scope: Scope) -> None:
        """A server may read a publisher's events but not change them."""
        theirs = await add(store, PUBLISHING)
        before = await snapshot(store)

        with pytest.raises(Forbidden) as caught:
            await edit_event(store, scope, theirs.id, "count", 5, now=NOW)

        assert "only its moderators" in caught.value.reason
        assert await snapshot(store) == before

    async def test_another_servers_event_is_not_found(self, store: Store, scope: Scope) -> None:
        """A non-publisher's event is invisible: editing it says not found, and changes nothing."""
        theirs = await add(store, OTHER)
        before = await snapshot(store)

        with pytest.raises(NotFound):
            await edit_event(store, scope, theirs.id, "count", 5, now=NOW)
        with pytest.raises(NotFound):
            await edit_event(store, scope, theirs.id + 100, "count", 5, now=NOW)

        assert await snapshot(store) == before

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("count", "-1"),
            ("category", "rocket"),
            ("date", "2031-01-01"),
            ("summary", ""),
            ("colour", "red"),
        ],
    )
    async def test_invalid_edit_is_refused_unchanged(
        self, store: Store, scope: Scope, field: str, value: str
    ) -> None:
        """A bad value is refused naming the field, and the event is unchanged."""
        await channel(store, scope, 501)
        added = await add(store, scope)
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await edit_event(store, scope, added.id, field, value, now=NOW)

        assert caught.value.field == field
        assert await snapshot(store) == before

    async def test_confirming_an_unsourced_event_is_refused(
        self, store: Store, scope: Scope
    ) -> None:
        """Raising confidence to confirmed needs a source first, and says how to add one."""
        added = await add(store, scope)
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await edit_event(store, scope, added.id, "confidence", "confirmed", now=NOW)

        assert caught.value.field == "confidence"
        assert "/event source" in caught.value.fix
        assert await snapshot(store) == before

    async def test_confirming_a_sourced_event_is_accepted(self, store: Store, scope: Scope) -> None:
        """With a source, an event can be raised to confirmed."""
        added = await add(store, scope, sources=[SOURCE])

        edited, changed = await edit_event(
            store, scope, added.id, "confidence", "confirmed", now=NOW
        )

        assert (edited.confidence, changed) == ("confirmed", ["confidence"])

    async def test_external_id_of_another_event_is_refused(
        self, store: Store, scope: Scope
    ) -> None:
        """An edit may not give an event the external id another event already has."""
        await add(store, scope, external_id="cns:245")
        second = await add(store, scope, date="2024-01-25")

        with pytest.raises(ValidationError) as caught:
            await edit_event(store, scope, second.id, "external_id", "cns:245", now=NOW)

        assert caught.value.field == "external_id"
        assert (await get_event(store, scope, second.id)).external_id is None


class TestRetractEvent:
    """`/event retract`: with a reason, to every channel that saw the alert."""

    @pytest.mark.parametrize("reason", ["", "   ", None])
    async def test_retraction_needs_a_reason(
        self, store: Store, scope: Scope, reason: str | None
    ) -> None:
        """Retracting without a reason is refused naming the reason field, unchanged."""
        added = await add(store, scope)
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await retract_event(store, scope, added.id, reason, now=NOW)  # type: ignore[arg-type]

        assert caught.value.field == "retraction_reason"
        assert await snapshot(store) == before

    async def test_retraction_sets_confidence_and_reason(self, store: Store, scope: Scope) -> None:
        """A retracted event reads back as retracted, with its reason in the history."""
        added = await add(store, scope)

        retracted = await retract_event(store, scope, added.id, "Radar artefact.", now=NOW)

        stored = await get_event(store, scope, added.id)
        assert stored == retracted
        assert (stored.confidence, stored.retraction_reason) == ("retracted", "Radar artefact.")
        assert stored.retracted
        history = await event_history(store, scope, added.id)
        assert [(r.revision, r.field, r.old, r.new) for r in history[1:]] == [
            (2, "confidence", "reported", "retracted"),
            (2, "retraction_reason", None, "Radar artefact."),
        ]

    async def test_retraction_reaches_only_alerted_channels(
        self, store: Store, scope: Scope
    ) -> None:
        """Every channel that got the alert gets a retraction; others get nothing."""
        await channel(store, scope, 501)
        await channel(store, scope, 502, mode="both")
        added = await add(store, scope)
        await channel(store, scope, 503)

        await retract_event(store, scope, added.id, "Radar artefact.", now=NOW)

        assert sorted(await deliveries(store, "retraction")) == [
            (501, "retraction"),
            (502, "retraction"),
        ]

    async def test_retracting_twice_is_refused(self, store: Store, scope: Scope) -> None:
        """An event already retracted cannot be retracted again."""
        added = await add(store, scope)
        await retract_event(store, scope, added.id, "Radar artefact.", now=NOW)
        before = await snapshot(store)

        with pytest.raises(ValidationError, match="already retracted"):
            await retract_event(store, scope, added.id, "Again.", now=NOW)

        assert await snapshot(store) == before

    async def test_retracted_event_cannot_be_edited(self, store: Store, scope: Scope) -> None:
        """Editing a retracted event is refused with the advice to add a new one."""
        added = await add(store, scope)
        await retract_event(store, scope, added.id, "Radar artefact.", now=NOW)
        before = await snapshot(store)

        with pytest.raises(ValidationError, match="add a new event"):
            await edit_event(store, scope, added.id, "count", 3, now=NOW)

        assert await snapshot(store) == before

    async def test_retracting_a_publisher_event_is_forbidden(
        self, store: Store, scope: Scope
    ) -> None:
        """Only the publisher's moderators can retract its events."""
        theirs = await add(store, PUBLISHING)

        with pytest.raises(Forbidden):
            await retract_event(store, scope, theirs.id, "Not ours to say.", now=NOW)

        assert (await get_event(store, scope, theirs.id)).confidence == "reported"


class TestAddSource:
    """`/event source`: a source is a fact, so adding one is a correction."""

    async def test_source_is_added_with_a_revision(self, store: Store, scope: Scope) -> None:
        """A new source is listed after the existing ones and recorded in the history."""
        added = await add(store, scope, sources=[SOURCE])
        kcna = {"publisher": "KCNA", "title": "Report of 3 February", "published_on": "2024-02-03"}

        updated = await add_source(store, scope, added.id, kcna, now=NOW)

        assert updated.revision == 2
        assert [s.publisher for s in updated.sources] == ["Yonhap", "KCNA"]
        assert [s.publisher for s in (await get_event(store, scope, added.id)).sources] == [
            "Yonhap",
            "KCNA",
        ]
        last = (await event_history(store, scope, added.id))[-1]
        assert (last.revision, last.field) == (2, "sources")
        assert last.new is not None and "KCNA" in last.new

    async def test_new_source_is_sent_as_a_correction(self, store: Store, scope: Scope) -> None:
        """Channels that saw the alert are told about the new source."""
        await channel(store, scope, 501)
        added = await add(store, scope)

        await add_source(store, scope, added.id, {"url": "https://example.org/a"}, now=NOW)

        assert await deliveries(store) == [(501, "alert"), (501, "correction")]

    async def test_same_source_twice_is_refused(self, store: Store, scope: Scope) -> None:
        """Citing the same source again is refused, unchanged."""
        added = await add(store, scope, sources=[SOURCE])
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await add_source(store, scope, added.id, SOURCE, now=NOW)

        assert caught.value.field == "source"
        assert await snapshot(store) == before

    async def test_bad_source_url_is_refused(self, store: Store, scope: Scope) -> None:
        """A source that is not a web address is refused, unchanged."""
        added = await add(store, scope)
        before = await snapshot(store)

        with pytest.raises(ValidationError) as caught:
            await add_source(store, scope, added.id, {"url": "javascript:alert(1)"}, now=NOW)

        assert caught.value.field == "source_url"
        assert await snapshot(store) == before


class TestUpdateEventFields:
    """An import's update: many fields at once, a revision per changed field."""

    async def test_each_changed_field_gets_a_revision(self, store: Store, scope: Scope) -> None:
        """Only the fields that differ are recorded, all in one new revision."""
        added = await add(store, scope)

        updated, changed = await update_event_fields(
            store, scope, added.id, launch(count=3, name="Hwasal-2"), now=NOW
        )

        assert sorted(changed) == ["count", "name"]
        assert (updated.count, updated.name, updated.revision) == (3, "Hwasal-2", 2)
        history = await event_history(store, scope, added.id)
        assert sorted((r.revision, r.field) for r in history[1:]) == [(2, "count"), (2, "name")]

    async def test_quiet_update_sends_no_correction(self, store: Store, scope: Scope) -> None:
        """An update without alerts changes the event but pages nobody."""
        await channel(store, scope, 501)
        added = await add(store, scope)

        await update_event_fields(store, scope, added.id, launch(count=3), alert=False, now=NOW)

        assert await deliveries(store) == [(501, "alert")]

    async def test_identical_update_changes_nothing(self, store: Store, scope: Scope) -> None:
        """Re-importing the same record writes nothing."""
        added = await add(store, scope)
        before = await snapshot(store)

        updated, changed = await update_event_fields(store, scope, added.id, launch(), now=NOW)

        assert (changed, updated.revision) == ([], 1)
        assert await snapshot(store) == before


class TestHistory:
    """`/launch <event>` history: every revision, in order."""

    async def test_history_lists_revisions_in_order(self, store: Store, scope: Scope) -> None:
        """Creation, then each edit, then the retraction, oldest first."""
        added = await add(store, scope)
        await edit_event(store, scope, added.id, "count", 3, now=NOW)
        await edit_event(store, scope, added.id, "name", "Hwasal-2", now=NOW)
        await retract_event(store, scope, added.id, "Duplicate of event 1.", now=NOW)

        history = await event_history(store, scope, added.id)

        assert [(r.revision, r.field) for r in history] == [
            (1, "created"),
            (2, "count"),
            (3, "name"),
            (4, "confidence"),
            (4, "retraction_reason"),
        ]

    async def test_history_of_a_publisher_event_is_visible(
        self, store: Store, scope: Scope
    ) -> None:
        """A server can read the history of a publisher's event."""
        theirs = await add(store, PUBLISHING)

        assert [r.field for r in await event_history(store, scope, theirs.id)] == ["created"]

    async def test_history_of_an_invisible_event_is_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """Another (non-publisher) server's event history is not found."""
        theirs = await add(store, OTHER)

        with pytest.raises(NotFound):
            await event_history(store, scope, theirs.id)


def day(n: int) -> str:
    """The n-th day of 2024, as ISO text (day(1) is January 1st)."""
    return (date(2024, 1, 1) + timedelta(days=n - 1)).isoformat()


class TestTimeline:
    """`/timeline`: ten events a page, oldest first, filtered by date, category, actor, region."""

    async def test_pages_of_ten_oldest_first(self, store: Store, scope: Scope) -> None:
        """23 events make three pages of 10, 10 and 3, in date order."""
        for n in range(23, 0, -1):
            await add(store, scope, date=day(n), alert=False)
        filters = TimelineFilter(since=PartialDate.parse("2024"))

        pages = [(await timeline(store, scope, filters, p, now=NOW))[0] for p in range(3)]

        assert [len(p.items) for p in pages] == [10, 10, 3]
        assert all((p.total, p.pages) == (23, 3) for p in pages)
        assert [e.occurred_on for p in pages for e in p.items] == [day(n) for n in range(1, 24)]
        assert (pages[0].has_prev, pages[0].has_next, pages[2].has_next) == (False, True, False)

    async def test_page_past_the_end_shows_the_last_page(self, store: Store, scope: Scope) -> None:
        """Asking for page 9 of a 2-page timeline shows page 2."""
        for n in range(1, 13):
            await add(store, scope, date=day(n), alert=False)

        page, _ = await timeline(
            store, scope, TimelineFilter(since=PartialDate.parse("2024")), 8, now=NOW
        )

        assert page.page == 1
        assert [e.occurred_on for e in page.items] == [day(11), day(12)]

    async def test_partial_since_and_until_cover_whole_months(
        self, store: Store, scope: Scope
    ) -> None:
        """`since 2024-01 until 2024-01` shows all of January and nothing either side."""
        for d in ["2023-12-31", "2024-01-01", "2024-01-15", "2024-01-31", "2024-02-01"]:
            await add(store, scope, date=d, alert=False)
        january = PartialDate.parse("2024-01")

        page, applied = await timeline(
            store, scope, TimelineFilter(since=january, until=january), now=NOW
        )

        assert [e.occurred_on for e in page.items] == ["2024-01-01", "2024-01-15", "2024-01-31"]
        assert applied == TimelineFilter(since=january, until=january)

    async def test_day_bounds_are_inclusive(self, store: Store, scope: Scope) -> None:
        """`since 2024-01-25 until 2024-01-31` includes both end days."""
        for d in ["2024-01-24", "2024-01-25", "2024-01-29", "2024-01-31T23:59Z", "2024-02-01"]:
            await add(store, scope, date=d, alert=False)

        page, _ = await timeline(
            store,
            scope,
            TimelineFilter(
                since=PartialDate.parse("2024-01-25"), until=PartialDate.parse("2024-01-31")
            ),
            now=NOW,
        )

        assert [e.occurred_on for e in page.items] == ["2024-01-25", "2024-01-29", "2024-01-31"]

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"category": "icbm"}, ["icbm"]),
            ({"category": "Cruise Missile"}, ["cruise", "prc", "iran"]),
            ({"actor": "PRC"}, ["prc"]),
            ({"actor": "dprk"}, ["cruise", "icbm"]),
            ({"region": "middle-east"}, ["iran"]),
        ],
    )
    async def test_filters_narrow_the_timeline(
        self, store: Store, scope: Scope, filters: dict[str, str], expected: list[str]
    ) -> None:
        """Category, actor and region filters show only matching events (case forgiven)."""
        await add(store, scope, date="2024-01-25", summary="cruise", alert=False)
        await add(store, scope, date="2024-01-26", summary="icbm", category="icbm", alert=False)
        await add(store, scope, date="2024-01-27", summary="prc", actor="PRC", alert=False)
        await add(
            store,
            scope,
            date="2024-01-28",
            summary="iran",
            actor="Iran",
            region="middle-east",
            alert=False,
        )

        page, _ = await timeline(store, scope, TimelineFilter(**filters), now=NOW)

        assert [e.summary for e in page.items] == expected

    async def test_unknown_category_filter_is_refused(self, store: Store, scope: Scope) -> None:
        """Filtering by a category that does not exist is refused naming the choices."""
        with pytest.raises(ValidationError) as caught:
            await timeline(store, scope, TimelineFilter(category="rocket"), now=NOW)

        assert caught.value.field == "category"
        assert "cruise_missile" in caught.value.fix

    async def test_no_filter_shows_the_last_thirty_days(self, store: Store, scope: Scope) -> None:
        """With ten or more events in the last 30 days, those are shown, and older ones not."""
        for d in ["2023-12-20", "2024-01-05"]:
            await add(store, scope, date=d, alert=False)
        recent = [(NOW.date() - timedelta(days=n)).isoformat() for n in range(30, 18, -1)]
        for d in recent:
            await add(store, scope, date=d, alert=False)

        first, applied = await timeline(store, scope, TimelineFilter(), now=NOW)
        second, _ = await timeline(store, scope, TimelineFilter(), 1, now=NOW)

        assert applied.since == PartialDate("2024-01-06", "day")
        assert first.total == 12
        assert [e.occurred_on for e in first.items + second.items] == recent

    async def test_no_filter_falls_back_to_the_ten_latest(self, store: Store, scope: Scope) -> None:
        """With fewer than ten events in 30 days, the ten latest are shown, oldest first."""
        older = [day(n) for n in range(1, 6)] + ["2023-06", "2023", *(day(n) for n in (6, 7, 8))]
        for d in older:
            await add(store, scope, date=d, alert=False)
        for d in ["2024-01-20", "2024-02-01", "2024-02-05"]:
            await add(store, scope, date=d, alert=False)

        page, applied = await timeline(store, scope, TimelineFilter(), now=NOW)

        assert applied.empty
        assert page.total == 10
        assert [e.occurred_on for e in page.items] == [
            *(day(n) for n in range(2, 9)),
            "2024-01-20",
            "2024-02-01",
            "2024-02-05",
        ]

    async def test_retracted_events_are_hidden(self, store: Store, scope: Scope) -> None:
        """A retracted event disappears from the timeline but stays in the full list."""
        kept = await add(store, scope, date="2024-01-25", alert=False)
        gone = await add(store, scope, date="2024-01-29", alert=False)
        await retract_event(store, scope, gone.id, "Not a launch.", now=NOW)

        page, _ = await timeline(store, scope, TimelineFilter(), now=NOW)

        assert [e.id for e in page.items] == [kept.id]
        assert page.total == 1
        assert [e.id for e in await list_events(store, scope, TimelineFilter())] == [
            kept.id,
            gone.id,
        ]

    async def test_timeline_shows_own_and_publisher_events_only(
        self, store: Store, scope: Scope
    ) -> None:
        """A server sees its own and the publishers' events, never another server's."""
        ours = await add(store, scope, date="2024-01-25", alert=False)
        published = await add(store, PUBLISHING, date="2024-01-29", alert=False)
        await add(store, OTHER, date="2024-01-31", alert=False)

        page, _ = await timeline(store, scope, TimelineFilter(), now=NOW)
        theirs, _ = await timeline(store, OTHER, TimelineFilter(), now=NOW)

        assert [e.id for e in page.items] == [ours.id, published.id]
        assert ours.id not in [e.id for e in theirs.items]

    async def test_invisible_event_is_not_found(self, store: Store, scope: Scope) -> None:
        """Looking up another server's event by number says it was not found."""
        theirs = await add(store, OTHER)

        with pytest.raises(NotFound):
            await get_event(store, scope, theirs.id)


class TestSearch:
    """Finding an event as you type: dates in words, platforms, places."""

    @pytest.fixture
    async def series(self, store: Store, scope: Scope) -> dict[str, Event]:
        """The four launches of late January 2024, as the seed article reports them."""
        return {
            "jan25": await add(
                store,
                scope,
                date="2024-01-25",
                launch_site=None,
                distance_km=None,
                summary="Two cruise missiles fired into the sea off the west coast.",
                alert=False,
            ),
            "jan29": await add(
                store,
                scope,
                date="2024-01-29",
                platform="submarine",
                launch_site="Sinpo",
                overseen_by="Kim Jong Un",
                summary="Cruise missiles test-fired, overseen by the leader.",
                alert=False,
            ),
            "jan31": await add(
                store,
                scope,
                date="2024-01-31",
                launch_site=None,
                claimed="long-range",
                summary="Test of long-range cruise missiles claimed.",
                alert=False,
            ),
            "feb2": await add(store, scope, alert=False),
        }

    async def names(self, store: Store, scope: Scope, text: str, series: dict[str, Event]):
        by_id = {e.id: name for name, e in series.items()}
        return [by_id.get(e.id, e.summary) for e in await search_events(store, scope, text)]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("jan 29", ["jan29"]),
            ("January 25", ["jan25"]),
            ("submarine", ["jan29"]),
            ("Kim Chaek", ["feb2"]),
            ("kim", ["feb2", "jan29"]),
            ("long-range", ["jan31"]),
            ("jan", ["jan31", "jan29", "jan25"]),
            ("jan cruise submarine", ["jan29"]),
            ("2024-02-02", ["feb2"]),
            ("feb 29", []),
        ],
    )
    async def test_search_finds_by_what_people_type(
        self,
        store: Store,
        scope: Scope,
        series: dict[str, Event],
        text: str,
        expected: list[str],
    ) -> None:
        """Every word must match the date, the description or the place; newest first."""
        assert await self.names(store, scope, text, series) == expected

    async def test_word_starting_like_a_month_is_text(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """`maritime` finds the word maritime, not every launch in March."""
        await add(store, scope, date="2023-03-10", summary="Shells near the maritime border.")
        await add(store, scope, date="2023-03-15", summary="Ballistic missile off the coast.")

        assert await self.names(store, scope, "maritime", series) == [
            "Shells near the maritime border."
        ]

    async def test_wildcards_are_literal(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """Typing `%` or `_` matches those characters, not any text (`k_m` is not `kim`)."""
        assert await self.names(store, scope, "%", series) == []
        assert await self.names(store, scope, "k_m", series) == []

    async def test_search_sees_only_visible_events(self, store: Store, scope: Scope) -> None:
        """A search finds own and publisher events, never another server's."""
        ours = await add(store, scope, platform="submarine", alert=False)
        published = await add(store, PUBLISHING, platform="submarine", alert=False)
        await add(store, OTHER, platform="submarine", alert=False)

        found = await search_events(store, scope, "submarine")

        assert sorted(e.id for e in found) == [ours.id, published.id]
