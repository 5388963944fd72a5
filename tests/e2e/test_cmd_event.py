"""/event add, edit, retract, source and export end to end: moderators, members, bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest

import bot.transfer
from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator, InvokeResult
from bot.models import Event
from bot.sandbox.world import MEMBER_USER_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope, TimelineFilter
from tests.e2e.support import shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
ADD = {"date": "2024-03-18", "category": "srbm", "summary": "Two SRBMs fired east."}


async def snapshot(bot: LaunchWatch) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every event (retracted too) and reaction the sandbox guild holds, as records."""
    events = await services.list_events(bot.store, MOD, TimelineFilter(), include_retracted=True)
    from bot.services.reactions import all_reactions

    reactions = await all_reactions(bot.store, MOD)
    return [e.as_record() for e in events], [r.as_record() for r in reactions]


async def stored(bot: LaunchWatch, event_id: int) -> Event:
    return await services.get_event(bot.store, MOD, event_id)


async def seeded_id(bot: LaunchWatch, words: str) -> int:
    return (await services.search_events(bot.store, MOD, words, limit=1))[0].id


def new_id(result: InvokeResult) -> int:
    match = re.search(r"event #(\d+)", result.embeds[0]["title"])
    assert match, result.embeds[0]["title"]
    return int(match.group(1))


# Every /event subcommand with valid options (event "1" is the seed's first launch).
EVERY_EVENT_COMMAND = [
    ("event add", ADD),
    ("event edit", {"event": "1", "field": "distance_km", "value": "300"}),
    ("event retract", {"event": "1", "reason": "Never happened."}),
    ("event source", {"event": "1", "url": "https://example.org/x"}),
    ("event export", {"format": "json"}),
]


# -- who may use /event -----------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "options"), EVERY_EVENT_COMMAND)
async def test_member_cannot_use_event_commands(
    discord_emulator: Emulator, seeded: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """Discord itself refuses /event to a member without Manage Server; nothing changes."""
    before = await snapshot(seeded)
    result = await discord_emulator.invoke(command, options, user="member")
    assert result.refused and "MANAGE_GUILD" in result.refusal
    assert await snapshot(seeded) == before


@pytest.mark.parametrize(("command", "options"), EVERY_EVENT_COMMAND)
async def test_stale_registration_is_refused_by_the_bot(
    discord_emulator: Emulator, seeded: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """A member Discord lets through anyway is refused privately, told what permission it takes."""
    discord_emulator.world.allow_command(SANDBOX_GUILD_ID, "event", user_id=MEMBER_USER_ID)
    before = await snapshot(seeded)
    result = await discord_emulator.invoke(command, options, user="member")
    assert not result.refused and result.ephemeral
    assert "You need the **Manage Server** permission or this server's moderator role" in (
        result.content or ""
    )
    assert await snapshot(seeded) == before


async def test_unregistered_moderator_role_is_refused(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Until /settings moderator-role names their role, a moderator is refused with the fix."""
    await services.update_settings(seeded.store, SANDBOX_GUILD_ID, moderator_role_ids=[])
    before = await snapshot(seeded)
    result = await discord_emulator.invoke("event add", ADD, user="moderator")
    assert result.ephemeral and "/settings moderator-role" in (result.content or "")
    assert await snapshot(seeded) == before


async def test_manage_server_is_enough_without_the_role(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """An admin with Manage Server records events whether or not a moderator role is set."""
    await services.update_settings(launchwatch.store, SANDBOX_GUILD_ID, moderator_role_ids=[])
    result = await discord_emulator.invoke("event add", ADD, user="admin")
    assert (await stored(launchwatch, new_id(result))).summary == ADD["summary"]


# -- /event add -------------------------------------------------------------------------------------


async def test_add_answers_with_the_event_as_stored_and_its_id(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A moderator's new event is confirmed privately with its id and what was stored."""
    result = await discord_emulator.invoke("event add", ADD, user="moderator")
    assert result.ephemeral
    event = await stored(launchwatch, new_id(result))
    assert (event.date.iso(), event.category, event.actor) == ("2024-03-18", "srbm", "DPRK")
    assert event.created_by == MODERATOR_USER_ID
    text = shown(result)
    assert f"Recorded event #{event.id}" in text and "**18 Mar 2024** · SRBM" in text
    assert "Two SRBMs fired east." in text and "Actor: DPRK" in text
    assert f"/event edit event:{event.id}" in text


async def test_add_stores_every_option(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Every option of /event add lands in its field, the source included."""
    options = {
        **ADD, "date": "2024-03-18T07:44Z", "actor": "DPRK", "name": "Hwasong-11", "count": 2,
        "platform": "tel", "site": "Pyongyang Sunan", "landing_area": "Sea of Japan",
        "distance_km": 350, "apogee_km": 50.5, "outcome": "success", "claimed": "super-large",
        "overseen_by": "Kim Jong Un", "region": "korean-peninsula", "confidence": "confirmed",
        "source_url": "https://example.org/jcs", "source_title": "JCS statement",
    }  # fmt: skip
    result = await discord_emulator.invoke("event add", options, user="moderator")
    event = await stored(launchwatch, new_id(result))
    assert event.date.iso() == "2024-03-18T07:44Z" and event.date.precision == "minute"
    record = event.as_record()
    for key, value in (
        ("name", "Hwasong-11"), ("count", 2), ("platform", "tel"),
        ("launch_site", "Pyongyang Sunan"), ("landing_area", "Sea of Japan"),
        ("distance_km", 350), ("apogee_km", 50.5), ("outcome", "success"),
        ("claimed", "super-large"), ("overseen_by", "Kim Jong Un"), ("confidence", "confirmed"),
    ):  # fmt: skip
        assert record[key] == value, key
    assert [(s.url, s.title) for s in event.sources] == [
        ("https://example.org/jcs", "JCS statement")
    ]
    assert "[JCS statement](<https://example.org/jcs>)" in result.embeds[0]["description"]


async def test_add_takes_the_actor_from_settings(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Without an actor, /event add records the server's default actor."""
    await services.update_settings(launchwatch.store, SANDBOX_GUILD_ID, default_actor="Iran")
    result = await discord_emulator.invoke("event add", ADD, user="moderator")
    assert (await stored(launchwatch, new_id(result))).actor == "Iran"


async def test_add_with_a_bad_date_names_the_forms(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A date the bot cannot read is refused privately with the accepted forms; nothing stored."""
    before = await snapshot(launchwatch)
    result = await discord_emulator.invoke(
        "event add", {**ADD, "date": "18/03/2024"}, user="moderator"
    )
    assert result.ephemeral and "YYYY, YYYY-MM, YYYY-MM-DD" in shown(result)
    assert await snapshot(launchwatch) == before


async def test_add_confirmed_without_a_source_names_the_fix(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A confirmed event needs a source; the answer says to add one; nothing is stored."""
    before = await snapshot(launchwatch)
    result = await discord_emulator.invoke(
        "event add", {**ADD, "confidence": "confirmed"}, user="moderator"
    )
    assert result.ephemeral and "add source_url or source_title" in shown(result)
    assert await snapshot(launchwatch) == before


async def test_add_with_a_bad_link_names_the_fix(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A source URL that isn't a web address is refused with the form it needs."""
    before = await snapshot(launchwatch)
    result = await discord_emulator.invoke(
        "event add", {**ADD, "source_url": "javascript:alert(1)"}, user="moderator"
    )
    assert result.ephemeral and "https://" in shown(result)
    assert await snapshot(launchwatch) == before


# -- /event edit ------------------------------------------------------------------------------------


async def test_edit_corrects_one_field(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """A moderator corrects the distance; the answer names what changed and the new revision."""
    eid = await seeded_id(seeded, "kim chaek")
    result = await discord_emulator.invoke(
        "event edit", {"event": str(eid), "field": "distance_km", "value": "180"}, user="moderator"
    )
    assert result.ephemeral
    text = shown(result)
    assert f"Corrected event #{eid}" in text and "Changed: distance km · revision 2" in text
    assert (await stored(seeded, eid)).distance_km == 180


async def test_edit_to_the_same_value_changes_nothing(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Setting a field to what it already says is answered as such, with no new revision."""
    eid = await seeded_id(seeded, "kim chaek")
    result = await discord_emulator.invoke(
        "event edit", {"event": str(eid), "field": "distance_km", "value": "150"}, user="moderator"
    )
    assert "already says that" in shown(result) and "Nothing changed." in shown(result)
    assert (await stored(seeded, eid)).revision == 1


async def test_edit_with_a_dash_clears_an_optional_field(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A value of "-" empties an optional field such as the landing area."""
    eid = await seeded_id(seeded, "kim chaek")
    await discord_emulator.invoke(
        "event edit", {"event": str(eid), "field": "landing_area", "value": "-"}, user="moderator"
    )
    assert (await stored(seeded, eid)).landing_area is None


@pytest.mark.parametrize(
    ("field", "value", "fix"),
    [
        ("count", "many", "not a whole number"),
        ("distance_km", "-5", "at least 0"),
        ("category", "rocket", "use one of cruise_missile"),
        ("date", "last tuesday", "YYYY, YYYY-MM, YYYY-MM-DD"),
        ("confidence", "confirmed", "add one with /event source"),
        ("summary", "-", "summary is required"),
    ],
)
async def test_edit_with_a_bad_value_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch, field: str, value: str, fix: str
) -> None:
    """A value the field cannot hold is refused privately with how to fix it; nothing changes."""
    eid = (await services.add_event(seeded.store, MOD, ADD, alert=False)).id  # no source
    before = await snapshot(seeded)
    options = {"event": str(eid), "field": field, "value": value}
    result = await discord_emulator.invoke("event edit", options, user="moderator")
    assert result.ephemeral and fix in shown(result), shown(result)
    assert await snapshot(seeded) == before


async def test_edit_of_an_unknown_event_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An event id that doesn't exist is answered with where to pick one."""
    options = {"event": "4242", "field": "name", "value": "x"}
    result = await discord_emulator.invoke("event edit", options, user="moderator")
    assert result.ephemeral and "can't find event 4242" in shown(result)


# -- /event retract -----------------------------------------------------------------------------------


async def test_retract_marks_the_event_and_keeps_the_reason(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A retraction is confirmed with its reason, and the event is stored as retracted."""
    eid = await seeded_id(seeded, "jan 31")
    options = {"event": str(eid), "reason": "It was artillery."}
    result = await discord_emulator.invoke("event retract", options, user="moderator")
    assert result.ephemeral and f"Retracted event #{eid}" in shown(result)
    assert "**Reason:** It was artillery." in shown(result)
    event = await stored(seeded, eid)
    assert (event.confidence, event.retraction_reason) == ("retracted", "It was artillery.")


async def test_retract_twice_says_it_already_is(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Retracting a retracted event says so, with the first reason; nothing changes."""
    eid = await seeded_id(seeded, "jan 31")
    await services.retract_event(seeded.store, MOD, eid, "It was artillery.")
    before = await snapshot(seeded)
    options = {"event": str(eid), "reason": "Again."}
    result = await discord_emulator.invoke("event retract", options, user="moderator")
    assert result.ephemeral and "already retracted (It was artillery.)" in shown(result)
    assert await snapshot(seeded) == before


# -- /event source -------------------------------------------------------------------------------------


async def test_source_is_added_to_the_event(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A new source is stored and the answer counts the event's sources."""
    eid = await seeded_id(seeded, "kim chaek")
    options = {
        "event": str(eid),
        "url": "https://example.org/nhk",
        "title": "NHK",
        "publisher": "NHK",
    }
    result = await discord_emulator.invoke("event source", options, user="moderator")
    assert result.ephemeral and "2 sources · revision 2" in shown(result)
    urls = [s.url for s in (await stored(seeded, eid)).sources]
    assert urls == [None, "https://example.org/nhk"]


async def test_source_without_anything_names_the_fix(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A source needs a link, a title or a publisher; the answer says so; nothing changes."""
    eid = await seeded_id(seeded, "kim chaek")
    before = await snapshot(seeded)
    result = await discord_emulator.invoke("event source", {"event": str(eid)}, user="moderator")
    assert result.ephemeral and "needs a URL, a title or a publisher" in shown(result)
    assert await snapshot(seeded) == before


async def test_same_source_twice_is_refused(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Citing the same source again is refused, not duplicated."""
    eid = await seeded_id(seeded, "kim chaek")
    options = {"event": str(eid), "title": "North Korea cruise missile tests (AI-written article)"}
    result = await discord_emulator.invoke("event source", options, user="moderator")
    assert result.ephemeral and "already cites that source" in shown(result)


# -- /event export --------------------------------------------------------------------------------------


async def test_export_json_attaches_events_and_reactions(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """JSON export hands the moderator a file with the server's events and reactions."""
    result = await discord_emulator.invoke("event export", {"format": "json"}, user="moderator")
    assert result.deferred and result.ephemeral and result.message is not None
    [file] = result.message.attachments
    assert file.filename == "launchwatch-events.json"
    doc = json.loads(file.text)
    assert len(doc["events"]) == 4 and len(doc["reactions"]) == 8
    assert doc["events"][0]["external_id"] == "seed:2024-01-25"
    assert "db import FILE --format json" in (result.content or "")
    assert discord_emulator.messages("general") == [], "nothing posted in the channel"


async def test_export_csv_has_one_row_per_event(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """CSV export is the events, one row each, in `db export`'s columns."""
    result = await discord_emulator.invoke("event export", {"format": "csv"}, user="moderator")
    assert result.message is not None
    [file] = result.message.attachments
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert file.filename == "launchwatch-events.csv" and len(rows) == 4
    assert rows[3]["launch_site"] == "Kim Chaek" and rows[3]["distance_km"] == "150.0"


async def test_export_too_big_to_attach_says_how_else_to_get_it(
    discord_emulator: Emulator, seeded: LaunchWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export over Discord's upload limit is not attempted; the answer names the CLI instead."""

    async def huge(*args: Any, **kwargs: Any) -> str:
        return "x" * (10 * 1024 * 1024 + 1)

    monkeypatch.setattr(bot.transfer, "export_data", huge)
    result = await discord_emulator.invoke("event export", {"format": "csv"}, user="moderator")
    assert result.ephemeral and result.message is not None and not result.message.attachments
    assert "more than the 10.0 MB Discord lets me attach" in (result.content or "")
    assert f"db export --format csv --guild {SANDBOX_GUILD_ID}" in (result.content or "")
