"""Drafting: categories, names, counts and figures of a launch."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.drafting import draft

PUBLISHED = date(2024, 2, 3)


def one(text: str) -> dict[str, Any]:
    [event] = draft(text, PUBLISHED).events
    return event


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("North Korea fired two short-range ballistic missiles on Friday.", 2),
        ("North Korea fires 2 cruise missiles into the sea on Friday.", 2),
        ("North Korea fired an ICBM on Friday.", 1),
        ("North Korea launched a missile on Friday.", 1),
        ("North Korea test-fired multiple cruise missiles on Friday.", None),
        ("North Korea fired several short-range missiles on Friday.", None),
        ("North Korea fired cruise missiles on Friday.", None),
        ("North Korea fired the missiles on Friday.", None),
        ("North Korea fired eight ballistic missiles on Friday.", 8),
    ],
)
def test_count_from_numbers_and_singulars(text: str, count: int | None) -> None:
    """Numerals and number words give the count, a singular 1; "multiple", "several" and
    bare plurals leave it empty."""
    assert one(text)["count"] == count


def test_the_rocket_is_one() -> None:
    """ "The rocket" of a satellite launch is one launch vehicle."""
    text = "North Korea put a satellite into orbit on Friday. The rocket lifted off from Sohae."
    assert one(text)["count"] == 1


def test_ordinal_is_not_a_count() -> None:
    """ "The third round of cruise missile launches" does not make a count of three."""
    assert one("This marks the third round of cruise missile launches, on Friday.")["count"] is None


@pytest.mark.parametrize(
    ("text", "category", "name"),
    [
        ("North Korea launched a Hwasong-18 on Friday.", "icbm", "Hwasong-18"),
        ("North Korea fired a KN-23 on Friday.", "srbm", "KN-23"),
        ("The Pukguksong-3 was fired on Friday.", "slbm", "Pukguksong-3"),
        ("The Chollima-1 rocket lifted off on Friday.", "space_launch", "Chollima-1"),
        (
            "North Korea launched a military reconnaissance satellite on Friday.",
            "space_launch",
            None,
        ),
        ("North Korea fired a space launch vehicle on Friday.", "space_launch", None),
        ("North Korea conducted a nuclear test on Friday.", "nuclear_test", None),
        ("North Korea fired a hypersonic missile on Friday.", "hypersonic", None),
        ("North Korea fired an intermediate-range ballistic missile on Friday.", "irbm", None),
    ],
)
def test_category_and_name_from_terms(text: str, category: str, name: str | None) -> None:
    """Missile names and terms give the category; "satellite" and "space launch vehicle"
    give space_launch."""
    event = one(text)
    assert (event["category"], event["name"]) == (category, name)


def test_generic_missile_takes_the_kind_said_later() -> None:
    """ "One ballistic missile" that a later sentence calls ICBM-class is one ICBM launch."""
    text = (
        "North Korea launched one ballistic missile on Friday. "
        "The ballistic missile launched this time is assessed to be of ICBM class."
    )
    assert (one(text)["category"], one(text)["count"]) == ("icbm", 1)


@pytest.mark.parametrize(
    ("text", "field", "km"),
    [
        ("On Friday it fired a cruise missile that flew about 150 km.", "distance_km", 150),
        (
            "On Friday it fired a cruise missile that traveled more than 600 kilometers.",
            "distance_km",
            600,
        ),
        (
            "On Friday it fired a cruise missile that travelled some 1,000 kilometres.",
            "distance_km",
            1000,
        ),
        ("On Friday it fired a missile that flew about 600 miles.", "distance_km", 966),
        ("On Friday it fired an ICBM that reached an altitude of 6,000 km.", "apogee_km", 6000),
        ("On Friday it fired an ICBM at a maximum altitude of about 60 km.", "apogee_km", 60),
    ],
)
def test_figures_with_units(text: str, field: str, km: float) -> None:
    """Distances and apogees: "about" and "more than" keep the number, miles become km,
    British and American spellings alike."""
    assert one(text)[field] == km


def test_range_keeps_upper_bound_with_a_note() -> None:
    """ "350-400 km" is kept as 400, with a note saying it was a range."""
    event = one("On Friday it fired two missiles that flew 350-400 km.")
    assert event["distance_km"] == 400
    assert event["notes"] == [{"field": "distance_km", "reason": "range", "text": "350-400 km"}]


def test_km_given_first_wins_over_its_miles() -> None:
    """ "150 kilometers (93 miles)" is 150 km, and nothing is converted."""
    event = one(
        "On Friday it fired missiles that traveled approximately 150 kilometers (93 miles)."
    )
    assert (event["distance_km"], event["notes"]) == (150, [])


def test_a_place_is_not_a_flight() -> None:
    """ "250 km west of Okushiri" and "1,000 km away" say where, not how far it flew."""
    text = (
        "On Friday it fired an ICBM that flew for 73 minutes and fell into the sea "
        "approximately 250 km west of Okushiri Island, hitting a target 1,000 km away."
    )
    assert one(text)["distance_km"] is None


def test_claim_is_the_actors_own_quoted_words() -> None:
    """ "North Korea said it had tested “long-range” cruise missiles" claims "long-range"."""
    text = "North Korea said it had tested “long-range” cruise missiles on Friday to improve its “war capability”."
    assert one(text)["claimed"] == "long-range"


def test_someone_elses_quote_is_not_a_claim() -> None:
    """The United States quoting "destabilizing" is not a North Korean claim."""
    text = "On Friday the United States condemned North Korea’s “destabilizing” missile tests and called for a halt."
    events = draft(text, PUBLISHED).events
    assert all(e["claimed"] is None for e in events)


@pytest.mark.parametrize(
    "text",
    [
        "Kim Jong Un directly oversaw the cruise missile tests on Friday.",
        "North Korean leader Kim Jong Un watched the ICBM launch on Friday.",
        "Kim Jong Un guided the test-fire of a cruise missile on Friday.",
        "The cruise missile test on Friday was overseen by Kim Jong Un.",
    ],
)
def test_oversight_verbs(text: str) -> None:
    """ "Oversaw", "watched", "guided" and "overseen by" give overseen_by."""
    assert one(text)["overseen_by"] == "Kim Jong Un"


def test_short_name_is_the_fullest_in_the_text() -> None:
    """ "Kim" who oversaw it is the "Kim Jong Un" the text names elsewhere."""
    text = (
        "Kim oversaw the cruise missile test on Friday. Kim Jong Un later praised the scientists."
    )
    assert one(text)["overseen_by"] == "Kim Jong Un"
