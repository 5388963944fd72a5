"""Long events reach Discord within its embed limits and read cleanly: an alert and /launch.

The event's parts add up to well over 6,000 characters (a long summary full of Markdown,
every field at its bound, ten long sources, long reactions, a long change log). Discord
(the emulator) would refuse an embed over a limit with a 400: the alert would never arrive
and /launch would fail. Each arrives at or under 6,000, cut cleanly, with every field.
"""

from __future__ import annotations

from typing import Any

from bot import services
from bot.client import LaunchWatch
from bot.render import blocks
from bot.sandbox import ALERTS_CHANNEL_ID, MODERATOR_USER_ID, SANDBOX_GUILD_ID, Emulator
from bot.services import Scope
from tests.e2e.support import settled
from tests.readable import assert_fits, assert_reads_cleanly, unescape

SCOPE = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)


def marked(n: int, word: str) -> str:
    """`n` characters of moderators' text dense with Markdown (each special char is escaped)."""
    return "".join(f"{word}{i}**[x](y)**__~~||--## " for i in range(n))[:n].strip()


LONG_EVENT: dict[str, Any] = {
    "date": "2024-02-14T10:22Z", "category": "icbm", "actor": marked(100, "actor"),
    "name": marked(100, "name"), "count": 3, "platform": "tel", "launch_site": marked(200, "site"),
    "landing_area": marked(200, "sea"), "distance_km": 1000, "apogee_km": 6000,
    "claimed": marked(300, "claim"), "overseen_by": marked(200, "kim"), "region": marked(64, "r"),
    "summary": marked(2000, "S"),
    "sources": [
        {"url": f"https://example.org/wiki/{'p' * 255}_(missile){i}",
         "title": marked(300, f"title{i}-"), "publisher": marked(200, f"pub{i}-"),
         "published_on": "2024-02-14"}
        for i in range(10)
    ],
}  # fmt: skip


def assert_fitted(embed: dict[str, Any], names: list[str], summary: str) -> None:
    """Within the limits, every field kept, the description the summary's beginning with "…"."""
    assert_fits(embed)
    assert [f["name"] for f in embed["fields"]] == names
    description = embed["description"]
    assert description.endswith("…") and len(description) > 1000
    assert summary.startswith(unescape(description[:-1]).rstrip())
    for text in (description, *(f["value"] for f in embed["fields"])):
        assert_reads_cleanly(text)


async def test_a_long_alert_arrives_within_the_limits_and_reads_cleanly(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """An alert for an event of over 6,000 characters arrives, fitted and whole."""
    await services.subscribe(launchwatch.store, SCOPE, ALERTS_CHANNEL_ID)
    event = await services.add_event(launchwatch.store, SCOPE, LONG_EVENT)
    parts = blocks("alerts/alert.j2", event=event, corrected=False)
    assert sum(len(v) for v in parts.values()) > 6500  # before fitting
    await settled(launchwatch.store)
    assert discord_emulator.spec_errors == []
    [alert] = discord_emulator.messages(ALERTS_CHANNEL_ID)
    names = ["When", "From", "Flight", "Claims", "Outcome", "Confidence", "Sources"]
    assert_fitted(alert.embeds[0], names, LONG_EVENT["summary"])
    assert alert.embeds[0]["fields"][-1]["value"].endswith("\n…")  # cut between two links


async def test_launch_of_a_long_event_fits_and_reads_cleanly(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """/launch of a long event with eight long reactions and twelve edits answers, fitted."""
    event = await services.add_event(launchwatch.store, SCOPE, LONG_EVENT, alert=False)
    for i in range(8):
        reaction = {
            "actor": marked(100, f"gov{i}-"), "stance": "condemns", "summary": marked(2000, "s"),
            "quote": marked(1500, "q"), "event_id": event.id,
        }  # fmt: skip
        await services.add_reaction(launchwatch.store, SCOPE, reaction)
    for i in range(12):
        await services.edit_event(
            launchwatch.store, SCOPE, event.id, "claimed", marked(300, f"c{i}")
        )
    result = await discord_emulator.invoke("launch", {"event": str(event.id)}, user="member")
    assert result.status == 200 and not result.refused
    assert discord_emulator.spec_errors == []
    names = ["Date", "Facts", "Confidence", "Sources", "Reactions (8)", "Change log (newest first)"]
    assert_fitted(result.embeds[0], names, LONG_EVENT["summary"])
