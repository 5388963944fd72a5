"""Input rules: what a moderator may type for an event, a reaction or a source, and the fixes named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import models, validation
from bot.errors import ValidationError

NOW = datetime(2024, 2, 5, 12, 0, tzinfo=UTC)
SOURCE = {"url": "https://www.yna.co.kr/view/AEN20240202000251315", "publisher": "Yonhap"}

letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1)


def event(**overrides: Any) -> dict[str, Any]:
    """A valid new event, as a command would pass it, with some fields replaced."""
    raw: dict[str, Any] = {
        "date": "2024-02-02",
        "actor": "DPRK",
        "category": "cruise_missile",
        "summary": "Several cruise missiles fired from near Kim Chaek into the Sea of Japan.",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}


def reaction(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "event_id": 1,
        "actor": "Japan",
        "stance": "concerned",
        "summary": "Japan expressed grave concerns over the tests.",
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}


def refusal(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


class TestEnumerations:
    """Fields with a fixed set of values accept exactly those values."""

    EVENT_ENUMS = (
        ("category", models.CATEGORIES),
        ("platform", models.PLATFORMS),
        ("outcome", models.OUTCOMES),
        ("confidence", ("disputed", "reported", "confirmed")),
    )
    REACTION_ENUMS = (("actor_kind", models.ACTOR_KINDS), ("stance", models.STANCES))

    @pytest.mark.parametrize(
        ("field", "value"), [(f, v) for f, values in EVENT_ENUMS for v in values]
    )
    def test_every_listed_event_value_is_accepted(self, field: str, value: str) -> None:
        """Each documented category, platform, outcome and confidence is accepted."""
        values, _ = validation.event(event(**{field: value, "sources": [SOURCE]}), now=NOW)

        assert values[field] == value

    @pytest.mark.parametrize(
        ("field", "value"), [(f, v) for f, values in REACTION_ENUMS for v in values]
    )
    def test_every_listed_reaction_value_is_accepted(self, field: str, value: str) -> None:
        """Each documented actor kind and stance is accepted."""
        values, _ = validation.reaction(reaction(**{field: value}), now=NOW)

        assert values[field] == value

    @pytest.mark.parametrize(
        ("field", "allowed"), [*EVENT_ENUMS[:3], ("confidence", models.CONFIDENCES)]
    )
    def test_unknown_event_value_is_refused_listing_the_choices(
        self, field: str, allowed: tuple[str, ...]
    ) -> None:
        """A value outside the list is refused, naming the field and every allowed value."""
        error = refusal(validation.event, event(**{field: "ballistic-ish"}), now=NOW)

        assert error.field == field
        assert all(value in error.fix for value in allowed)

    @pytest.mark.parametrize(("field", "allowed"), REACTION_ENUMS)
    def test_unknown_reaction_value_is_refused_listing_the_choices(
        self, field: str, allowed: tuple[str, ...]
    ) -> None:
        """An unknown actor kind or stance is refused, naming the field and the choices."""
        error = refusal(validation.reaction, reaction(**{field: "furious"}), now=NOW)

        assert error.field == field
        assert all(value in error.fix for value in allowed)

    @given(field=st.sampled_from(["category", "platform", "outcome", "stance"]), value=letters)
    @settings(max_examples=80)
    def test_only_listed_values_pass(self, field: str, value: str) -> None:
        """No text outside the documented list ever gets through as an enumeration value."""
        allowed = {
            "category": models.CATEGORIES,
            "platform": models.PLATFORMS,
            "outcome": models.OUTCOMES,
            "stance": models.STANCES,
        }[field]
        if value in allowed:
            assert validation.enum(field, value) == value
        else:
            assert refusal(validation.enum, field, value).field == field

    def test_spelling_variants_are_forgiven(self) -> None:
        """`Cruise Missile` and `space-launch` are read as `cruise_missile` and `space_launch`."""
        assert validation.enum("category", "Cruise Missile") == "cruise_missile"
        assert validation.enum("category", " space-launch ") == "space_launch"

    def test_retracted_cannot_be_set_as_a_confidence(self) -> None:
        """Retraction goes through /event retract with a reason, never a confidence edit."""
        error = refusal(validation.event, event(confidence="retracted"), now=NOW)

        assert error.field == "confidence"
        assert "retract" in error.fix

    def test_blank_outcome_and_confidence_take_their_defaults(self) -> None:
        """Left empty, outcome is `unknown`, confidence `reported` and region the peninsula."""
        values, _ = validation.event(event(outcome="", confidence=None, region=" "), now=NOW)

        assert values["outcome"] == "unknown"
        assert values["confidence"] == "reported"
        assert values["region"] == "korean-peninsula"


class TestCounts:
    """How many missiles: a whole number of at least one, or empty when unknown."""

    @given(n=st.integers(min_value=1, max_value=validation.MAX_COUNT))
    @settings(max_examples=50)
    def test_any_positive_count_is_accepted(self, n: int) -> None:
        """A count from 1 up, typed as a number or as text, is stored as that number."""
        assert validation.count(n) == n
        assert validation.count(f" {n} ") == n

    @given(n=st.integers(max_value=0))
    @settings(max_examples=30)
    def test_zero_or_negative_count_is_refused(self, n: int) -> None:
        """A count below one is refused, saying to leave it empty when unknown."""
        error = refusal(validation.count, n)

        assert error.field == "count"
        assert "1 or more" in error.fix
        assert "empty" in error.fix

    @pytest.mark.parametrize("typed", ["two", "2.5", "several", True])
    def test_non_whole_count_is_refused(self, typed: object) -> None:
        """Words, fractions and booleans are not counts."""
        assert refusal(validation.count, typed).field == "count"

    def test_absurd_count_is_refused(self) -> None:
        """A count beyond the upper bound is refused, naming the bound."""
        error = refusal(validation.count, validation.MAX_COUNT + 1)

        assert str(validation.MAX_COUNT) in error.fix

    @pytest.mark.parametrize("typed", [None, "", "  "])
    def test_unknown_count_stays_empty(self, typed: object) -> None:
        """When the reports don't say how many, the count stays empty."""
        assert validation.count(typed) is None


class TestDistances:
    """Distances and apogees are non-negative numbers of kilometres."""

    @given(
        field=st.sampled_from(["distance_km", "apogee_km"]),
        km=st.floats(min_value=0, max_value=100_000, allow_nan=False),
    )
    @settings(max_examples=60)
    def test_any_non_negative_distance_is_accepted(self, field: str, km: float) -> None:
        """Any distance from 0 km up is stored as given."""
        assert validation.event_field(field, km) == {field: km}
        assert validation.event_field(field, repr(km)) == {field: km}

    @given(
        field=st.sampled_from(["distance_km", "apogee_km"]),
        km=st.floats(max_value=0, exclude_max=True, allow_nan=False, allow_infinity=False),
    )
    @settings(max_examples=40)
    def test_negative_distance_is_refused(self, field: str, km: float) -> None:
        """A negative distance is refused, naming the field and the lower bound."""
        error = refusal(validation.event_field, field, km)

        assert error.field == field
        assert "at least 0" in error.fix

    @pytest.mark.parametrize("typed", ["nan", "inf", float("inf"), float("nan")])
    def test_infinite_or_not_a_number_is_refused(self, typed: object) -> None:
        """NaN and infinity are refused as not finite numbers."""
        error = refusal(validation.event_field, "distance_km", typed)

        assert error.field == "distance_km"
        assert "finite" in error.fix

    def test_words_are_refused_with_an_example(self) -> None:
        """`about 150` is refused with an example of digits to type."""
        error = refusal(validation.event_field, "apogee_km", "about 150")

        assert error.field == "apogee_km"
        assert "150" in error.fix

    def test_thousands_separators_are_read(self) -> None:
        """`1,500` is read as fifteen hundred kilometres."""
        assert validation.event_field("distance_km", "1,500") == {"distance_km": 1500.0}

    @pytest.mark.parametrize(
        ("field", "value"), [("latitude", 90.5), ("latitude", -91), ("longitude", 181)]
    )
    def test_coordinates_outside_the_globe_are_refused(self, field: str, value: float) -> None:
        """A latitude beyond ±90 or a longitude beyond ±180 is refused."""
        assert refusal(validation.event_field, field, value).field == field


class TestSources:
    """A source is a web page (http or https) or a citation without a link."""

    @given(
        scheme=st.sampled_from(["http", "https"]),
        host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
        path=st.from_regex(r"(/[A-Za-z0-9._~-]{0,20}){0,4}", fullmatch=True),
    )
    @settings(max_examples=60)
    def test_any_web_address_is_accepted(self, scheme: str, host: str, path: str) -> None:
        """Any http or https address is kept as typed."""
        url = f"{scheme}://{host}{path}"

        assert validation.source({"url": url})["url"] == url

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.org/report",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "mailto:press@example.org",
            "www.yna.co.kr/view/1",
            "https://",
            "https://exa mple.org/report",
        ],
    )
    def test_non_web_address_is_refused(self, url: str) -> None:
        """Anything but an http(s) address is refused, saying to use https://."""
        error = refusal(validation.source, {"url": url})

        assert error.field == "source_url"
        assert "https://" in error.fix

    def test_citation_without_a_link_is_accepted(self) -> None:
        """A source can be a citation (publisher and title) without a URL."""
        cited = validation.source({"publisher": "KCNA", "title": "Statement of 30 January"})

        assert cited == {
            "url": None,
            "publisher": "KCNA",
            "title": "Statement of 30 January",
            "published_on": None,
        }

    def test_confirmed_event_may_rest_on_a_citation_alone(self) -> None:
        """A confirmed event whose only source is a citation with no URL is accepted."""
        values, sources = validation.event(
            event(confidence="confirmed", sources=[{"publisher": "Yonhap"}]), now=NOW
        )

        assert values["confidence"] == "confirmed"
        assert sources[0]["url"] is None

    def test_empty_source_is_refused(self) -> None:
        """A source with no URL, title or publisher is refused."""
        error = refusal(validation.source, {"published_on": "2024-02-02"})

        assert error.field == "source"
        assert "URL" in error.fix

    def test_source_published_date_may_be_partial(self) -> None:
        """A source's publication date is checked like any partial date."""
        assert validation.source({"title": "Yearbook", "published_on": "2024"})["published_on"] == (
            "2024"
        )
        assert refusal(validation.source, {"title": "x", "published_on": "2024-02-30"}).field == (
            "published_on"
        )

    def test_too_many_sources_are_refused(self) -> None:
        """An event cites at most a fixed number of sources."""
        many = [{"url": f"https://example.org/{i}"} for i in range(validation.MAX_SOURCES + 1)]

        error = refusal(validation.event, event(sources=many), now=NOW)

        assert error.field == "sources"
        assert str(validation.MAX_SOURCES) in error.fix


class TestTextLengths:
    """Every free-text field has a length bound, named when it is exceeded."""

    @given(field=st.sampled_from(sorted(validation.MAX_LENGTH)), data=st.data())
    @settings(max_examples=80)
    def test_text_up_to_the_bound_is_kept_and_beyond_is_refused(
        self, field: str, data: st.DataObject
    ) -> None:
        """Text of at most the bound is kept; one character more is refused with the bound."""
        limit = validation.MAX_LENGTH[field]
        length = data.draw(st.integers(min_value=1, max_value=limit + 50))
        value = "x" * length

        if length <= limit:
            assert validation.text(field, value) == value
        else:
            error = refusal(validation.text, field, value)
            assert error.field == field
            assert f"keep it to {limit}" in error.fix

    EVENT_TEXT = (
        "external_id",
        "actor",
        "name",
        "launch_site",
        "landing_area",
        "claimed",
        "overseen_by",
        "region",
        "summary",
    )
    REACTION_TEXT = ("actor", "speaker", "speaker_title", "affiliation", "summary", "quote")
    SOURCE_TEXT = ("publisher", "title")

    @pytest.mark.parametrize("field", EVENT_TEXT)
    def test_every_event_text_field_is_bounded(self, field: str) -> None:
        """An overlong event text field is refused naming that field."""
        error = refusal(validation.event, event(**{field: "y" * 5000}), now=NOW)

        assert error.field == field

    @pytest.mark.parametrize("field", REACTION_TEXT)
    def test_every_reaction_text_field_is_bounded(self, field: str) -> None:
        """An overlong reaction text field is refused naming that field."""
        error = refusal(validation.reaction, reaction(**{field: "y" * 5000}), now=NOW)

        assert error.field == field

    @pytest.mark.parametrize("field", SOURCE_TEXT)
    def test_every_source_text_field_is_bounded(self, field: str) -> None:
        """An overlong source publisher or title is refused naming that field."""
        error = refusal(validation.source, {field: "y" * 5000})

        assert error.field == field

    def test_overlong_url_is_refused(self) -> None:
        """A URL longer than its bound is refused."""
        error = refusal(validation.source, {"url": "https://example.org/" + "a" * 600})

        assert error.field == "url"

    def test_spaces_are_tidied_before_counting(self) -> None:
        """Runs of spaces and line breaks in a name collapse to one space."""
        assert validation.text("launch_site", "  Kim \n  Chaek ") == "Kim Chaek"

    def test_summary_keeps_its_line_breaks(self) -> None:
        """A summary keeps its paragraphs; only the ends are trimmed."""
        assert validation.text("summary", " One.\n\nTwo. ") == "One.\n\nTwo."

    def test_nul_character_is_refused(self) -> None:
        """A NUL character (pasted binary) is refused."""
        assert refusal(validation.text, "name", "Hwasong\x0018").field == "name"


class TestWholeEvents:
    """A whole new event: required fields, unknown fields, and sources by confidence."""

    @pytest.mark.parametrize("field", ["date", "category", "summary", "actor"])
    def test_missing_required_field_is_refused_naming_it(self, field: str) -> None:
        """An event without a date, category, summary or actor is refused naming it."""
        error = refusal(validation.event, event(**{field: ...}), now=NOW)

        assert error.field == field
        assert "required" in error.fix

    def test_unknown_field_is_refused_listing_the_fields(self) -> None:
        """A misspelt field is refused, with the list of fields to choose from."""
        error = refusal(validation.event, event(lauch_site="Kim Chaek"), now=NOW)

        assert error.field == "lauch_site"
        assert "launch_site" in error.fix

    @pytest.mark.parametrize("confidence", ["disputed", "confirmed"])
    def test_unsourced_event_needs_confidence_reported(self, confidence: str) -> None:
        """A disputed or confirmed event with no source is refused, naming both fixes."""
        error = refusal(validation.event, event(confidence=confidence), now=NOW)

        assert error.field == "source"
        assert "reported" in error.fix
        assert "source" in error.fix

    def test_reported_event_needs_no_source(self) -> None:
        """A reported event may be recorded before any source is added."""
        values, sources = validation.event(event(), now=NOW)

        assert values["confidence"] == "reported"
        assert sources == []

    def test_future_event_date_is_refused(self) -> None:
        """An event dated more than a day ahead is refused naming the date."""
        error = refusal(validation.event, event(date="2024-03-01"), now=NOW)

        assert error.field == "date"
        assert "future" in error.fix

    def test_full_event_is_read_into_store_columns(self) -> None:
        """Every field of a complete event lands in its data-model column."""
        values, sources = validation.event(
            event(
                date="2024-01-28T23:00-05:00",
                name="Pulhwasal-3-31",
                count="2",
                platform="Submarine",
                launch_site="Sinpo",
                latitude="40.0",
                longitude=128.2,
                landing_area="Sea of Japan (East Sea)",
                distance_km="1,500",
                apogee_km=0,
                outcome="success",
                claimed="strategic cruise missile",
                overseen_by="Kim Jong Un",
                region="korean-peninsula",
                confidence="confirmed",
                external_id="cns:301",
                sources=[SOURCE],
            ),
            now=NOW,
        )

        assert values == {
            "occurred_on": "2024-01-29",
            "date_precision": "minute",
            "occurred_at": "2024-01-29T04:00:00+00:00",
            "actor": "DPRK",
            "category": "cruise_missile",
            "name": "Pulhwasal-3-31",
            "count": 2,
            "platform": "submarine",
            "launch_site": "Sinpo",
            "latitude": 40.0,
            "longitude": 128.2,
            "landing_area": "Sea of Japan (East Sea)",
            "distance_km": 1500.0,
            "apogee_km": 0.0,
            "outcome": "success",
            "claimed": "strategic cruise missile",
            "overseen_by": "Kim Jong Un",
            "region": "korean-peninsula",
            "summary": event()["summary"],
            "confidence": "confirmed",
            "external_id": "cns:301",
        }
        assert sources == [{**SOURCE, "title": None, "published_on": None}]

    def test_unknown_field_is_refused_when_edited(self) -> None:
        """Editing a field that does not exist is refused, listing the editable fields."""
        error = refusal(validation.event_field, "colour", "red")

        assert error.field == "colour"
        assert "launch_site" in error.fix


class TestWholeReactions:
    """A reaction answers one event, or a series of events between two dates."""

    def test_reaction_needs_an_event_or_a_series(self) -> None:
        """A reaction with neither an event nor a since date is refused naming both fixes."""
        error = refusal(validation.reaction, reaction(event_id=None), now=NOW)

        assert error.field == "event"
        assert "since" in error.fix

    def test_reaction_cannot_answer_both_an_event_and_a_series(self) -> None:
        """Giving an event and a since/until series at once is refused."""
        error = refusal(validation.reaction, reaction(since="2024-01-25"), now=NOW)

        assert error.field == "since"

    def test_series_ending_before_it_starts_is_refused(self) -> None:
        """`until` before `since` is refused with the advice to swap them."""
        error = refusal(
            validation.reaction,
            reaction(event_id=None, since="2024-02", until="2024-01-31"),
            now=NOW,
        )

        assert error.field == "until"
        assert "swap" in error.fix

    def test_series_within_one_month_is_accepted(self) -> None:
        """`since 2024-01-25 until 2024-01` is a valid series (the end of January)."""
        values, _ = validation.reaction(
            reaction(event_id=None, since="2024-01-25", until="2024-01"), now=NOW
        )

        assert (values["since"], values["until"]) == ("2024-01-25", "2024-01")

    @pytest.mark.parametrize("field", ["actor", "stance", "summary"])
    def test_missing_required_reaction_field_is_refused(self, field: str) -> None:
        """A reaction needs an actor, a stance and a summary."""
        error = refusal(validation.reaction, reaction(**{field: ...}), now=NOW)

        assert error.field == field

    def test_actor_kind_defaults_to_government(self) -> None:
        """A reaction with no actor kind is a government's."""
        values, _ = validation.reaction(reaction(), now=NOW)

        assert values["actor_kind"] == "government"

    def test_reaction_said_in_the_future_is_refused(self) -> None:
        """A statement dated more than a day ahead is refused naming said_on."""
        error = refusal(validation.reaction, reaction(said_on="2025-01-01"), now=NOW)

        assert error.field == "said_on"
