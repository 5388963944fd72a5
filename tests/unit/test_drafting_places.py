"""Drafting: the gazetteer's entries, and the places a text says a launch came from or fell in."""

from __future__ import annotations

from datetime import date

import pytest

from bot.drafting import draft
from bot.drafting.places import KINDS, find_places, gazetteer, lookup


def test_every_entry_has_what_a_map_needs() -> None:
    """Each place has a name, aliases, a kind, a source, and coordinates in range or none."""
    names = set()
    for place in gazetteer():
        assert place.name and place.name not in names
        names.add(place.name)
        assert place.kind in KINDS and place.source.strip()
        assert isinstance(place.aliases, tuple)
        assert (place.lat is None) == (place.lon is None)
        if place.lat is not None and place.lon is not None:
            assert -90 <= place.lat <= 90 and -180 <= place.lon <= 180
    sites_with_points = [p for p in gazetteer() if p.kind == "site" and p.lat is not None]
    assert len(sites_with_points) >= 20


def test_an_alias_names_its_entry() -> None:
    """ "Tongchang-ri" and "Sohae Space Centre" are the Sohae Satellite Launching Station."""
    sohae = lookup("Sohae Satellite Launching Station")
    assert (
        sohae is not None
        and lookup("Tongchang-ri") is sohae
        and lookup("sohae space centre") is sohae
    )
    assert lookup("Sea of Japan") is lookup("East Sea")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("fired two missiles from the Sunan area of Pyongyang", ["Sunan"]),
        ("a tremor near North Korea's Punggye-ri test site", ["Punggye-ri Nuclear Test Site"]),
        (
            "fired from the area of Kim Chaek city towards the Sea of Japan",
            ["Kim Chaek", "Sea of Japan (East Sea)"],
        ),
        ("the missile flew over Japan and the Pacific", []),
        ("it fell outside Japan's exclusive economic zone", []),
        (
            "it came down inside Japan's exclusive economic zone",
            ["Japan's exclusive economic zone"],
        ),
        ("Pyongyang said the drills were a provocation", []),
        (
            "launched toward the East Sea from the vicinity of Taechon, North Phyongan Province",
            ["Sea of Japan (East Sea)", "Taechon"],
        ),
    ],
)
def test_a_preposition_leads_to_the_place(text: str, names: list[str]) -> None:
    """Places count after "from", "near", "into", "towards"; not after "over" or "outside",
    and a capital speaking for its government is no launch site."""
    assert [m.place.name for m in find_places(text)] == names


def test_site_and_landing_area_with_coordinates() -> None:
    """The site's coordinates come with it; a named sea wins over "off its east coast"."""
    text = (
        "North Korea fired cruise missiles off its east coast on Friday. "
        "The missiles were fired from Kim Chaek towards the Sea of Japan."
    )
    [event] = draft(text, date(2024, 2, 3)).events
    kim_chaek = lookup("Kim Chaek")
    assert kim_chaek is not None
    assert (event["launch_site"], event["latitude"], event["longitude"]) == (
        "Kim Chaek",
        kim_chaek.lat,
        kim_chaek.lon,
    )
    assert event["landing_area"] == "Sea of Japan (East Sea)"
