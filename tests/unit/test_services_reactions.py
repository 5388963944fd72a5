"""Reactions: what governments and analysts said about an event, or about a series of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.dates import PartialDate
from bot.errors import Forbidden, NotFound, ValidationError
from bot.models import Event, Reaction
from bot.services import Scope, add_event, add_reaction, reactions, remove_reaction
from db import Store
from tests.conftest import GUILD, MODERATOR, OTHER_GUILD, PUBLISHER

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
PUBLISHING = Scope(PUBLISHER, MODERATOR + 1, publishers=(PUBLISHER,))
OTHER = Scope(OTHER_GUILD, MODERATOR + 2, publishers=(PUBLISHER,))


async def launch(store: Store, scope: Scope, day: str) -> Event:
    return await add_event(
        store,
        scope,
        {"date": day, "category": "cruise_missile", "summary": f"Cruise missiles on {day}."},
        alert=False,
        now=NOW,
    )


async def react(store: Store, scope: Scope, **fields: Any) -> Reaction:
    raw: dict[str, Any] = {
        "actor": "United States",
        "stance": "condemns",
        "summary": "Condemned the destabilizing missile tests.",
    }
    raw.update(fields)
    return await add_reaction(store, scope, raw, now=NOW)


async def count(store: Store, table: str) -> int:
    async with store.read() as q:
        row = await q.conn.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
    assert row is not None
    return int(row["n"])


def actors(page_items: list[Reaction]) -> list[str]:
    return [r.actor for r in page_items]


@pytest.fixture
async def series(store: Store, scope: Scope) -> dict[str, Event]:
    """Three of the launches of January and February 2024."""
    return {d: await launch(store, scope, d) for d in ("2024-01-25", "2024-01-29", "2024-02-02")}


class TestAddReaction:
    """`/reaction add`: a statement about a visible event, or about a series."""

    async def test_reaction_is_stored_with_its_sources(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """A reaction reads back with its speaker, quote, date and sources."""
        added = await react(
            store,
            scope,
            event_id=series["2024-02-02"].id,
            actor="Japan",
            stance="concerned",
            speaker="Yoshimasa Hayashi",
            speaker_title="Chief Cabinet Secretary",
            quote="grave concerns",
            said_on="2024-02-02",
            sources=[{"url": "https://www.kantei.go.jp/", "publisher": "Kantei"}],
        )

        page = await reactions(store, scope, event_id=series["2024-02-02"].id)

        assert page.items == [added]
        assert (added.guild_id, added.created_by) == (GUILD, MODERATOR)
        assert (added.actor, added.actor_kind, added.stance) == ("Japan", "government", "concerned")
        assert (added.speaker, added.quote, added.said_on) == (
            "Yoshimasa Hayashi",
            "grave concerns",
            "2024-02-02",
        )
        assert [s.url for s in added.sources] == ["https://www.kantei.go.jp/"]

    async def test_reaction_to_a_publisher_event_is_accepted(
        self, store: Store, scope: Scope
    ) -> None:
        """A server may record its own reaction to a publisher's event."""
        theirs = await launch(store, PUBLISHING, "2024-01-25")

        added = await react(store, scope, event_id=theirs.id)

        assert (added.event_id, added.guild_id) == (theirs.id, GUILD)

    async def test_reaction_to_an_invisible_event_is_refused(
        self, store: Store, scope: Scope
    ) -> None:
        """Naming another server's event, or no event at all, is refused and writes nothing."""
        theirs = await launch(store, OTHER, "2024-01-25")

        for event_id in (theirs.id, theirs.id + 100, "abc"):
            with pytest.raises(ValidationError) as caught:
                await react(store, scope, event_id=event_id, sources=[{"title": "x"}])
            assert caught.value.field == "event"

        assert (await count(store, "reaction"), await count(store, "source")) == (0, 0)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"stance": None}, "stance"),
            ({"stance": "outraged"}, "stance"),
            ({"actor_kind": "pundit"}, "actor_kind"),
            ({"said_on": "2031-01-01"}, "said_on"),
            ({"quote": "q" * 1501}, "quote"),
            ({"sources": [{"url": "ftp://example.org"}]}, "source_url"),
        ],
    )
    async def test_invalid_reaction_writes_nothing(
        self,
        store: Store,
        scope: Scope,
        series: dict[str, Event],
        fields: dict[str, Any],
        field: str,
    ) -> None:
        """A bad reaction is refused naming the field, and nothing is stored."""
        with pytest.raises(ValidationError) as caught:
            await react(store, scope, event_id=series["2024-01-25"].id, **fields)

        assert caught.value.field == field
        assert (await count(store, "reaction"), await count(store, "source")) == (0, 0)


class TestReactionsByEvent:
    """`/reactions <event>`: reactions to it, and to any series covering its date."""

    async def test_event_shows_its_own_and_covering_series_reactions(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """Direct reactions and a Jan 25 – Feb 2 series both show on the Jan 29 launch."""
        jan29 = series["2024-01-29"]
        await react(store, scope, event_id=jan29.id, actor="South Korea", stance="monitoring")
        await react(store, scope, since="2024-01-25", until="2024-02-02", actor="United States")
        await react(store, scope, event_id=series["2024-01-25"].id, actor="Japan")
        await react(store, scope, since="2023-12-01", until="2023-12-31", actor="China")

        page = await reactions(store, scope, event_id=jan29.id)

        assert actors(page.items) == ["South Korea", "United States"]
        assert page.total == 2

    @pytest.mark.parametrize(
        ("since", "until", "shown_on"),
        [
            ("2024-01-25", "2024-02-02", ["2024-01-25", "2024-01-29", "2024-02-02"]),
            ("2024-01-25", "2024-02", ["2024-01-25", "2024-01-29", "2024-02-02"]),
            ("2024-01", "2024-01", ["2024-01-25", "2024-01-29"]),
            ("2024-01", None, ["2024-01-25", "2024-01-29"]),
            ("2024-01-29", None, ["2024-01-29"]),
            ("2024", None, ["2024-01-25", "2024-01-29", "2024-02-02"]),
        ],
    )
    async def test_series_covers_every_day_of_its_period(
        self,
        store: Store,
        scope: Scope,
        series: dict[str, Event],
        since: str,
        until: str | None,
        shown_on: list[str],
    ) -> None:
        """A series `until 2024-02` covers all of February; `since 2024-01` alone, all January."""
        await react(store, scope, since=since, until=until)

        shown = [
            d for d, e in series.items() if (await reactions(store, scope, event_id=e.id)).total
        ]

        assert shown == shown_on

    async def test_reactions_of_an_invisible_event_are_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """Asking for reactions to another server's event says it was not found."""
        theirs = await launch(store, OTHER, "2024-01-25")

        with pytest.raises(NotFound):
            await reactions(store, scope, event_id=theirs.id)


class TestReactionsByActorAndPeriod:
    """`/reactions actor:` and `/reactions since: until:`."""

    async def test_reactions_by_actor_ignore_case(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """`united states` finds the United States' statements and nobody else's."""
        await react(store, scope, event_id=series["2024-01-25"].id, said_on="2024-01-25")
        await react(store, scope, event_id=series["2024-02-02"].id, said_on="2024-02-02")
        await react(store, scope, event_id=series["2024-02-02"].id, actor="Japan")

        page = await reactions(store, scope, actor="united states")

        assert [r.said_on for r in page.items] == ["2024-01-25", "2024-02-02"]

    @pytest.mark.parametrize(
        ("since", "until", "expected"),
        [
            ("2024-02", None, ["Feb 2"]),
            (None, "2024-01", ["Jan 25", "Jan 30"]),
            ("2024-01-26", "2024-01-31", ["Jan 30"]),
            ("2024", "2024", ["Jan 25", "Jan 30", "Feb 2"]),
        ],
    )
    async def test_reactions_by_period(
        self,
        store: Store,
        scope: Scope,
        series: dict[str, Event],
        since: str | None,
        until: str | None,
        expected: list[str],
    ) -> None:
        """A period with partial dates shows the statements made within it."""
        for said_on, label in [("2024-01-25", "Jan 25"), ("2024-01-30", "Jan 30")]:
            await react(
                store, scope, event_id=series["2024-01-25"].id, said_on=said_on, summary=label
            )
        await react(
            store, scope, event_id=series["2024-02-02"].id, said_on="2024-02-02", summary="Feb 2"
        )

        page = await reactions(
            store,
            scope,
            since=PartialDate.parse(since) if since else None,
            until=PartialDate.parse(until) if until else None,
        )

        assert [r.summary for r in page.items] == expected


class TestOrderAndPaging:
    """Governments first, grouped by actor; analysts after; ten a page."""

    async def test_analysts_come_after_governments(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """Official statements are listed by actor, then analysts' assessments."""
        event_id = series["2024-02-02"].id
        for actor, kind in [
            ("Ankit Panda", "analyst"),
            ("United States", "government"),
            ("Lee Sung-yoon", "analyst"),
            ("South Korea", "military"),
            ("Japan", "government"),
            ("United States", "government"),
        ]:
            await react(
                store, scope, event_id=event_id, actor=actor, actor_kind=kind, stance="assessment"
            )

        page = await reactions(store, scope, event_id=event_id)

        assert [(r.actor, r.actor_kind) for r in page.items] == [
            ("Japan", "government"),
            ("South Korea", "military"),
            ("United States", "government"),
            ("United States", "government"),
            ("Ankit Panda", "analyst"),
            ("Lee Sung-yoon", "analyst"),
        ]

    async def test_reactions_are_paged_by_ten(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """Twelve reactions make a page of ten and a page of two; past the end is the last."""
        event_id = series["2024-02-02"].id
        for n in range(12):
            await react(
                store, scope, event_id=event_id, actor=f"Analyst {n:02d}", actor_kind="analyst"
            )

        pages = [await reactions(store, scope, event_id=event_id, page=p) for p in (0, 1, 5)]

        assert [len(p.items) for p in pages] == [10, 2, 2]
        assert [p.page for p in pages] == [0, 1, 1]
        assert all((p.total, p.pages) == (12, 2) for p in pages)
        assert actors(pages[0].items + pages[1].items) == [f"Analyst {n:02d}" for n in range(12)]


class TestRemoveReaction:
    """`/reaction remove`: a server removes its own reactions only."""

    async def test_removed_reaction_is_gone_with_its_sources(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """A removed reaction no longer shows, and its sources go with it."""
        event_id = series["2024-02-02"].id
        gone = await react(store, scope, event_id=event_id, sources=[{"title": "Statement"}])
        kept = await react(store, scope, event_id=event_id, actor="Japan")

        removed = await remove_reaction(store, scope, gone.id)

        assert removed == gone
        assert (await reactions(store, scope, event_id=event_id)).items == [kept]
        assert await count(store, "source") == 0

    async def test_removing_a_publisher_reaction_is_forbidden(
        self, store: Store, scope: Scope
    ) -> None:
        """A publisher's reaction is visible but only its moderators can remove it."""
        theirs = await launch(store, PUBLISHING, "2024-01-25")
        reaction = await react(store, PUBLISHING, event_id=theirs.id)

        with pytest.raises(Forbidden):
            await remove_reaction(store, scope, reaction.id)

        assert (await reactions(store, scope, event_id=theirs.id)).items == [reaction]

    async def test_removing_an_invisible_reaction_is_not_found(
        self, store: Store, scope: Scope
    ) -> None:
        """Another server's reaction, or one that does not exist, is not found."""
        theirs = await launch(store, OTHER, "2024-01-25")
        reaction = await react(store, OTHER, event_id=theirs.id)

        for reaction_id in (reaction.id, reaction.id + 100):
            with pytest.raises(NotFound):
                await remove_reaction(store, scope, reaction_id)

        assert await count(store, "reaction") == 1


class TestGuildIsolation:
    """A server sees its own and the publishers' reactions, never another server's."""

    async def test_other_servers_reactions_stay_private(self, store: Store, scope: Scope) -> None:
        """On a publisher's event, each server sees the publisher's reaction and its own only."""
        published = await launch(store, PUBLISHING, "2024-02-02")
        from_publisher = await react(store, PUBLISHING, event_id=published.id, actor="Japan")
        ours = await react(store, scope, event_id=published.id, actor="South Korea")
        theirs = await react(store, OTHER, event_id=published.id, actor="China")

        seen_here = await reactions(store, scope, event_id=published.id)
        seen_there = await reactions(store, OTHER, event_id=published.id)
        by_actor = await reactions(store, scope, actor="China")

        assert seen_here.items == [from_publisher, ours]
        assert seen_there.items == [theirs, from_publisher]
        assert by_actor.total == 0

    async def test_other_servers_series_stay_private(
        self, store: Store, scope: Scope, series: dict[str, Event]
    ) -> None:
        """A series reaction recorded by another server does not show on our events."""
        await react(store, OTHER, since="2024-01")

        assert (await reactions(store, scope, event_id=series["2024-01-25"].id)).total == 0
        assert (await reactions(store, scope, since=PartialDate.parse("2024"))).total == 0
