"""Drafts (`/draft …`, the review buttons): what a text makes, how drafts of one launch
merge, update drafts of a recorded launch, and a moderator's decisions: confirm (through
`add_event`, so the alert follows), apply, edit, dismiss. Nothing is published without
one of those calls."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.errors import NotFound, ValidationError
from bot.services import Scope, add_event, get_event, subscribe
from bot.services.drafts import (
    SourceInfo,
    apply_draft,
    confirm_draft,
    dismiss_draft,
    draft_text,
    edit_draft,
    list_drafts,
    review,
    similar,
)
from db import Store
from tests.conftest import MODERATOR, OTHER_GUILD
from tests.unit.drafts_support import SEOUL, TOKYO

NOW = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)
MONDAY = date(2024, 3, 18)
TEXT = f"{SEOUL.title}\n\n{SEOUL.summary}"
LINK = SourceInfo(url="https://news.example/seoul-1", title=SEOUL.title, publisher="Yonhap")
OTHER = Scope(OTHER_GUILD, MODERATOR + 1)


async def counts(store: Store) -> tuple[int, int]:
    async with store.read() as q:
        events = await q.conn.fetchone("SELECT COUNT(*) AS n FROM event")
        deliveries = await q.conn.fetchone("SELECT COUNT(*) AS n FROM delivery")
    assert events is not None and deliveries is not None
    return int(events["n"]), int(deliveries["n"])


async def kinds(store: Store) -> list[str]:
    async with store.read() as q:
        rows = await q.conn.fetchall("SELECT kind FROM delivery ORDER BY id")
    return [r["kind"] for r in rows]


class TestMaking:
    async def test_a_text_makes_a_pending_draft_and_publishes_nothing(
        self, store: Store, scope: Scope
    ) -> None:
        await subscribe(store, scope, 501, now=NOW)
        (d,) = await draft_text(
            store, scope, TEXT, MONDAY, origin="text", source=LINK, title=SEOUL.title, now=NOW
        )
        assert (d.status, d.kind, d.category, d.occurred_on) == (
            "pending",
            "new",
            "srbm",
            "2024-03-18",
        )
        assert (d.fields["launch_site"], d.fields["distance_km"], d.fields["count"]) == (
            "Sunan",
            350,
            1,
        )
        assert d.fields["confidence"] == "reported" and d.created_by == scope.user_id
        assert [s["url"] for s in d.sources] == [LINK.url]
        assert await counts(store) == (0, 0)
        assert await list_drafts(store, scope) == [d]
        assert await list_drafts(store, OTHER) == []

    async def test_the_same_source_drafted_again_adds_nothing(
        self, store: Store, scope: Scope
    ) -> None:
        (first,) = await draft_text(store, scope, TEXT, MONDAY, origin="text", source=LINK, now=NOW)
        (again,) = await draft_text(store, scope, TEXT, MONDAY, origin="text", source=LINK, now=NOW)
        assert again == first

    async def test_two_outlets_on_one_launch_merge_into_one_draft(
        self, store: Store, scope: Scope
    ) -> None:
        (a,) = await draft_text(
            store, scope, TEXT, MONDAY, origin="feed", source=LINK, title=SEOUL.title, now=NOW
        )
        tokyo = SourceInfo(url="https://nhk.example/1", title=TOKYO.title, publisher="NHK")
        (b,) = await draft_text(
            store, scope, f"{TOKYO.title}\n\n{TOKYO.summary}", MONDAY, origin="feed",
            source=tokyo, title=TOKYO.title, now=NOW,
        )  # fmt: skip
        assert b.id == a.id
        assert [s["publisher"] for s in b.sources] == ["Yonhap", "NHK"]
        assert len(await list_drafts(store, scope)) == 1

    async def test_unlike_headlines_stay_apart(self, store: Store, scope: Scope) -> None:
        """Same category and day, but the headlines tell another story: two drafts."""
        assert similar(SEOUL.title, TOKYO.title)
        assert not similar(SEOUL.title, "Stocks fall as oil prices rise")
        await draft_text(
            store, scope, TEXT, MONDAY, origin="feed", source=LINK, title=SEOUL.title, now=NOW
        )
        other = SourceInfo(url="https://markets.example/1", title="Stocks fall as oil prices rise")
        await draft_text(
            store, scope, TEXT, MONDAY, origin="feed", source=other,
            title="Stocks fall as oil prices rise", now=NOW,
        )  # fmt: skip
        assert len(await list_drafts(store, scope)) == 2

    async def test_a_recorded_launch_becomes_an_update_draft_of_what_differs(
        self, store: Store, scope: Scope
    ) -> None:
        event = await add_event(
            store, scope,
            {"date": "2024-03-18", "category": "srbm", "summary": "An SRBM.", "launch_site": "Sunan"},
            alert=False, now=NOW,
        )  # fmt: skip
        (d,) = await draft_text(store, scope, TEXT, MONDAY, origin="text", source=LINK, now=NOW)
        assert (d.kind, d.event_id) == ("update", event.id)
        shown = await review(store, scope, d.id)
        assert [c.field for c in shown.changes] == [
            "count", "latitude", "longitude", "landing_area", "distance_km", "sources",
        ]  # fmt: skip
        assert [(c.old, c.new) for c in shown.changes[:1]] == [(None, 1)]

    async def test_a_launch_recorded_as_it_is_makes_no_draft(
        self, store: Store, scope: Scope
    ) -> None:
        drafted = {
            "date": "2024-03-18", "category": "srbm", "summary": "An SRBM.", "count": 1,
            "launch_site": "Sunan", "latitude": 39.200159, "longitude": 125.673256,
            "landing_area": "Sea of Japan (East Sea)", "distance_km": 350,
        }  # fmt: skip
        await add_event(store, scope, {**drafted, "sources": [{"url": LINK.url}]}, alert=False)
        assert await draft_text(store, scope, TEXT, MONDAY, origin="text", source=LINK) == []
        # Without that source, the new citation is what differs.
        other = SourceInfo(url="https://other.example/1")
        (d,) = await draft_text(store, scope, TEXT, MONDAY, origin="text", source=other)
        assert [c.field for c in (await review(store, scope, d.id)).changes] == ["sources"]


class TestDeciding:
    async def _draft(self, store: Store, scope: Scope) -> int:
        (d,) = await draft_text(
            store, scope, TEXT, MONDAY, origin="feed", source=LINK, title=SEOUL.title, now=NOW
        )
        return d.id

    async def test_confirm_records_the_event_with_its_sources_and_queues_the_alert(
        self, store: Store, scope: Scope
    ) -> None:
        await subscribe(store, scope, 501, now=NOW)
        draft_id = await self._draft(store, scope)
        done, event = await confirm_draft(store, scope, draft_id, now=NOW)
        assert (done.status, done.result_event_id, done.decided_by) == (
            "confirmed", event.id, MODERATOR,
        )  # fmt: skip
        assert (event.category, event.launch_site, event.count) == ("srbm", "Sunan", 1)
        assert [s.url for s in event.sources] == [LINK.url]
        assert event.created_by == MODERATOR
        assert await kinds(store) == ["alert"]

    async def test_a_second_confirm_is_refused_and_records_nothing(
        self, store: Store, scope: Scope
    ) -> None:
        draft_id = await self._draft(store, scope)
        _, event = await confirm_draft(store, scope, draft_id, now=NOW)
        with pytest.raises(ValidationError, match=f"already confirmed as event #{event.id}"):
            await confirm_draft(store, scope, draft_id, now=NOW)
        assert await counts(store) == (1, 0)

    async def test_another_guild_cannot_decide_the_draft(self, store: Store, scope: Scope) -> None:
        draft_id = await self._draft(store, scope)
        for decide in (confirm_draft, dismiss_draft):
            with pytest.raises(NotFound):
                await decide(store, OTHER, draft_id)
        assert await counts(store) == (0, 0)

    async def test_dismiss_records_nothing(self, store: Store, scope: Scope) -> None:
        draft_id = await self._draft(store, scope)
        done = await dismiss_draft(store, scope, draft_id, now=NOW)
        assert done.status == "dismissed" and await counts(store) == (0, 0)
        assert await list_drafts(store, scope) == []
        with pytest.raises(ValidationError, match="already dismissed"):
            await confirm_draft(store, scope, draft_id)

    async def test_edit_changes_the_five_fields_and_confirm_uses_them(
        self, store: Store, scope: Scope
    ) -> None:
        draft_id = await self._draft(store, scope)
        edited = await edit_draft(
            store, scope, draft_id,
            {"date": "2024-03-17", "category": "MRBM", "count": "2", "launch_site": "",
             "summary": "Two MRBMs."},
            now=NOW,
        )  # fmt: skip
        assert (edited.occurred_on, edited.category, edited.revision) == ("2024-03-17", "mrbm", 2)
        _, event = await confirm_draft(store, scope, draft_id, now=NOW)
        assert (event.date.text, event.category, event.count, event.launch_site, event.summary) == (
            "2024-03-17", "mrbm", 2, None, "Two MRBMs.",
        )  # fmt: skip

    async def test_a_bad_edit_is_refused_and_changes_nothing(
        self, store: Store, scope: Scope
    ) -> None:
        draft_id = await self._draft(store, scope)
        before = await review(store, scope, draft_id)
        with pytest.raises(ValidationError) as refused:
            await edit_draft(store, scope, draft_id, {"date": "yesterday"}, now=NOW)
        assert refused.value.field == "date"
        with pytest.raises(ValidationError):
            await edit_draft(store, scope, draft_id, {"category": "bomb"}, now=NOW)
        assert await review(store, scope, draft_id) == before

    async def test_apply_corrects_the_event_and_every_alerted_channel_hears_of_it(
        self, store: Store, scope: Scope
    ) -> None:
        await subscribe(store, scope, 501, now=NOW)
        event = await add_event(
            store, scope, {"date": "2024-03-18", "category": "srbm", "summary": "An SRBM."}, now=NOW
        )
        async with store.transaction() as q:  # the alert was sent
            await q.conn.execute("UPDATE delivery SET status = 'sent', message_id = 9")
        (d,) = await draft_text(store, scope, TEXT, MONDAY, origin="feed", source=LINK, now=NOW)
        assert d.kind == "update"
        with pytest.raises(NotFound):
            await edit_draft(store, OTHER, d.id, {"count": "2"})
        done, updated, changed = await apply_draft(store, scope, d.id, now=NOW)
        assert (done.status, done.result_event_id) == ("applied", event.id)
        assert (updated.count, updated.launch_site, updated.distance_km) == (1, "Sunan", 350)
        assert updated.summary == "An SRBM."  # the wording stays the moderator's
        assert [s.url for s in updated.sources] == [LINK.url]
        assert "sources" in changed and updated.revision == 2
        assert await kinds(store) == ["alert", "correction"]
        assert (await get_event(store, scope, event.id)).revision == 2
