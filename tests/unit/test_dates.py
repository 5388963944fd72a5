"""Partial dates: `2024`, `2024-01`, `2024-01-25` and `2024-01-25T10:22Z`, kept as precise as reported."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.dates import PartialDate, since_bound, until_bound
from bot.errors import ValidationError

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MMZ"
LENGTH = {"year": 4, "month": 7, "day": 10}

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
partial_precisions = st.sampled_from(["year", "month", "day"])
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def partial_text(day: date, precision: str) -> str:
    return day.isoformat()[: LENGTH[precision]]


def offset_text(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


class TestPartialDatesStayPartial:
    """A date is kept exactly as precise as the reports are."""

    @pytest.mark.parametrize(
        ("typed", "text", "precision"),
        [
            ("2024", "2024", "year"),
            ("2024-01", "2024-01", "month"),
            ("2024-01-25", "2024-01-25", "day"),
        ],
    )
    def test_partial_date_keeps_its_precision(self, typed: str, text: str, precision: str) -> None:
        """A year, a month or a day is stored as typed, with no invented day or time."""
        parsed = PartialDate.parse(typed)

        assert (parsed.text, parsed.precision, parsed.at) == (text, precision, None)
        assert str(parsed) == typed

    def test_minute_keeps_the_utc_instant(self) -> None:
        """A time of day makes the date minute-precise and keeps the exact UTC instant."""
        parsed = PartialDate.parse("2024-01-25T10:22Z")

        assert parsed.text == "2024-01-25"
        assert parsed.precision == "minute"
        assert parsed.at == datetime(2024, 1, 25, 10, 22, tzinfo=UTC)
        assert parsed.iso() == "2024-01-25T10:22Z"

    def test_a_time_without_a_zone_is_read_as_utc(self) -> None:
        """`2024-01-25 10:22` with no zone is taken to be UTC."""
        parsed = PartialDate.parse("2024-01-25 10:22")

        assert parsed.at == datetime(2024, 1, 25, 10, 22, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("typed", "instant", "day"),
        [
            ("2024-01-25T08:30+09:00", datetime(2024, 1, 24, 23, 30, tzinfo=UTC), "2024-01-24"),
            ("2024-01-25T08:30+0900", datetime(2024, 1, 24, 23, 30, tzinfo=UTC), "2024-01-24"),
            ("2024-01-24T20:15-05:00", datetime(2024, 1, 25, 1, 15, tzinfo=UTC), "2024-01-25"),
        ],
    )
    def test_offsets_are_converted_to_utc(self, typed: str, instant: datetime, day: str) -> None:
        """A Seoul or New York time is stored as the same instant in UTC, on its UTC day."""
        parsed = PartialDate.parse(typed)

        assert parsed.at == instant
        assert parsed.text == day
        assert parsed.at is not None and parsed.at.utcoffset() == timedelta(0)

    def test_surrounding_spaces_are_ignored(self) -> None:
        """Spaces pasted around a date do not make it invalid."""
        assert PartialDate.parse("  2024-01-25 ") == PartialDate("2024-01-25", "day")

    @given(day=days, precision=partial_precisions)
    @settings(max_examples=60)
    def test_every_partial_date_round_trips(self, day: date, precision: str) -> None:
        """Any year, month or day from 1900 on reads back as the same text and precision."""
        typed = partial_text(day, precision)

        parsed = PartialDate.parse(typed)

        assert (parsed.text, parsed.precision, parsed.iso()) == (typed, precision, typed)
        assert PartialDate.parse(parsed.iso()) == parsed

    @given(
        moment=st.datetimes(
            min_value=datetime(1900, 1, 2), max_value=datetime(2099, 12, 30), timezones=offsets
        )
    )
    @settings(max_examples=60)
    def test_every_instant_round_trips_in_utc(self, moment: datetime) -> None:
        """Any minute in any UTC offset is stored as that instant, on its UTC day."""
        moment = moment.replace(second=0, microsecond=0)
        typed = moment.strftime("%Y-%m-%dT%H:%M") + offset_text(moment)

        parsed = PartialDate.parse(typed)

        expected = moment.astimezone(UTC)
        assert parsed.precision == "minute"
        assert parsed.at == expected
        assert parsed.text == expected.date().isoformat()
        assert PartialDate.parse(parsed.iso()) == parsed


class TestInvalidDatesAreRefused:
    """A date that is not a date is refused with the forms that are accepted."""

    @pytest.mark.parametrize(
        "typed",
        ["", "   ", "yesterday", "25/01/2024", "2024/01/25", "24-01-25", "2024-1-5", "20240125"],
    )
    def test_unreadable_date_is_refused_naming_the_forms(self, typed: str) -> None:
        """Something that is not an ISO date gets an answer listing the forms to use."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse(typed, "occurred_on")

        assert caught.value.field == "occurred_on"
        assert FORMS in caught.value.fix

    @pytest.mark.parametrize(
        "typed", ["2023-02-29", "2024-02-30", "2024-04-31", "2024-13", "2024-00", "2024-01-00"]
    )
    def test_impossible_calendar_date_is_refused(self, typed: str) -> None:
        """February 30th or month 13 is refused as not a real calendar date."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse(typed, "date")

        assert caught.value.field == "date"
        assert "not a real calendar date" in caught.value.fix
        assert FORMS in caught.value.fix

    def test_impossible_time_of_day_is_refused(self) -> None:
        """24:00 or minute 60 is refused as no such time of day."""
        for typed in ("2024-01-25T24:00Z", "2024-01-25T10:60Z"):
            with pytest.raises(ValidationError, match="no such time of day"):
                PartialDate.parse(typed)

    @pytest.mark.parametrize("typed", ["2024-01-25T10:00+99:00", "2024-01-25T10:00+09:75"])
    def test_impossible_utc_offset_is_refused(self, typed: str) -> None:
        """An offset no clock uses (+99:00) is refused rather than shifting the day."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse(typed, "date")

        assert caught.value.field == "date"
        assert "+09:00" in caught.value.fix

    def test_year_before_1900_is_refused(self) -> None:
        """A year before 1900 (a typo such as 1024) is refused."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse("1899-12-31", "date")

        assert caught.value.field == "date"
        assert "1900" in caught.value.fix

    def test_date_in_other_digits_is_refused(self) -> None:
        """Digits from other scripts are refused, so stored dates always sort as text."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse("٢٠٢٤-٠١-٢٥")

        assert FORMS in caught.value.fix

    @given(typed=st.text(max_size=25))
    @settings(max_examples=150)
    def test_any_non_date_text_is_refused_naming_the_forms(self, typed: str) -> None:
        """Whatever else is typed is refused with the accepted forms, never a crash."""
        assume(not re.fullmatch(r"\s*[0-9]{4}(-[0-9]{2}(-[0-9]{2}([T ].*)?)?)?\s*", typed))

        with pytest.raises(ValidationError) as caught:
            PartialDate.parse(typed, "since")

        assert caught.value.field == "since"
        assert FORMS in caught.value.fix

    @given(
        year=st.integers(min_value=1900, max_value=2099),
        month=st.integers(min_value=1, max_value=12),
        data=st.data(),
    )
    @settings(max_examples=60)
    def test_any_day_past_the_end_of_its_month_is_refused(
        self, year: int, month: int, data: st.DataObject
    ) -> None:
        """The 29th of February in a common year, or an April 31st, is never accepted."""
        last = calendar.monthrange(year, month)[1]
        assume(last < 31)
        day = data.draw(st.integers(min_value=last + 1, max_value=31))

        with pytest.raises(ValidationError, match="not a real calendar date"):
            PartialDate.parse(f"{year:04d}-{month:02d}-{day:02d}")


class TestFutureDates:
    """Launches are recorded after they happen; a far-future date is a typo."""

    @pytest.mark.parametrize("typed", ["2024", "2024-02", "2024-02-05", "2024-02-06"])
    def test_today_tomorrow_and_the_current_period_are_accepted(self, typed: str) -> None:
        """Dates up to a day ahead (time zones run ahead of UTC) are accepted."""
        PartialDate.parse(typed).check_not_future("date", now=NOW)

    @pytest.mark.parametrize("typed", ["2042", "2024-03", "2024-02-07", "2025-02-05"])
    def test_date_more_than_a_day_ahead_is_refused(self, typed: str) -> None:
        """A date more than a day in the future is refused, naming the field."""
        with pytest.raises(ValidationError) as caught:
            PartialDate.parse(typed).check_not_future("occurred_on", now=NOW)

        assert caught.value.field == "occurred_on"
        assert "future" in caught.value.fix

    def test_instant_within_a_day_is_accepted(self) -> None:
        """A time 23 hours ahead of UTC now (a clock in another zone) is accepted."""
        PartialDate.parse("2024-02-06T11:00Z").check_not_future("date", now=NOW)

    def test_instant_more_than_a_day_ahead_is_refused(self) -> None:
        """A time 35 hours ahead is refused even though its day is tomorrow."""
        with pytest.raises(ValidationError, match="future"):
            PartialDate.parse("2024-02-06T23:00Z").check_not_future("date", now=NOW)

    def test_without_now_the_real_clock_is_used(self) -> None:
        """With no explicit `now`, the current time decides what is in the future."""
        with time_machine.travel(NOW, tick=False):
            PartialDate.parse("2024-02-06").check_not_future("date")
            with pytest.raises(ValidationError, match="future"):
                PartialDate.parse("2024-02-07").check_not_future("date")


class TestPeriods:
    """A partial date means a period: its first and last day."""

    @pytest.mark.parametrize(
        ("typed", "first", "last"),
        [
            ("2024", date(2024, 1, 1), date(2024, 12, 31)),
            ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
            ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
            ("2024-12", date(2024, 12, 1), date(2024, 12, 31)),
            ("2024-01-25", date(2024, 1, 25), date(2024, 1, 25)),
            ("2024-01-25T10:22Z", date(2024, 1, 25), date(2024, 1, 25)),
        ],
    )
    def test_first_and_last_day(self, typed: str, first: date, last: date) -> None:
        """`2024-02` runs from February 1st to the 29th; a day is just itself."""
        parsed = PartialDate.parse(typed)

        assert (parsed.first_day, parsed.last_day) == (first, last)

    @given(day=days, precision=partial_precisions)
    @settings(max_examples=60)
    def test_period_contains_its_days_and_nothing_else(self, day: date, precision: str) -> None:
        """The period starts and ends on the boundaries of its year, month or day."""
        parsed = PartialDate.parse(partial_text(day, precision))

        assert parsed.first_day <= day <= parsed.last_day
        assert partial_text(parsed.first_day - timedelta(days=1), precision) != parsed.text
        assert partial_text(parsed.last_day + timedelta(days=1), precision) != parsed.text

    @given(bound=days, precision=partial_precisions, day=days)
    @settings(max_examples=100)
    def test_text_bounds_admit_exactly_the_days_of_the_period(
        self, bound: date, precision: str, day: date
    ) -> None:
        """Filtering stored day texts by since/until admits exactly the period's days."""
        period = PartialDate.parse(partial_text(bound, precision))
        stored = day.isoformat()

        admitted_since = stored >= since_bound(period)
        admitted_until = stored <= until_bound(period)

        assert admitted_since == (day >= period.first_day)
        assert admitted_until == (day <= period.last_day)
