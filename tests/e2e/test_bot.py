"""The LaunchWatch process end to end: the real bot, its commands and the emulator."""

from __future__ import annotations

import json

from bot.client import LaunchWatch
from bot.sandbox import SANDBOX_GUILD_ID, Emulator
from bot.sandbox.spec import SpecValidator, normalize

SYNC_ROUTE = "/applications/{application_id}/guilds/{guild_id}/commands"


def test_commands_are_registered_per_cog(launchwatch: LaunchWatch) -> None:
    """Every family of commands is loaded from commands/."""
    names = {c.name for c in launchwatch.tree.get_commands()}
    assert {"about", "timeline", "launch", "reactions", "event", "reaction", "settings"} <= names


async def test_every_registered_command_passes_the_contract(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """The command sync validates against Discord's contract, and every option has help text."""
    puts = [
        r for r in discord_emulator.requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert puts and all(r.status == 200 for r in puts)
    assert any(f"/guilds/{SANDBOX_GUILD_ID}/commands" in r.path for r in puts), (
        "synced to the dev guild"
    )
    body = puts[-1].body
    assert isinstance(body, list) and len(body) >= 7
    assert SpecValidator().check("PUT", SYNC_ROUTE, normalize(body)) == {}
    for command in body:
        assert 0 < len(command["description"]) <= 100
        for option in command.get("options", []):
            assert option["description"], f"/{command['name']} {option['name']} has no help text"
            for sub in option.get("options", []):
                assert sub["description"], f"/{command['name']} {option['name']} {sub['name']}"


async def test_about_round_trip(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """/about answers privately with the version and what the store holds."""
    result = await discord_emulator.invoke("about")
    assert result.ephemeral
    embed = result.embeds[0]
    assert embed["title"].startswith("LaunchWatch ")
    assert "4 events · 8 reactions" in json.dumps(embed, ensure_ascii=False)


def test_intents_are_guilds_only(launchwatch: LaunchWatch) -> None:
    """The bot asks for the guilds intent and no privileged intents."""
    intents = launchwatch.intents
    assert intents.guilds
    assert not (intents.members or intents.presences or intents.message_content)
