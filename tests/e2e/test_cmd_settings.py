"""/settings end to end: only Manage Server changes them, at Discord's gate and at run time."""

from __future__ import annotations

from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator
from bot.models import GuildSettings
from bot.sandbox.world import ALERTS_CHANNEL_ID, MEMBER_USER_ID, MODERATOR_ROLE_ID, SANDBOX_GUILD_ID

EVERY_SETTING = [
    ("settings moderator-role", {"role": "Moderator"}),
    ("settings timezone", {"tz": "Asia/Seoul"}),
    ("settings default-actor", {"actor": "Iran"}),
    ("settings log-channel", {"channel": "#alerts"}),
]


async def settings(bot: LaunchWatch) -> GuildSettings:
    return await services.get_settings(bot.store, SANDBOX_GUILD_ID)


# -- who may change settings --------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "options"), EVERY_SETTING)
@pytest.mark.parametrize("user", ["member", "moderator"])
async def test_only_manage_server_passes_discords_gate(
    discord_emulator: Emulator,
    launchwatch: LaunchWatch,
    command: str,
    options: dict[str, Any],
    user: str,
) -> None:
    """Discord refuses /settings to members and moderators alike; nothing changes."""
    before = await settings(launchwatch)
    result = await discord_emulator.invoke(command, options, user=user)
    assert result.refused and "MANAGE_GUILD" in result.refusal
    assert await settings(launchwatch) == before


@pytest.mark.parametrize(("command", "options"), EVERY_SETTING)
async def test_moderator_role_is_not_enough_at_run_time(
    discord_emulator: Emulator, launchwatch: LaunchWatch, command: str, options: dict[str, Any]
) -> None:
    """Opened to the moderator role under Integrations, /settings still refuses a moderator."""
    discord_emulator.world.allow_command(SANDBOX_GUILD_ID, "settings", role_id=MODERATOR_ROLE_ID)
    before = await settings(launchwatch)
    result = await discord_emulator.invoke(command, options, user="moderator")
    assert result.ephemeral
    assert result.content == (
        "You need the **Manage Server** permission to use this command. Ask a server admin."
    )
    assert await settings(launchwatch) == before


async def test_stale_registration_refuses_a_member(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A member let through by a stale grant is refused privately, and nothing changes."""
    discord_emulator.world.allow_command(SANDBOX_GUILD_ID, "settings", user_id=MEMBER_USER_ID)
    before = await settings(launchwatch)
    result = await discord_emulator.invoke("settings timezone", {"tz": "UTC"}, user="member")
    assert result.ephemeral and "**Manage Server**" in (result.content or "")
    assert await settings(launchwatch) == before


# -- what each setting does ------------------------------------------------------------------------------


async def test_moderator_role_opens_event_commands_and_names_the_step_left(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Naming the role lets its members record events, and the admin is told about Integrations."""
    await services.update_settings(launchwatch.store, SANDBOX_GUILD_ID, moderator_role_ids=[])
    add = {"date": "2024-03-18", "category": "srbm", "summary": "Two SRBMs."}
    refused = await discord_emulator.invoke("event add", add, user="moderator")
    assert refused.ephemeral and "moderator role" in (refused.content or "")
    result = await discord_emulator.invoke(
        "settings moderator-role", {"role": "Moderator"}, user="admin"
    )
    assert result.ephemeral
    assert f"Members with <@&{MODERATOR_ROLE_ID}> may now use" in (result.content or "")
    assert "Server Settings → Integrations → LaunchWatch" in (result.content or "")
    assert result.message is not None and result.message.pings.nobody, "the role is not pinged"
    assert (await settings(launchwatch)).moderator_role_ids == [MODERATOR_ROLE_ID]
    allowed = await discord_emulator.invoke("event add", add, user="moderator")
    assert allowed.embeds and allowed.embeds[0]["title"].startswith("Recorded event #")


async def test_timezone_is_stored(discord_emulator: Emulator, launchwatch: LaunchWatch) -> None:
    """An IANA time zone is kept and confirmed."""
    result = await discord_emulator.invoke("settings timezone", {"tz": "Asia/Seoul"}, user="admin")
    assert result.ephemeral and "Asia/Seoul" in (result.content or "")
    assert (await settings(launchwatch)).timezone == "Asia/Seoul"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "America", "KST+9"])
async def test_unknown_timezone_names_the_fix(
    discord_emulator: Emulator, launchwatch: LaunchWatch, tz: str
) -> None:
    """A time zone that doesn't exist is refused with an example of one that does."""
    before = await settings(launchwatch)
    result = await discord_emulator.invoke("settings timezone", {"tz": tz}, user="admin")
    assert result.ephemeral and "IANA name such as Asia/Seoul" in (result.content or "")
    assert await settings(launchwatch) == before


async def test_default_actor_is_stored(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """The default actor is kept and confirmed with what /event add will now do."""
    result = await discord_emulator.invoke(
        "settings default-actor", {"actor": "  Iran  "}, user="admin"
    )
    assert "/event add` now records **Iran**" in (result.content or "")
    assert (await settings(launchwatch)).default_actor == "Iran"


async def test_log_channel_is_stored(discord_emulator: Emulator, launchwatch: LaunchWatch) -> None:
    """The log channel is kept and named in the answer."""
    result = await discord_emulator.invoke(
        "settings log-channel", {"channel": "#alerts"}, user="admin"
    )
    assert f"<#{ALERTS_CHANNEL_ID}>" in (result.content or "")
    assert (await settings(launchwatch)).log_channel_id == ALERTS_CHANNEL_ID


async def test_timezone_autocompletes(discord_emulator: Emulator, launchwatch: LaunchWatch) -> None:
    """Typing part of a city offers the matching IANA names."""
    choices = await discord_emulator.autocomplete(
        "settings timezone", {"tz": "asia seoul"}, focused="tz", user="admin"
    )
    assert [c["value"] for c in choices] == ["Asia/Seoul"]
    many = await discord_emulator.autocomplete(
        "settings timezone", {"tz": "america/"}, focused="tz", user="admin"
    )
    assert len(many) == 25 and all(c["value"].startswith("America/") for c in many)


async def test_everyone_cannot_be_the_moderator_role(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Naming @everyone as the moderator role is refused with the fix; nothing changes."""
    before = await settings(launchwatch)
    result = await discord_emulator.invoke(
        "settings moderator-role", {"role": "@everyone"}, user="admin"
    )
    assert result.ephemeral and "pick a role only moderators hold" in (result.content or "")
    assert result.message is not None and result.message.pings.nobody
    assert await settings(launchwatch) == before
