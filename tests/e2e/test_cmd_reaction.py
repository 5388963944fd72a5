"""/reaction add and remove end to end: moderators, members, bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.models import Reaction
from bot.sandbox.world import MEMBER_USER_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope
from bot.services.reactions import all_reactions
from tests.e2e.support import shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
SAID = {"actor": "Japan", "stance": "condemns", "summary": "Lodged a protest through Beijing."}


async def reactions(bot: LaunchWatch) -> list[Reaction]:
    return await all_reactions(bot.store, MOD)


async def seeded_id(bot: LaunchWatch, words: str) -> int:
    return (await services.search_events(bot.store, MOD, words, limit=1))[0].id


def new_id(result: InvokeResult) -> int:
    match = re.search(r"reaction #(\d+)", result.embeds[0]["title"])
    assert match, result.embeds[0]["title"]
    return int(match.group(1))


EVERY_REACTION_COMMAND = [
    ("reaction add", {**SAID, "since": "2024-01-25"}),
    ("reaction remove", {"reaction": "1"}),
]


# -- who may use /reaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "options"), EVERY_REACTION_COMMAND)
async def test_member_cannot_use_reaction_commands(
    discord_emulator: Emulator, seeded: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """Discord itself refuses /reaction to a member without Manage Server; nothing changes."""
    before = await reactions(seeded)
    result = await discord_emulator.invoke(command, options, user="member")
    assert result.refused and "MANAGE_GUILD" in result.refusal
    assert await reactions(seeded) == before


@pytest.mark.parametrize(("command", "options"), EVERY_REACTION_COMMAND)
async def test_stale_registration_is_refused_by_the_bot(
    discord_emulator: Emulator, seeded: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """A member Discord lets through anyway is refused privately with the permission it takes."""
    discord_emulator.world.allow_command(SANDBOX_GUILD_ID, "reaction", user_id=MEMBER_USER_ID)
    before = await reactions(seeded)
    result = await discord_emulator.invoke(command, options, user="member")
    assert result.ephemeral and "**Manage Server**" in (result.content or "")
    assert await reactions(seeded) == before


# -- /reaction add -----------------------------------------------------------------------------------


async def test_add_a_reaction_to_one_event(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """A reaction to one launch is stored against it and confirmed privately with its id."""
    eid = await seeded_id(seeded, "kim chaek")
    result = await discord_emulator.invoke(
        "reaction add", {**SAID, "event": str(eid)}, user="moderator"
    )
    assert result.ephemeral
    [reaction] = [r for r in await reactions(seeded) if r.id == new_id(result)]
    assert (reaction.event_id, reaction.actor, reaction.stance) == (eid, "Japan", "condemns")
    assert reaction.actor_kind == "government" and reaction.created_by == MODERATOR_USER_ID
    text = shown(result)
    assert f"Recorded reaction #{reaction.id} · Japan" in text
    assert "🟥 condemns · on event #" in text and "Lodged a protest through Beijing." in text
    assert f"Shown in /reactions and /launch for event #{eid}." in text


async def test_add_a_reaction_to_a_series(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """A reaction to a series of launches keeps its since and until."""
    options = {**SAID, "since": "2024-01-25", "until": "2024-02-02"}
    result = await discord_emulator.invoke("reaction add", options, user="moderator")
    [reaction] = [r for r in await reactions(seeded) if r.id == new_id(result)]
    assert (reaction.event_id, reaction.since, reaction.until) == (None, "2024-01-25", "2024-02-02")
    assert "on the launches of 25 Jan 2024 to 2 Feb 2024" in shown(result)


async def test_add_stores_every_option(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """An analyst's assessment keeps speaker, title, affiliation, quote, source and date."""
    options = {
        "actor": "Ankit Panda", "stance": "assessment", "summary": "Expects more tests.",
        "event": str(await seeded_id(seeded, "jan 29")), "actor_kind": "analyst",
        "speaker": "Ankit Panda", "speaker_title": "Senior fellow",
        "affiliation": "Carnegie Endowment", "quote": "More is coming.",
        "source_url": "https://example.org/panda", "said_on": "2024-01-30",
    }  # fmt: skip
    result = await discord_emulator.invoke("reaction add", options, user="moderator")
    [r] = [r for r in await reactions(seeded) if r.id == new_id(result)]
    assert (r.actor_kind, r.speaker, r.speaker_title, r.affiliation) == (
        "analyst", "Ankit Panda", "Senior fellow", "Carnegie Endowment",
    )  # fmt: skip
    assert (r.quote, r.said_on, r.sources[0].url) == (
        "More is coming.", "2024-01-30", "https://example.org/panda",
    )  # fmt: skip
    assert "Senior fellow, Carnegie Endowment · said 30 Jan 2024" in shown(result)
    assert "> “More is coming.”" in shown(result)


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({}, "give event, or since (and until)"),
        ({"event": "1", "since": "2024-01-25"}, "either an event or a since/until series"),
        ({"since": "2024-02-02", "until": "2024-01-25"}, "swap them"),
        (
            {"since": "2024-01-25", "said_on": "30 Jan"},
            "**said_on**: '30 Jan' is not a date; use YYYY",
        ),
        ({"since": "2024-01-25", "source_url": "example.org"}, "https://"),
        ({"event": "999"}, "can't find event 999"),
    ],
)
async def test_add_with_bad_input_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch, options: dict[str, Any], fix: str
) -> None:
    """Input the bot cannot store is refused privately with how to fix it; nothing is stored."""
    before = await reactions(seeded)
    result = await discord_emulator.invoke("reaction add", {**SAID, **options}, user="moderator")
    assert result.ephemeral and fix in shown(result), shown(result)
    assert await reactions(seeded) == before


# -- /reaction remove ----------------------------------------------------------------------------------


async def test_remove_a_reaction(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """A moderator removes a reaction; the answer shows what was removed."""
    result = await discord_emulator.invoke("reaction remove", {"reaction": "3"}, user="moderator")
    assert result.ephemeral and "Removed reaction #3 · Japan" in shown(result)
    assert 3 not in [r.id for r in await reactions(seeded)]


async def test_remove_by_typed_words_that_match_one_reaction(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Typing "japan grave" and pressing enter without picking still finds the one reaction."""
    result = await discord_emulator.invoke(
        "reaction remove", {"reaction": "japan grave"}, user="moderator"
    )
    assert "Removed reaction #3 · Japan" in shown(result)


async def test_remove_an_unknown_reaction_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A reaction that doesn't exist is answered with where to pick one; nothing changes."""
    before = await reactions(seeded)
    result = await discord_emulator.invoke(
        "reaction remove", {"reaction": "nobody said this"}, user="moderator"
    )
    assert result.ephemeral and "can't find reaction nobody said this" in shown(result)
    assert await reactions(seeded) == before
