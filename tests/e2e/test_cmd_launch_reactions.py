"""/launch, /reactions and the event autocomplete, end to end, as a member reads them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope
from tests.e2e.support import shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
SUBMARINE = "2024-01-29 · cruise missile · submarine"
KIM_CHAEK = "2024-02-02 · cruise missile · Kim Chaek"


def field(result: InvokeResult, name: str) -> str:
    """One embed field's value, as a reader sees it."""
    for f in result.embeds[0].get("fields", []):
        if f["name"].startswith(name):
            return re.sub(r"\\(.)", r"\1", f["value"])
    raise AssertionError(f"no field {name!r} in {result.embeds[0].get('fields')}")


def field_names(result: InvokeResult) -> list[str]:
    return [f["name"] for f in result.embeds[0].get("fields", [])]


async def event_id(bot: LaunchWatch, day: str) -> int:
    found = await services.search_events(bot.store, MOD, day, limit=1)
    return found[0].id


async def add_event(bot: LaunchWatch, **fields: Any) -> int:
    raw = {"date": "2024-03-18", "category": "srbm", "summary": "Two SRBMs.", **fields}
    return (await services.add_event(bot.store, MOD, raw, alert=False)).id


async def add_reaction(bot: LaunchWatch, **fields: Any) -> int:
    raw = {"actor": "Japan", "stance": "condemns", "summary": "Protested.", **fields}
    return (await services.add_reaction(bot.store, MOD, raw)).id


# -- /launch ------------------------------------------------------------------------------------


async def test_launch_shows_every_field(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A member sees the launch in full: date, facts, summary, confidence and sources."""
    eid = await add_event(
        launchwatch,
        date="2024-03-18T07:44Z",
        name="Hwasong-11",
        count=2,
        platform="tel",
        launch_site="Pyongyang Sunan",
        landing_area="Sea of Japan (East Sea)",
        distance_km=350,
        apogee_km=50.5,
        outcome="success",
        claimed="super-large",
        overseen_by="Kim Jong Un",
        confidence="confirmed",
        sources=[{"url": "https://example.org/jcs", "title": "JCS", "publisher": "Yonhap"}],
    )
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    assert not result.ephemeral
    assert (
        result.embeds[0]["title"]
        == "DPRK · 2 × SRBM (Hwasong\\-11) · TEL · from Pyongyang Sunan · 350 km"
    )
    assert field(result, "Date") == "<t:1710747840:f>"
    facts = field(result, "Facts")
    for line in (
        "Name: Hwasong-11", "Count: 2", "Platform: TEL", "Site: Pyongyang Sunan",
        "Landing: Sea of Japan (East Sea)", "Distance: 350 km", "Apogee: 50.5 km",
        "Outcome: success", "Claimed: “super-large”", "Overseen by: Kim Jong Un",
        "Region: korean-peninsula",
    ):  # fmt: skip
        assert line in facts.splitlines()
    assert field(result, "Confidence") == "✅ confirmed"
    assert result.embeds[0]["fields"][3]["value"] == "[JCS](<https://example.org/jcs>) · Yonhap"
    assert "Two SRBMs." in result.embeds[0]["description"]
    assert f"Event #{eid}" in result.embeds[0]["footer"]["text"]


async def test_launch_says_when_only_the_month_is_known(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A launch known only to the month says so instead of inventing a day."""
    eid = await add_event(launchwatch, date="2023-05")
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    assert field(result, "Date") == "May 2023 (only the month is known)"


async def test_launch_summarises_its_reactions(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """The seed's eight reactions (to the series) are counted, six shown, the rest pointed to."""
    eid = await event_id(seeded, "jan 29")
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    reactions = field(result, "Reactions (8)")
    assert "🟧 concerned · Japan: Expressed grave concerns" in reactions
    assert f"…and 2 more: `/reactions event:{eid}`" in reactions


async def test_launch_change_log_says_who_changed_what_and_when(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Each correction appears with its revision, time, moderator, and old and new value."""
    eid = await event_id(seeded, "kim chaek")
    await services.edit_event(seeded.store, MOD, eid, "distance_km", "180")
    await services.add_source(seeded.store, MOD, eid, {"url": "https://example.org/nhk"})
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    log = field(result, "Change log (newest first)").splitlines()
    assert len(log) == 3 and log[0].startswith("r3 ") and log[0].endswith("sources changed")
    assert re.fullmatch(
        rf"r2 · <t:\d+:f> · <@{MODERATOR_USER_ID}> · distance km: 150 → 180", log[1]
    )
    assert log[2].startswith("r1 ") and log[2].endswith(" · recorded")
    assert "revision 3" in result.embeds[0]["footer"]["text"]


async def test_retracted_launch_says_so_and_why(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A retracted launch is marked in its title and explains the retraction first."""
    eid = await event_id(seeded, "jan 31")
    await services.retract_event(seeded.store, MOD, eid, "It was artillery, not a missile.")
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    assert result.embeds[0]["title"].startswith("[RETRACTED] DPRK")
    assert shown(result).splitlines()[2] == (
        "**This event was retracted:** It was artillery, not a missile."
    )
    assert field(result, "Confidence") == "❌ retracted"


async def test_launch_of_an_unknown_event_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An event that doesn't exist is answered privately, pointing at the list."""
    result = await discord_emulator.invoke("launch", {"event": "9999"}, user="member")
    assert result.ephemeral
    assert "can't find event 9999" in shown(result) and "Pick one from the list" in shown(result)


async def test_an_id_too_big_for_the_store_is_simply_not_found(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A long run of digits typed as an event is answered as not found, not as a crash."""
    result = await discord_emulator.invoke("launch", {"event": "9" * 30}, user="member")
    assert result.ephemeral and "can't find event 999" in shown(result)


@pytest.mark.parametrize("user", ["member", "moderator", "admin"])
async def test_everyone_reads_the_same_answers(
    discord_emulator: Emulator, seeded: LaunchWatch, user: str
) -> None:
    """Reading needs no permission: members, moderators and admins get the same public answers."""
    for command, options in (
        ("timeline", {"since": "2024"}), ("launch", {"event": "2"}), ("reactions", {"event": "2"}),
    ):  # fmt: skip
        result = await discord_emulator.invoke(command, options, user=user)
        assert not result.refused and not result.ephemeral and result.embeds, command


async def test_launch_accepts_typed_words_that_match_one_event(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Typing "kim chaek" and pressing enter without picking still finds the one launch."""
    result = await discord_emulator.invoke("launch", {"event": "kim chaek"}, user="member")
    assert "from Kim Chaek" in result.embeds[0]["title"]
    vague = await discord_emulator.invoke("launch", {"event": "cruise"}, user="member")
    assert vague.ephemeral and "can't find event cruise" in shown(vague)


# -- autocomplete ---------------------------------------------------------------------------------


async def test_autocomplete_finds_a_date_a_platform_and_a_site(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Typing "jan 29", "submarine" or "kim chaek" offers the matching launch by its label."""
    for typed, label in (("jan 29", SUBMARINE), ("submarine", SUBMARINE), ("kim chaek", KIM_CHAEK)):
        choices = await discord_emulator.autocomplete(
            "launch", {"event": typed}, focused="event", user="member"
        )
        assert [c["name"] for c in choices] == [label], typed


async def test_autocomplete_offers_at_most_25_quickly(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """With 40 matching launches the list stops at 25, newest first, inside Discord's deadline
    (how fast it is at scale is measured in bench/, not asserted here)."""
    for day in range(1, 41):
        await add_event(launchwatch, date=f"2023-{1 + day // 28:02d}-{1 + day % 28:02d}")
    choices = await discord_emulator.autocomplete(
        "launch", {"event": "srbm"}, focused="event", user="member"
    )
    assert len(choices) == 25 and choices[0]["name"] == "2023-02-13 · SRBM"
    assert discord_emulator.late_interactions == []


async def test_every_event_option_autocompletes(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Wherever a command asks for an event, typing offers the same launches."""
    places = [
        ("launch", {}), ("reactions", {}), ("event edit", {"field": "name", "value": "x"}),
        ("event retract", {"reason": "x"}), ("event source", {}),
        ("reaction add", {"actor": "Japan", "stance": "condemns", "summary": "x"}),
    ]  # fmt: skip
    for command, others in places:
        choices = await discord_emulator.autocomplete(
            command, {**others, "event": "submarine"}, focused="event", user="moderator"
        )
        assert [c["name"] for c in choices] == [SUBMARINE], command


async def test_reaction_option_autocompletes(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """/reaction remove offers reactions by actor and words of their summary."""
    choices = await discord_emulator.autocomplete(
        "reaction remove", {"reaction": "japan grave"}, focused="reaction", user="moderator"
    )
    assert len(choices) == 1 and choices[0]["name"].startswith("#3 · Japan · concerned · ")


# -- /reactions ------------------------------------------------------------------------------------


async def test_reactions_to_an_event_include_series_covering_it(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Given a launch: reactions to it and to a series covering its date, nothing else."""
    eid = await event_id(seeded, "jan 29")
    other = await event_id(seeded, "kim chaek")
    await add_reaction(seeded, event_id=eid, actor="South Korea", summary="Direct reaction.")
    await add_reaction(seeded, event_id=other, summary="About another launch.")
    await add_reaction(seeded, since="2023-01", until="2023-02", summary="An older series.")
    result = await discord_emulator.invoke("reactions", {"event": str(eid)}, user="member")
    assert "9 reactions" in shown(result) and "Page 1 of 2" in shown(result)
    assert result.embeds[0]["title"] == "Reactions to the launch of 29 Jan 2024"
    text = shown(result)
    await discord_emulator.click(result, "page:next", user="member")
    text += shown(result)
    assert "Direct reaction." in text and "grave concerns" in text
    assert "About another launch." not in text and "An older series." not in text


async def test_reactions_are_grouped_by_actor_with_analysts_apart(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Governments' statements come first, grouped by actor; analysts' assessments after."""
    await add_reaction(
        seeded, since="2024-01-25", until="2024-01-31", said_on="2024-01-26", summary="First."
    )
    eid = await event_id(seeded, "jan 29")
    first = await discord_emulator.invoke("reactions", {"event": str(eid)}, user="member")
    assert field_names(first) == [
        "🏛️ China", "🏛️ Japan", "\u200b", "🎖️ South Korea", "🎖️ United States",
    ], "governments first; Japan's two reactions share one heading"  # fmt: skip
    await discord_emulator.click(first, "page:next", user="member")
    assert field_names(first) == [
        "🔎 Analyst · Ankit Panda", "🔎 Analyst · Kim Dong\\-yub",
        "🔎 Analyst · Leif\\-Eric Easley", "🔎 Analyst · Yoji Koda",
    ]  # fmt: skip


async def test_each_reaction_gives_stance_speaker_quote_date_and_source(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An analyst's entry names them with title and affiliation, quotes them and cites the source."""
    result = await discord_emulator.invoke("reactions", {"actor": "Ankit Panda"}, user="member")
    [entry] = [f["value"] for f in result.embeds[0]["fields"]]
    lines = re.sub(r"\\(.)", r"\1", entry).splitlines()
    assert lines[0] == (
        "🔎 assessment · Senior fellow, Carnegie Endowment for International Peace · "
        "on the launches of 25 Jan 2024 to 2 Feb 2024"
    )
    assert lines[1] == "> “elicit a strong response from the Biden admin.”"
    assert lines[2].startswith("North Korea is unlikely")
    assert lines[3].startswith("↳ North Korea cruise missile tests (AI-written article) · `#")


async def test_reactions_of_an_actor_over_time(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Given an actor, its reactions come oldest first, with the day each was said."""
    await add_reaction(seeded, since="2024-03-18", said_on="2024-03-19", summary="Later.")
    await add_reaction(seeded, since="2023-05", said_on="2023-05-31", summary="Earlier.")
    result = await discord_emulator.invoke("reactions", {"actor": "japan"}, user="member")
    text = shown(result)
    assert "3 reactions" in text and result.embeds[0]["title"] == "Reactions of japan"
    assert text.index("Earlier.") < text.index("grave concerns") < text.index("Later.")
    assert "said 31 May 2023" in text


async def test_reactions_within_dates(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """since and until keep only reactions said (or about launches) in that period."""
    await add_reaction(seeded, since="2023-05", said_on="2023-05-31", summary="Earlier.")
    result = await discord_emulator.invoke(
        "reactions", {"actor": "Japan", "since": "2023", "until": "2023-12"}, user="member"
    )
    assert "1 reaction since 2023 until Dec 2023" in shown(result)
    assert "Earlier." in shown(result) and "grave concerns" not in shown(result)


async def test_reactions_page_and_only_the_asker_pages(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Eight reactions page like /timeline, and nobody else can turn the asker's pages."""
    eid = await event_id(seeded, "jan 25")
    result = await discord_emulator.invoke("reactions", {"event": str(eid)}, user="member")
    other = await discord_emulator.click(result, "page:next", user="admin")
    assert other.ephemeral and "Only the person who asked" in shown(other)
    await discord_emulator.click(result, "page:next", user="member")
    assert "Page 2 of 2" in shown(result)


async def test_no_reactions_yet_says_so(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A launch nobody reacted to says that plainly."""
    eid = await add_event(launchwatch)
    result = await discord_emulator.invoke("reactions", {"event": str(eid)}, user="member")
    assert "0 reactions" in shown(result)
    assert "Nobody's reaction is recorded for this launch yet." in shown(result)


async def test_reactions_with_a_bad_date_name_the_forms(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A date the bot cannot read is answered privately with the accepted forms."""
    result = await discord_emulator.invoke("reactions", {"since": "last week"}, user="member")
    assert result.ephemeral and "YYYY, YYYY-MM, YYYY-MM-DD" in shown(result)


async def test_reactions_to_an_unknown_event_name_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An event that doesn't exist is answered privately, pointing at the list."""
    result = await discord_emulator.invoke("reactions", {"event": "#777"}, user="member")
    assert result.ephemeral and "can't find event 777" in shown(result)
