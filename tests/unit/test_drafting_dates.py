"""Drafting: date phrases found and resolved against the publication day, times to UTC."""

from __future__ import annotations

from datetime import date

import pytest

from bot.drafting import draft
from bot.drafting.dates import find_dates


def day_of(sentence: str, published: date) -> str:
    """The date of the one launch a sentence reports (as the store keeps it)."""
    [event] = draft(sentence, published).events
    return str(event["occurred_at"] or event["occurred_on"])


def test_weekday_on_publication_day_is_that_day() -> None:
    """A weekday that is the publication day means that day, not a week before."""
    # 2024-02-03 is a Saturday
    assert (
        day_of("North Korea fired a cruise missile on Saturday.", date(2024, 2, 3)) == "2024-02-03"
    )


def test_weekday_is_latest_such_day_before_publication() -> None:
    """ "On Tuesday", published on a Saturday, is four days before."""
    assert (
        day_of("North Korea fired a cruise missile on Tuesday.", date(2024, 2, 3)) == "2024-01-30"
    )


def test_last_weekday_is_strictly_before() -> None:
    """ "Last Saturday", published on a Saturday, is a week before."""
    assert day_of("North Korea fired an ICBM last Saturday.", date(2024, 2, 3)) == "2024-01-27"


def test_bare_day_takes_latest_month_on_or_before_publication() -> None:
    """ "The 29th", published on 3 February, is 29 January; published 29 March, that day."""
    assert day_of("It launched a rocket on the 29th.", date(2024, 2, 3)) == "2024-01-29"
    assert day_of("It launched a rocket on the 29th.", date(2024, 3, 29)) == "2024-03-29"
    # 30 February does not exist: the 30th in early March is 30 January
    assert day_of("It launched a rocket on the 30th.", date(2024, 3, 2)) == "2024-01-30"


def test_month_and_day_without_year_take_latest_year() -> None:
    """ "Dec. 18" published in January is last December; "Jan 5" this January."""
    assert day_of("North Korea fired an ICBM on Dec. 18.", date(2024, 1, 10)) == "2023-12-18"
    assert day_of("North Korea fired an ICBM on Jan 5.", date(2024, 1, 10)) == "2024-01-05"


def test_month_alone_stays_partial() -> None:
    """ "In January" is the month 2024-01, not a day."""
    [event] = draft("North Korea tested an ICBM in January.", date(2024, 2, 3)).events
    assert (event["occurred_on"], event["date_precision"]) == ("2024-01", "month")


def test_day_before_and_next_day_count_from_the_sentences_own_date() -> None:
    """ "The day before" and "the next day" are counted from the sentence's own date."""
    found = find_dates(
        "On Jan. 10 it said it had fired the rocket the day before.", date(2024, 2, 3)
    )
    assert [d.date.text for d in found] == ["2024-01-10", "2024-01-09"]
    text = "North Korea fired an ICBM on Jan. 10. It fired a cruise missile the next day."
    events = draft(text, date(2024, 2, 3)).events
    assert [(e["occurred_on"], e["category"]) for e in events] == [
        ("2024-01-10", "icbm"),
        ("2024-01-11", "cruise_missile"),
    ]


def test_said_on_dates_the_statement_not_the_launch() -> None:
    """ "State media said on Wednesday" does not make a launch on Wednesday."""
    text = "Kim oversaw the test of a hypersonic missile on Tuesday, state media said on Wednesday."
    assert [e["occurred_on"] for e in draft(text, date(2022, 1, 12)).events] == ["2022-01-11"]


def test_local_time_is_converted_with_the_actors_zone() -> None:
    """7:22 a.m. on 4 October 2022 in Pyongyang (UTC+9) is 2022-10-03T22:22Z."""
    text = "North Korea fired a missile over Japan at 7:22 a.m. on 4 October 2022."
    [event] = draft(text, date(2022, 10, 4)).events
    assert event["occurred_at"] == "2022-10-03T22:22Z"
    assert event["occurred_on"] == "2022-10-03"


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2016, "2016-02-07T00:30Z"),  # Pyongyang time was UTC+8:30 from 2015 to 2018
        (2019, "2019-02-07T00:00Z"),  # and UTC+9 again from May 2018
    ],
)
def test_pyongyang_time_was_half_an_hour_behind_from_2015_to_2018(year: int, expected: str) -> None:
    """09:00 local on 7 February is 00:30Z in 2016 (UTC+8:30) but 00:00Z in 2019 (UTC+9)."""
    text = f"The carrier rocket was launched at 09:00 on February 7, {year}."
    [event] = draft(text, date(year, 2, 7)).events
    assert event["occurred_at"] == expected


def test_named_zone_wins_over_the_actors() -> None:
    """3:17 a.m. Seoul time (UTC+9) in 2017, when Pyongyang was UTC+8:30, is 18:17Z."""
    text = "The ICBM was launched at 3:17 a.m. Seoul time on Wednesday (1817 GMT Tuesday)."
    [event] = draft(text, date(2017, 11, 29)).events
    assert event["occurred_at"] == "2017-11-28T18:17Z"


def test_gmt_time_alone_takes_its_utc_day() -> None:
    """A GMT time without a day falls on the UTC day that is the local day in Pyongyang."""
    text = "North Korea launched a long-range rocket on Dec. 12 at 0049 GMT."
    [event] = draft(text, date(2012, 12, 12)).events
    assert event["occurred_at"] == "2012-12-12T00:49Z"
