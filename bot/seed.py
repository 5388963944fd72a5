"""The example data: what the seed article (examples/seed-article.txt) reports.

Dates use 2024: the article's details (a Biden administration, Kim's second decade in
power, a submarine-launched cruise missile) match the 2024 series. Each event holds
only what the text says of it; the count stays empty where the text gives none.
Seeding twice changes nothing: events carry `seed:` external ids, and reactions are
matched on their content.
"""

from __future__ import annotations

from typing import Any

from bot import services
from bot.services import Scope
from bot.services.reactions import find_reaction_by_content
from bot.transfer import ImportReport
from db import Store

ARTICLE = {"title": "North Korea cruise missile tests (AI-written article)"}
EVENT_DEFAULTS = {
    "category": "cruise_missile",
    "actor": "DPRK",
    "region": "korean-peninsula",
    "confidence": "reported",
}
SERIES = {"since": "2024-01-25", "until": "2024-02-02"}

EVENTS: list[dict[str, Any]] = [
    {
        "external_id": "seed:2024-01-25",
        "date": "2024-01-25",
        "count": 2,
        "landing_area": "Sea off the east coast",
        "summary": "North Korea fires 2 cruise missiles into the sea off its east coast.",
    },
    {
        "external_id": "seed:2024-01-29",
        "date": "2024-01-29",
        "platform": "submarine",
        "overseen_by": "Kim Jong Un",
        "summary": "North Korea says it test-fired cruise missiles from a submarine; "
        "state media said Kim Jong Un oversaw the launches on board a military vessel.",
    },
    {
        "external_id": "seed:2024-01-31",
        "date": "2024-01-31",
        "claimed": "long-range",
        "summary": "North Korea claims a successful test of “long-range” cruise missiles "
        "to improve its “war counterattack capability”.",
    },
    {
        "external_id": "seed:2024-02-02",
        "date": "2024-02-02",
        "launch_site": "Kim Chaek",
        "landing_area": "Sea of Japan (East Sea)",
        "distance_km": 150,
        "summary": "North Korea launches multiple cruise missiles off its east coast from the "
        "Kim Chaek area towards the Sea of Japan; they flew about 150 km.",
    },
]

REACTIONS: list[dict[str, Any]] = [
    {
        "actor": "United States",
        "actor_kind": "military",
        "stance": "condemns",
        "summary": "Condemned the “destabilizing” missile tests and called for an immediate "
        "halt to such provocations.",
        "quote": "destabilizing",
    },
    {
        "actor": "South Korea",
        "actor_kind": "military",
        "stance": "monitoring",
        "summary": "Detected and monitored the launches; strengthening military readiness "
        "and coordination with the US to respond to North Korean threats.",
    },
    {
        "actor": "Japan",
        "actor_kind": "government",
        "stance": "concerned",
        "summary": "Expressed grave concerns over the tests fueling regional tensions.",
        "quote": "grave concerns",
    },
    {
        "actor": "China",
        "actor_kind": "government",
        "stance": "no_comment",
        "summary": "North Korea's main ally has not directly commented on the missile activity.",
    },
    {
        "actor": "Kim Dong-yub",
        "actor_kind": "analyst",
        "stance": "assessment",
        "speaker": "Kim Dong-yub",
        "speaker_title": "Professor",
        "affiliation": "Kyungnam University's Institute for Far Eastern Studies, Seoul",
        "summary": "Expects nuclear tactical exercises with ballistic missiles over Japan and "
        "a resumption of long-range ballistic missile testing.",
        "quote": "North Korea's expanded cruise missiles and shorter-range ballistic missiles "
        "provide Pyongyang with flexible options to pressure South Korea, Japan and the "
        "US…We expect Kim will order nuclear tactical exercises again involving ballistic "
        "missiles over Japan and resumption of long-range ballistic missile testing",
    },
    {
        "actor": "Leif-Eric Easley",
        "actor_kind": "analyst",
        "stance": "assessment",
        "speaker": "Leif-Eric Easley",
        "speaker_title": "Professor",
        "affiliation": "Ewha University, Seoul",
        "summary": "Pyongyang is signalling that it wants to negotiate from a position of "
        "strength while it works to foil sanctions enforcement.",
        "quote": "The Kim regime's first military and diplomatic priority is to foil sanctions "
        "enforcement by any means necessary. But by ostentatiously highlighting improvements "
        "to its missile arsenal, Pyongyang is signaling that it wants to negotiate from a "
        "position of strength",
    },
    {
        "actor": "Ankit Panda",
        "actor_kind": "analyst",
        "stance": "assessment",
        "speaker": "Ankit Panda",
        "speaker_title": "Senior fellow",
        "affiliation": "Carnegie Endowment for International Peace",
        "summary": "North Korea is unlikely to carry out an unambiguous long-range ballistic "
        "missile test or nuclear test for the foreseeable future.",
        "quote": "elicit a strong response from the Biden admin.",
    },
    {
        "actor": "Yoji Koda",
        "actor_kind": "analyst",
        "stance": "assessment",
        "speaker": "Yoji Koda",
        "speaker_title": "Former commander in chief",
        "affiliation": "Japan Maritime Self-Defense Force",
        "summary": "The cruise missile launches may be North Korea's way of probing the Biden "
        "administration's policies and posture on Pyongyang's military activities.",
    },
]


async def seed_example(store: Store, scope: Scope, *, alert: bool = False) -> ImportReport:
    """Load the article's four launches and eight reactions into the scope's guild."""
    report = ImportReport(0, 0, 0, 0, [])
    for raw in EVENTS:
        async with store.read() as q:
            existing = await q.events.by_external_id(scope.guild_id, raw["external_id"])
        if existing is not None:
            report.unchanged += 1
            continue
        event = {**EVENT_DEFAULTS, "sources": [ARTICLE], **raw}
        await services.add_event(store, scope, event, alert=alert)
        report.imported += 1
    for raw in REACTIONS:
        fields: dict[str, Any] = {**SERIES, "sources": [ARTICLE], **raw}
        values = {
            k: fields.get(k) for k in ("since", "until", "actor", "stance", "summary", "speaker")
        }
        async with store.read() as q:
            found = await find_reaction_by_content(
                q, scope.guild_id, {**values, "event_id": None, "said_on": None}
            )
        if found is not None:
            report.unchanged += 1
            continue
        await services.add_reaction(store, scope, fields)
        report.imported += 1
    return report
