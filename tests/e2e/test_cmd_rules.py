"""Rules every command keeps: no pings, data is not markup, limits, errors, guilds, deadlines."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bot.transfer
from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Channel, Emulator, Guild, InvokeResult, Member, Perm
from bot.sandbox.world import (
    ADMIN_USER_ID,
    MEMBER_USER_ID,
    MODERATOR_ROLE_ID,
    MODERATOR_USER_ID,
    SANDBOX_BOT_USER_ID,
    SANDBOX_GUILD_ID,
)
from bot.services import Scope, TimelineFilter
from tests.e2e.support import shown, until

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
PINGS = f"@everyone @here <@{MEMBER_USER_ID}> <@&{MODERATOR_ROLE_ID}>"
NO_MENTIONS = {"parse": []}


def raw(result: InvokeResult) -> str:
    """Everything the answer holds, exactly as Discord received it."""
    parts: list[str] = [result.content or ""]
    for e in result.embeds:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
    return "\n".join(parts)


async def add_event(bot: LaunchWatch, scope: Scope = MOD, **fields: Any) -> int:
    values = {"date": "2024-03-18", "category": "srbm", "summary": "Two SRBMs.", **fields}
    return (await services.add_event(bot.store, scope, values, alert=False)).id


# -- who may use what --------------------------------------------------------------------------------------


def test_moderator_groups_default_to_manage_server(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Discord is told to hide /event, /reaction and /settings from members; reading is open."""
    synced = {c["name"]: c for c in discord_emulator.registry.get(SANDBOX_GUILD_ID)}
    manage_server = str(Perm.MANAGE_GUILD)
    for name in ("event", "reaction", "settings"):
        assert synced[name]["default_member_permissions"] == manage_server, name
    for name in ("timeline", "launch", "reactions", "about", "chart"):
        assert synced[name]["default_member_permissions"] is None, name


# -- mentions ------------------------------------------------------------------------------------------


async def test_mentions_in_data_ping_nobody(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """@everyone, role and user mentions in moderators' text never notify anyone, anywhere."""
    add = {"date": "2024-03-18", "category": "srbm", "summary": PINGS, "name": PINGS[:100]}
    added = await discord_emulator.invoke("event add", add, user="moderator")
    eid = int(re.findall(r"#(\d+)", added.embeds[0]["title"])[0])
    said = {"actor": PINGS[:100], "stance": "condemns", "summary": PINGS, "event": str(eid)}
    answers = [
        added,
        await discord_emulator.invoke("reaction add", said, user="moderator"),
        await discord_emulator.invoke("timeline", {"since": "2024"}, user="member"),
        await discord_emulator.invoke("launch", {"event": str(eid)}, user="member"),
        await discord_emulator.invoke("reactions", {"event": str(eid)}, user="member"),
        await discord_emulator.invoke("settings default-actor", {"actor": PINGS}, user="admin"),
        await discord_emulator.invoke("launch", {"event": PINGS}, user="member"),
    ]
    for result in answers:
        assert result.message is not None
        assert result.message.pings.nobody, result.name
        assert result.message.allowed_mentions == NO_MENTIONS, result.name
        text = raw(result)
        assert "@everyone" not in text and "@here" not in text, result.name
        assert f"<@{MEMBER_USER_ID}>" not in text and f"<@&{MODERATOR_ROLE_ID}>" not in text


# -- markdown ----------------------------------------------------------------------------------------------


async def test_markdown_in_data_cannot_break_the_layout(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Stars, links, headings and code in a summary show as typed and leave the page intact."""
    tricky = "**bold** _it_ `code` [click](https://evil.example) ||spoiler|| ~~x~~"
    await add_event(
        launchwatch,
        name="# Heading",
        launch_site="> quote",
        summary=f"{tricky}\n# not a heading\n- not a list",
        sources=[{"url": "https://example.org/a)b>c", "title": "x](https://evil.example)"}],
    )
    timeline = await discord_emulator.invoke("timeline", {"since": "2024"}, user="member")
    description = timeline.embeds[0]["description"]
    assert "](https://evil.example)" not in description.replace("\\]\\(", "")
    assert description.count("](<") == 1, "only our own link is a link"
    assert "[x\\]\\(https://evil.example\\)](<https://example.org/a%29b%3Ec>)" in description
    assert "SRBM (\\# Heading) · from \\> quote" in description
    eid = int(re.findall(r"`#(\d+)`", description)[0])
    launch = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    summary = launch.embeds[0]["description"]
    assert "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\[click\\]\\(https://evil.example\\)" in summary
    assert "\n\\# not a heading\n\\- not a list" in summary
    assert [f["name"] for f in launch.embeds[0]["fields"]] == [
        "Date", "Facts", "Confidence", "Sources", "Reactions (0)", "Change log (newest first)",
    ]  # fmt: skip


# -- limits ---------------------------------------------------------------------------------------------------


async def test_overlong_text_is_cut_cleanly_everywhere(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Text at every field's limit is cut with "…" in every answer instead of failing with a 400."""
    long_url = "https://example.org/" + "a" * 268  # 290 with its number: drawn as a link
    longest = "https://example.org/" + "a" * 478  # 500, the most a URL may hold
    sources = [{"url": f"{long_url}{n:02d}", "title": "T" * 300} for n in range(5)]
    sources += [{"url": f"{longest}{n:02d}", "title": "T" * 300} for n in range(5)]
    fields = {
        "name": "N" * 100, "launch_site": "S" * 200, "landing_area": "L" * 200,
        "claimed": "C" * 300, "overseen_by": "O" * 200, "summary": "word " * 400,
        "actor": "A" * 100, "region": "R" * 64, "confidence": "confirmed", "sources": sources,
    }  # fmt: skip
    ids = [await add_event(launchwatch, date=f"2024-03-{d:02d}", **fields) for d in range(1, 13)]
    for n in range(12):
        said = {
            "actor": f"{n:02d}" + "A" * 98, "stance": "condemns", "summary": "s" * 2000,
            "quote": "q" * 1500, "speaker": "P" * 100, "speaker_title": "T" * 200,
            "affiliation": "F" * 200, "event_id": ids[0], "sources": sources,
        }  # fmt: skip
        await services.add_reaction(launchwatch.store, MOD, said)
    for n in range(12):
        await services.edit_event(launchwatch.store, MOD, ids[0], "name", f"{n:02d}" + "M" * 98)
    answers = [
        await discord_emulator.invoke("timeline", {"since": "2024"}, user="member"),
        await discord_emulator.invoke("launch", {"event": str(ids[0])}, user="member"),
        await discord_emulator.invoke("reactions", {"event": str(ids[0])}, user="member"),
        await discord_emulator.invoke("launch", {"event": "x" * 5000}, user="member"),
        await discord_emulator.invoke(
            "event add", {"date": "2024-03-13", "category": "srbm", "summary": "z" * 2000},
            user="moderator",
        ),
    ]  # fmt: skip
    for result in answers:
        assert result.status == 200 and not result.late, result.name
    for result in answers[:4]:
        assert "…" in raw(result), result.name
    assert all(len(f["value"]) <= 1024 for f in answers[1].embeds[0]["fields"])
    assert answers[0].embeds[0]["description"].endswith("\n…"), "cut between lines"
    assert len(answers[3].content or "") < 300
    assert discord_emulator.spec_errors == []


# -- unexpected errors --------------------------------------------------------------------------------------------


async def test_unexpected_error_apologises_with_an_id_that_is_logged(
    discord_emulator: Emulator,
    seeded: LaunchWatch,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug gets a private apology with an error id; the log has the same id and traceback."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database exploded at /srv/secret/path")

    monkeypatch.setattr(services, "timeline", broken)
    with caplog.at_level(logging.ERROR, logger="launchwatch"):
        result = await discord_emulator.invoke("timeline", user="member")
    assert result.ephemeral
    error_id = re.findall(r"error id: `([0-9a-f]{8})`", result.content or "")[0]
    assert "Sorry, something went wrong on our side." in (result.content or "")
    assert "exploded" not in raw(result) and "Traceback" not in raw(result)
    [record] = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.exc_info is not None and "/timeline" in record.getMessage()
    assert discord_emulator.messages("general") == [], "nothing reached the channel"


async def test_unexpected_error_behind_a_button_apologises_too(
    discord_emulator: Emulator,
    launchwatch: LaunchWatch,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug while turning a page gets the same private apology and logged id."""
    for day in range(1, 13):
        await add_event(launchwatch, date=f"2024-03-{day:02d}")
    result = await discord_emulator.invoke("timeline", {"since": "2024"}, user="member")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "timeline", broken)
    with caplog.at_level(logging.ERROR, logger="launchwatch"):
        clicked = await discord_emulator.click(result, "page:next", user="member")
    assert clicked.ephemeral and "error id" in (clicked.content or "")
    error_id = re.findall(r"`([0-9a-f]{8})`", clicked.content or "")[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
    assert "Page 1 of 2" in shown(result), "the page itself is untouched"


async def test_unexpected_error_in_an_option_apologises_too(
    discord_emulator: Emulator,
    seeded: LaunchWatch,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug while reading an option is not disguised as bad input: apology, id, traceback."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "get_event", broken)
    with caplog.at_level(logging.ERROR, logger="launchwatch"):
        result = await discord_emulator.invoke("launch", {"event": "2"}, user="member")
    assert result.ephemeral and "Sorry, something went wrong" in (result.content or "")
    error_id = re.findall(r"`([0-9a-f]{8})`", result.content or "")[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


async def test_stale_command_gets_a_clear_answer(
    discord_emulator: Emulator, launchwatch: LaunchWatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A command Discord still shows but the bot no longer has is answered, not left hanging."""
    synced = discord_emulator.registry.get(SANDBOX_GUILD_ID)
    ghost = {"name": "ghost", "description": "Removed in the last release", "type": 1}
    discord_emulator.registry.put(SANDBOX_GUILD_ID, [*synced, ghost])
    with caplog.at_level(logging.WARNING, logger="launchwatch"):
        result = await discord_emulator.invoke("ghost", user="member")
    assert result.ephemeral and "changed since Discord last loaded it" in (result.content or "")
    assert "error id" not in (result.content or "")
    assert any("stale" in r.getMessage() for r in caplog.records)


# -- the 3-second deadline ----------------------------------------------------------------------------------


async def test_slow_export_defers_before_the_deadline(
    discord_emulator: Emulator, seeded: LaunchWatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export however slow still arrives: the bot defers before it starts the work. The
    export here cannot even begin until Discord has been told the bot is thinking."""
    export = bot.transfer.export_data

    def deferred() -> bool:
        return any(
            r.route.endswith("/callback") and r.status < 300 and (r.body or {}).get("type") == 5
            for r in discord_emulator.requests
        )

    async def after_the_deferral(*args: Any, **kwargs: Any) -> str:
        await until(deferred, timeout=10.0)  # longer than Discord's 3 s: no deferral, no answer
        return await export(*args, **kwargs)

    monkeypatch.setattr(bot.transfer, "export_data", after_the_deferral)
    result = await discord_emulator.invoke("event export", {"format": "csv"}, user="moderator")
    assert result.deferred and not result.late
    assert result.message is not None and len(result.message.attachments) == 1
    assert discord_emulator.late_interactions == []


async def test_every_command_answers_well_inside_the_deadline(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Every command gives its first answer within Discord's 3 seconds (how fast they are at
    scale is measured in bench/, not asserted here)."""
    for day in range(1, 29):
        await add_event(seeded, date=f"2023-02-{day:02d}")
    said = {"actor": "Japan", "stance": "condemns", "summary": "x", "event": "1"}
    calls: list[tuple[str, dict[str, Any], str]] = [
        ("timeline", {}, "member"), ("timeline", {"since": "2023"}, "member"),
        ("launch", {"event": "2"}, "member"), ("reactions", {"event": "2"}, "member"),
        ("about", {}, "member"), ("chart timeline", {}, "member"), ("chart map", {}, "member"),
        ("event add", {"date": "2024-03-01", "category": "srbm", "summary": "x"}, "moderator"),
        ("event edit", {"event": "1", "field": "count", "value": "3"}, "moderator"),
        ("event source", {"event": "1", "title": "NHK"}, "moderator"),
        ("event retract", {"event": "3", "reason": "x"}, "moderator"),
        ("event export", {"format": "json"}, "moderator"),
        ("reaction add", said, "moderator"), ("reaction remove", {"reaction": "1"}, "moderator"),
        ("settings timezone", {"tz": "UTC"}, "admin"),
    ]  # fmt: skip
    for command, options, user in calls:
        result = await discord_emulator.invoke(command, options, user=user)
        assert not result.late and result.status == 200, command
    choices = await discord_emulator.autocomplete("launch", {"event": "2023"}, focused="event")
    assert len(choices) == 25
    assert discord_emulator.late_interactions == []


# -- guilds: own events, publishers' events, nobody else's ---------------------------------------------------

PUBLISHER = SANDBOX_GUILD_ID + 100
STRANGER = SANDBOX_GUILD_ID + 200


@pytest.fixture
async def network(discord_emulator: Emulator, tmp_path: Path) -> AsyncIterator[LaunchWatch]:
    """The bot in three servers: the sandbox, a publisher guild, and an unrelated server.

    Each holds one launch: the sandbox's on 1 March, the publisher's on 2 March, the
    stranger's on 3 March.
    """
    from bot.sandbox.harness import running_bot, sandbox_config

    world = discord_emulator.world
    for guild_id, name in ((PUBLISHER, "LaunchWatch HQ"), (STRANGER, "Elsewhere")):
        guild = Guild(guild_id, name, owner_id=ADMIN_USER_ID)
        guild.channels[guild_id + 1] = Channel(guild_id + 1, guild_id, "general")
        for user_id in (SANDBOX_BOT_USER_ID, ADMIN_USER_ID, MEMBER_USER_ID):
            user = world.user(user_id)
            assert user is not None
            guild.members[user_id] = Member(user)
        world.add_guild(guild)
    config = sandbox_config(tmp_path / "network.db")
    config = config.replace("network", "publisher_guilds", [PUBLISHER])
    config = config.replace("discord", "dev_guilds", [SANDBOX_GUILD_ID, PUBLISHER, STRANGER])
    async with running_bot(config, discord_emulator) as bot:
        await discord_emulator.wait_synced(PUBLISHER)
        await discord_emulator.wait_synced(STRANGER)
        for guild_id, day in ((SANDBOX_GUILD_ID, 1), (PUBLISHER, 2), (STRANGER, 3)):
            scope = Scope(guild_id, ADMIN_USER_ID, (PUBLISHER,))
            await add_event(bot, scope, date=f"2024-03-0{day}", summary=f"Launch {day}.")
        yield bot


def days(result: InvokeResult) -> list[str]:
    return re.findall(r"\*\*(\d+) Mar 2024\*\*", result.embeds[0]["description"])


async def test_a_guild_sees_its_own_and_the_publishers_events(
    discord_emulator: Emulator, network: LaunchWatch
) -> None:
    """The sandbox's timeline holds its launch and the publisher's, not the stranger's."""
    here = await discord_emulator.invoke("timeline", {"since": "2024"}, user="member")
    assert days(here) == ["1", "2"]
    there = await discord_emulator.invoke(
        "timeline", {"since": "2024"}, user="member", guild=STRANGER
    )
    assert days(there) == ["2", "3"]
    hq = await discord_emulator.invoke(
        "timeline", {"since": "2024"}, user="member", guild=PUBLISHER
    )
    assert days(hq) == ["2"]


async def test_another_guilds_event_cannot_be_found(
    discord_emulator: Emulator, network: LaunchWatch
) -> None:
    """The stranger's launch is neither offered nor shown in the sandbox."""
    choices = await discord_emulator.autocomplete("launch", {"event": "2024-03"}, focused="event")
    assert [c["name"] for c in choices] == ["2024-03-02 · SRBM", "2024-03-01 · SRBM"]
    result = await discord_emulator.invoke("launch", {"event": "3"}, user="member")
    assert result.ephemeral and "can't find event 3" in shown(result)


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("event edit", {"event": "2", "field": "count", "value": "4"}),
        ("event retract", {"event": "2", "reason": "Not ours to say."}),
        ("event source", {"event": "2", "title": "NHK"}),
    ],
)
async def test_nobody_changes_a_publishers_event(
    discord_emulator: Emulator, network: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """The publisher's launch is read-only to the sandbox's moderators; nothing changes."""
    publisher = Scope(PUBLISHER, ADMIN_USER_ID)
    before = (await services.get_event(network.store, publisher, 2)).as_record()
    result = await discord_emulator.invoke(command, options, user="moderator")
    assert result.ephemeral
    assert "belongs to another server's feed; only its moderators can change it" in shown(result)
    assert (await services.get_event(network.store, publisher, 2)).as_record() == before


async def test_nobody_changes_a_strangers_event(
    discord_emulator: Emulator, network: LaunchWatch
) -> None:
    """An unrelated server's launch cannot even be named by the sandbox's moderators."""
    options = {"event": "3", "reason": "x"}
    result = await discord_emulator.invoke("event retract", options, user="moderator")
    assert result.ephemeral and "can't find event 3" in shown(result)
    stranger = Scope(STRANGER, ADMIN_USER_ID)
    assert (await services.get_event(network.store, stranger, 3)).confidence == "reported"


async def test_export_holds_only_the_guilds_own_events(
    discord_emulator: Emulator, network: LaunchWatch
) -> None:
    """A moderator's export is this server's events, not the publisher's it can read."""
    result = await discord_emulator.invoke("event export", {"format": "csv"}, user="moderator")
    assert result.message is not None
    text = result.message.attachments[0].text
    assert "Launch 1." in text and "Launch 2." not in text and "Launch 3." not in text
    sandbox = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID, (PUBLISHER,))
    events = await services.list_events(network.store, sandbox, TimelineFilter())
    assert [e.summary for e in events] == ["Launch 1.", "Launch 2."]
