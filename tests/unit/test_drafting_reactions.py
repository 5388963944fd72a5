"""Drafting: reactions, their actors, speakers, stances and quotes."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.drafting import draft
from bot.models import STANCES

LAUNCH = "North Korea fired a ballistic missile on Friday. "
PUBLISHED = date(2024, 2, 3)


def reactions(text: str) -> list[dict[str, Any]]:
    return draft(LAUNCH + text, PUBLISHED).reactions


def only(text: str) -> dict[str, Any]:
    [reaction] = reactions(text)
    return reaction


def test_the_stance_table_uses_the_models_stances() -> None:
    """Every stance in stances.toml is one the data model accepts."""
    path = Path(__file__).resolve().parents[2] / "bot" / "drafting" / "stances.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(table["stances"]) | set(table["priority"]) <= set(STANCES)


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        ("Japan condemned the launch.", "condemns"),
        ("Japan strongly denounced the launch.", "condemns"),
        ("Japan expressed concern over the launch.", "concerned"),
        ("Japan expressed “grave concerns” over the tests.", "concerned"),
        ("Japan protested through diplomatic channels.", "concerned"),
        ("Japan lodged a protest with North Korea.", "concerned"),
        ("Japan urged restraint.", "concerned"),
        ("Japan urged all parties to return to dialogue.", "concerned"),
        ("Japan detected the launch.", "monitoring"),
        ("Japan monitored the launch.", "monitoring"),
        ("Japan is analysing the details of the launch.", "monitoring"),
        ("Japan has not commented on the launch.", "no_comment"),
        ("Japan declined to comment.", "no_comment"),
    ],
)
def test_stance_verb_table(sentence: str, stance: str) -> None:
    """The verb table: condemned/denounced, concern/protest/restraint, detected/monitored/
    analysing, has not commented/declined to comment."""
    assert only(sentence)["stance"] == stance


def test_strongest_stance_wins_for_one_actor() -> None:
    """A government that "lodged a protest and strongly condemned" condemns, once."""
    found = reactions(
        "Japan has lodged a strong protest with North Korea through diplomatic channels in "
        "Beijing and strongly condemned these actions. Japan is analysing the launch."
    )
    assert [(r["actor"], r["stance"]) for r in found] == [("Japan", "condemns")]
    assert len(found[0]["evidence"]) == 2


@pytest.mark.parametrize(
    ("sentence", "actor", "kind"),
    [
        ("The White House condemned the launch.", "United States", "government"),
        ("Seoul said it had detected the launch.", "South Korea", "military"),
        ("Tokyo protested.", "Japan", "government"),
        ("Washington condemned the test.", "United States", "government"),
        ("Beijing has not commented.", "China", "government"),
        ("The Pentagon condemned the launch.", "United States", "military"),
        (
            "UN Secretary-General Antonio Guterres condemned the launch.",
            "United Nations",
            "international_org",
        ),
    ],
)
def test_capitals_and_institutions_map_to_their_country(
    sentence: str, actor: str, kind: str
) -> None:
    """A capital or an institution speaks for its government; detection is the military's."""
    reaction = only(sentence)
    assert (reaction["actor"], reaction["actor_kind"]) == (actor, kind)


def test_official_is_speaker_for_their_government() -> None:
    """ "Japanese Prime Minister Fumio Kishida" is actor Japan, speaker and title apart."""
    reaction = only("Japanese Prime Minister Fumio Kishida called the launch “barbaric”.")
    assert (reaction["actor"], reaction["speaker"], reaction["speaker_title"]) == (
        "Japan",
        "Fumio Kishida",
        "Prime Minister",
    )
    assert (reaction["stance"], reaction["quote"]) == ("condemns", "barbaric")


def test_compound_subject_gives_one_reaction_each() -> None:
    """ "The United States, South Korea and Japan jointly condemned" is three reactions."""
    found = reactions("The United States, South Korea and Japan jointly condemned the launch.")
    assert [(r["actor"], r["stance"]) for r in found] == [
        ("United States", "condemns"),
        ("South Korea", "condemns"),
        ("Japan", "condemns"),
    ]


def test_object_is_not_the_subject() -> None:
    """ "Japan … lodged a protest with North Korea … in Beijing" is Japan's, not China's."""
    found = reactions("Japan lodged a protest with North Korea through its embassy in Beijing.")
    assert [r["actor"] for r in found] == ["Japan"]


def test_named_analyst_is_their_own_actor() -> None:
    """An analyst with a title and an affiliation is an assessment; the quote is verbatim."""
    reaction = only(
        "Leif-Eric Easley, a professor at Ewha University in Seoul, said: “Pyongyang is "
        "signaling that it wants to negotiate from a position of strength.”"
    )
    assert reaction == {
        **reaction,
        "actor": "Leif-Eric Easley",
        "actor_kind": "analyst",
        "speaker": "Leif-Eric Easley",
        "speaker_title": "Professor",
        "affiliation": "Ewha University, Seoul",
        "stance": "assessment",
        "quote": "Pyongyang is signaling that it wants to negotiate from a position of strength.",
    }


def test_the_launchers_words_are_not_a_reaction() -> None:
    """North Korea "condemning" drills or claiming success is not a reaction to its launch."""
    assert (
        reactions("North Korea condemned the joint drills. KCNA said the test was a success.") == []
    )


def test_no_launch_no_reactions() -> None:
    """A text without a launch has no reactions, whatever its governments say."""
    assert draft("Japan condemned the new tariffs on Friday.", PUBLISHED).reactions == []


def test_reactions_answer_the_texts_series() -> None:
    """Each reaction answers the launches of the text: since the first, until the last."""
    text = "North Korea fired an ICBM on Jan. 25 and a cruise missile on Feb. 2. Japan condemned the launches."
    reaction = draft(text, PUBLISHED).reactions[0]
    assert (reaction["since"], reaction["until"]) == ("2024-01-25", "2024-02-02")
