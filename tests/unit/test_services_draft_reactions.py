"""The reactions a text reports ride on its drafts and are recorded on a moderator's
Confirm (or Apply), validated as `/reaction add` input: the seed article confirmed
draft by draft gives its four launches and its eight reactions, each exactly once, as
reactions to the whole series (since/until); one that fails validation is skipped and
named on the draft, never recorded silently."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.seed import REACTIONS
from bot.services import Scope, reactions
from bot.services.drafts import confirm_draft, draft_text, get_draft
from bot.services.reactions import all_reactions
from db import Store
from db.drafts import DraftQueries
from tests.unit.drafts_support import SEOUL

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "examples" / "seed-article.txt").read_text(encoding="utf-8")
PUBLISHED = date(2024, 2, 3)
NOW = datetime(2024, 2, 3, 12, 0, tzinfo=UTC)


async def test_confirming_the_seed_articles_drafts_records_its_reactions_once(
    store: Store, scope: Scope
) -> None:
    drafts = await draft_text(store, scope, SEED, PUBLISHED, origin="text", now=NOW)
    assert len(drafts) == 4 and all(len(d.reactions) == 8 for d in drafts)
    assert await all_reactions(store, scope) == []  # nothing until a moderator confirms

    events = [(await confirm_draft(store, scope, d.id, now=NOW))[1] for d in drafts]
    assert sorted(e.date.text for e in events) == [
        "2024-01-25", "2024-01-29", "2024-01-31", "2024-02-02",
    ]  # fmt: skip
    recorded = await all_reactions(store, scope)
    assert sorted((r.actor, r.stance) for r in recorded) == sorted(
        (raw["actor"], raw["stance"]) for raw in REACTIONS
    )
    assert {(r.event_id, r.since, r.until) for r in recorded} == {
        (None, "2024-01-25", "2024-02-02")
    }
    assert all(r.created_by == scope.user_id for r in recorded)

    first = await get_draft(store, scope, drafts[0].id)
    assert [r["outcome"] for r in first.reactions] == ["recorded"] * 8
    ids = sorted(r.id for r in recorded)
    assert sorted(r["reaction_id"] for r in first.reactions) == ids
    for later in drafts[1:]:
        noted = (await get_draft(store, scope, later.id)).reactions
        assert [r["outcome"] for r in noted] == ["already"] * 8
        assert sorted(r["reaction_id"] for r in noted) == ids

    # The series covers every launch: each event lists all eight.
    for event in events:
        page = await reactions(store, scope, event_id=event.id)
        assert page.total == 8


async def test_a_reaction_that_fails_validation_is_skipped_and_named(
    store: Store, scope: Scope
) -> None:
    """A one-launch text's reaction answers its event; one with an invalid stance (as a
    model might draft) is not recorded, and the draft says why."""
    text = (
        f"{SEOUL.title}\n\n{SEOUL.summary} The United States condemned the launch, the State"
        " Department said."
    )
    later = datetime(2024, 3, 19, tzinfo=UTC)
    (d,) = await draft_text(store, scope, text, date(2024, 3, 18), origin="text", now=later)
    assert d.reactions, "the extractor found no reaction"
    bad = {**d.reactions[0], "actor": "Nowhere", "stance": "shrugs"}
    async with store.transaction() as q:
        await DraftQueries(q.conn).update_draft(d.id, {"reactions": [*d.reactions, bad]})
    done, event = await confirm_draft(store, scope, d.id, now=later)
    outcomes = [(r["actor"], r["outcome"]) for r in done.reactions]
    assert outcomes[-1] == ("Nowhere", "skipped") and "stance" in done.reactions[-1]["problem"]
    assert all(o == "recorded" for _a, o in outcomes[:-1])
    recorded = await all_reactions(store, scope)
    assert "Nowhere" not in {r.actor for r in recorded}
    assert {r.event_id for r in recorded} == {event.id}
