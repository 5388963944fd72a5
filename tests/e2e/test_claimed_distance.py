"""The claimed distance, end to end: what the launching state says a launch flew, shown
beside what others assessed in alerts and /launch, edited with /event edit, and a fact
whose change corrects the alerts already sent."""

from __future__ import annotations

import re
from typing import Any

from bot import services
from bot.client import LaunchWatch
from bot.emulator.api import Emulator
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.services import Scope
from tests.e2e.support import settled, shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
EVENT = {
    "date": "2024-03-18",
    "category": "irbm",
    "summary": "One IRBM over the sea.",
    "landing_area": "Sea of Japan",
    "distance_km": 1000,
}


def embed_field(embed: dict[str, Any], name: str) -> str:
    """One field's value as a reader sees it (Markdown escapes undone)."""
    [value] = [f["value"] for f in embed.get("fields", []) if f["name"] == name]
    return re.sub(r"\\(.)", r"\1", value)


async def alerted(bot: LaunchWatch, emulator: Emulator, **fields: Any) -> int:
    """An event added with #alerts subscribed, its alert delivered; the event's id."""
    await services.subscribe(bot.store, MOD, emulator.channel_id("alerts"))
    event = await services.add_event(bot.store, MOD, {**EVENT, **fields})
    await settled(bot.store)
    return event.id


async def test_the_alert_and_launch_show_the_claim_beside_the_assessment(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """ "North Korea claims 1,200 km, Japan assessed 1,000 km": both figures, side by side."""
    eid = await alerted(launchwatch, discord_emulator, claimed_distance_km=1200)

    [alert] = discord_emulator.messages("alerts")
    flight = embed_field(alert.embeds[0], "Flight")
    assert flight == "To Sea of Japan · 1,000 km · claimed 1,200 km"
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    [facts] = [f["value"] for f in result.embeds[0]["fields"] if f["name"] == "Facts"]
    lines = facts.splitlines()
    distance = lines.index("Distance: 1,000 km")
    assert lines[distance + 1] == "Claimed distance: 1,200 km"


async def test_without_a_claim_nothing_about_it_is_shown(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    eid = await alerted(launchwatch, discord_emulator)

    [alert] = discord_emulator.messages("alerts")
    assert embed_field(alert.embeds[0], "Flight") == "To Sea of Japan · 1,000 km"
    result = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    assert "laimed distance" not in shown(result)


async def test_editing_the_claim_corrects_the_alert_with_a_notice(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A moderator adds the claim with /event edit: the alert is edited in place and the
    channel is told what changed, as for any fact."""
    eid = await alerted(launchwatch, discord_emulator)

    result = await discord_emulator.invoke(
        "event edit",
        {"event": str(eid), "field": "claimed_distance_km", "value": "1,200"},
        user="moderator",
    )
    assert "Changed: claimed distance km · revision 2" in shown(result)
    await settled(launchwatch.store)
    original, notice = discord_emulator.messages("alerts")
    assert "[UPDATED]" in original.embeds[0]["title"]
    assert embed_field(original.embeds[0], "Flight") == (
        "To Sea of Japan · 1,000 km · claimed 1,200 km"
    )
    assert notice.message_reference["message_id"] == str(original.id)
    assert "Claimed distance: — → 1,200 km" in notice.content
    launch = await discord_emulator.invoke("launch", {"event": str(eid)}, user="member")
    assert "claimed distance km: — → 1,200" in shown(launch)


async def test_a_negative_claim_is_refused_naming_the_field(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    eid = await alerted(launchwatch, discord_emulator)

    result = await discord_emulator.invoke(
        "event edit",
        {"event": str(eid), "field": "claimed_distance_km", "value": "-5"},
        user="moderator",
    )
    assert result.ephemeral and "claimed_distance_km" in shown(result)
    assert (await services.get_event(launchwatch.store, MOD, eid)).claimed_distance_km is None
