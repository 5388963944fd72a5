"""Drafting the seed article gives what bot/seed.py holds by hand; every article meets
the extractor's targets; the drafts are ones a moderator could confirm as they are."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot import validation
from bot.drafting import draft, event_input, reaction_input
from bot.drafting.score import Score, same, score
from bot.seed import EVENTS, REACTIONS

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "tests" / "data" / "articles"
SEED = draft((ROOT / "examples" / "seed-article.txt").read_text(encoding="utf-8"), date(2024, 2, 3))


def test_seed_article_gives_the_four_launches() -> None:
    """25, 29, 31 January and 2 February 2024, all cruise missiles, with the hand-made facts."""
    events = SEED.events
    assert [(e["occurred_on"], e["category"]) for e in events] == [
        (raw["date"], "cruise_missile") for raw in EVENTS
    ]
    for drafted, raw in zip(events, EVENTS, strict=True):
        for field in (
            "count",
            "platform",
            "launch_site",
            "landing_area",
            "distance_km",
            "claimed",
            "overseen_by",
        ):
            assert same(field, raw.get(field), drafted[field]), (raw["date"], field, drafted[field])
        assert drafted["confidence"] == "reported" and drafted["evidence"]


def test_seed_article_gives_the_eight_reactions() -> None:
    """The United States condemns, South Korea monitors, Japan is concerned, China has no
    comment, and four analysts assess; speakers, titles and quotes as bot/seed.py has them."""
    assert [(r["actor"], r["actor_kind"], r["stance"]) for r in SEED.reactions] == [
        (raw["actor"], raw["actor_kind"], raw["stance"]) for raw in REACTIONS
    ]
    for drafted, raw in zip(SEED.reactions, REACTIONS, strict=True):
        for field in ("speaker", "speaker_title", "quote"):
            assert same(field, raw.get(field), drafted[field]), (raw["actor"], field)
        assert drafted["evidence"]


def test_seed_quotes_are_verbatim() -> None:
    """A quote is the article's characters exactly, curly apostrophes included."""
    text = (ROOT / "examples" / "seed-article.txt").read_text(encoding="utf-8")
    for reaction in SEED.reactions:
        if reaction["quote"]:
            assert reaction["quote"] in text


def test_drafts_can_be_confirmed_as_they_are() -> None:
    """Every drafted event and reaction passes the store's validation unchanged."""
    for labels in ARTICLES.glob("*.json"):
        published = date.fromisoformat(json.loads(labels.read_text(encoding="utf-8"))["published"])
        drafts = draft(labels.with_suffix(".txt").read_text(encoding="utf-8"), published)
        for event in drafts.events:
            validation.event(event_input(event))
        for reaction in drafts.reactions:
            validation.reaction(reaction_input(reaction))


def test_drafting_is_deterministic() -> None:
    """The same text and day give the same drafts, byte for byte."""
    again = draft(
        (ROOT / "examples" / "seed-article.txt").read_text(encoding="utf-8"), date(2024, 2, 3)
    )
    assert json.dumps(again.as_dict()) == json.dumps(SEED.as_dict())


@pytest.fixture(scope="module")
def total() -> Score:
    out = Score()
    for labels_path in sorted(ARTICLES.glob("*.json")):
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        text = labels_path.with_suffix(".txt").read_text(encoding="utf-8")
        out.add(
            score(
                draft(text, date.fromisoformat(labels["published"])).as_dict(),
                labels,
                labels_path.stem,
            )
        )
    return out


def test_labelled_articles_meet_the_targets(total: Score) -> None:
    """Over the labelled articles: events precision and recall at least 0.9, fields 0.85."""
    assert total.labelled >= 20 and total.reactions_labelled >= 30
    assert total.precision >= 0.9, total.misses
    assert total.recall >= 0.9, total.misses
    assert total.fields_accuracy >= 0.85, total.misses
    assert total.reactions_recall >= 0.9, total.misses


def test_texts_without_a_launch_draft_nothing() -> None:
    """The two texts that hold no launch give no events and no reactions."""
    for path in ARTICLES.glob("no-launch-*.txt"):
        published = date.fromisoformat(
            json.loads(path.with_suffix(".json").read_text())["published"]
        )
        assert draft(path.read_text(encoding="utf-8"), published).as_dict() == {
            "events": [],
            "reactions": [],
        }
