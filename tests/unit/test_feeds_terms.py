"""Watch terms: which items become drafts."""

from __future__ import annotations

import pytest

from bot.feeds import DEFAULT_TERMS, FeedItem, matched_terms, matches


def item(title: str, summary: str = "", link: str | None = None) -> FeedItem:
    return FeedItem("Feed", title, link, summary, None)


@pytest.mark.parametrize(
    "title",
    [
        "DPRK fires two ballistic missiles",
        "north korea tests a new engine",
        "Pyongyang: Kim Jong-un oversees drill",
        "Hwasong ICBM flew 73 minutes",
        "Japan says a satellite reached orbit",
        "Missile's range disputed",
        "NUCLEAR   TEST feared",
    ],
)
def test_default_terms_find_launch_news(title: str) -> None:
    """Launch vocabulary and the actors' names match in any case, spacing or plural."""
    assert matches(item(title), DEFAULT_TERMS)


@pytest.mark.parametrize(
    "title",
    [
        "Weather in Seoul: sunny",
        "Launchpad startup raises funds",  # launch, but not as a word
        "Rocketry club meets",
        "Nuclear testing ban talks",  # the phrase is "nuclear test"
        "Dissatisfied voters",
    ],
)
def test_default_terms_ignore_other_news(title: str) -> None:
    """Whole words and phrases only: a term inside another word does not match."""
    assert not matches(item(title), DEFAULT_TERMS)


def test_summary_counts_but_link_does_not() -> None:
    assert matches(item("Briefing", "A rocket was seen."), ["rocket"])
    assert not matches(item("Briefing", "", "https://x.example/rocket-news"), ["rocket"])


def test_matched_terms_lists_each_term_once_in_the_given_order() -> None:
    news = item("ICBM and missile", "another missile, and an ICBM")
    assert matched_terms(news, ["missile", "ICBM", "satellite", "missile"]) == ["missile", "ICBM"]


def test_terms_are_text_not_patterns() -> None:
    """A guild's term with regex characters is matched literally; a blank term matches
    nothing."""
    assert matches(item("C++ (beta) released"), ["C++ (beta)"])
    assert not matches(item("Cxx beta released"), ["C++ (beta)", "   ", ".*"])
