"""/timeline end to end: what a member reads, how it pages, and what a bad date gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import services
from bot.client import LaunchWatch
from bot.sandbox import MODERATOR_USER_ID, SANDBOX_GUILD_ID, Emulator
from bot.sandbox.interactions import InvokeResult
from bot.services import Scope
from tests.e2e.support import shown

MOD = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)


def lines(result: InvokeResult) -> list[str]:
    """The event lines of a timeline page (each starts with its bold date)."""
    description = result.embeds[0].get("description", "")
    return [line for line in description.splitlines() if line.startswith("**")]


def buttons(result: InvokeResult) -> dict[str, bool]:
    """custom_id -> disabled, for the buttons on the answer's message."""
    assert result.message is not None
    found: dict[str, bool] = {}
    for row in result.message.components:
        for c in row.get("components", []):
            found[c["custom_id"]] = bool(c.get("disabled"))
    return found


async def add(bot: LaunchWatch, date: str, **fields: Any) -> int:
    raw = {"date": date, "category": "srbm", "summary": f"Launch on {date}.", **fields}
    return (await services.add_event(bot.store, MOD, raw, alert=False)).id


async def add_days(bot: LaunchWatch, days: int, start: str = "2023-03-01") -> None:
    first = datetime.fromisoformat(start)
    for n in range(days):
        await add(bot, (first + timedelta(days=n)).date().isoformat())


# -- what a page says -------------------------------------------------------------------------


async def test_lists_launches_oldest_first(discord_emulator: Emulator, seeded: LaunchWatch) -> None:
    """A member sees the article's four launches in date order, with a header giving the count."""
    result = await discord_emulator.invoke("timeline", {"since": "2024-01"}, user="member")
    assert not result.ephemeral and not result.refused
    dates = [line.split("**")[1] for line in lines(result)]
    assert dates == ["25 Jan 2024", "29 Jan 2024", "31 Jan 2024", "2 Feb 2024"]
    assert "4 events since Jan 2024" in shown(result)
    assert buttons(result) == {}, "one page needs no buttons"


async def test_line_gives_count_category_site_distance_confidence_and_sources(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Each line says how many of what, from where, how far, how sure, and who reported it."""
    result = await discord_emulator.invoke("timeline", {"since": "2024-01"}, user="member")
    text = shown(result)
    assert "**25 Jan 2024** · 2 × cruise missile · " in text
    assert "cruise missile · from Kim Chaek · 150 km · 🟡 reported" in text
    assert "cruise missile · submarine · 🟡 reported" in text
    assert "North Korea cruise missile tests (AI-written article)" in text


async def test_source_with_url_is_a_link(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A source that has a URL reads as a link; one without stays plain text."""
    await add(
        launchwatch,
        "2024-03-18",
        confidence="confirmed",
        sources=[{"url": "https://example.org/a_b(1)", "title": "JCS"}, {"title": "NHK"}],
    )
    result = await discord_emulator.invoke("timeline", {"since": "2024"}, user="member")
    description = result.embeds[0]["description"]
    assert "[JCS](<https://example.org/a_b%281%29>) · NHK" in description
    assert "✅ confirmed" in description


async def test_dates_are_as_precise_as_known(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A known minute is a Discord timestamp; a day, a month or a year stays plain text."""
    await add(launchwatch, "2022")
    await add(launchwatch, "2023-05")
    await add(launchwatch, "2024-01-25")
    await add(launchwatch, "2024-01-26T10:22Z")
    result = await discord_emulator.invoke("timeline", {"since": "2022"}, user="member")
    stamp = int(datetime(2024, 1, 26, 10, 22, tzinfo=UTC).timestamp())
    dates = [line.split("**")[1] for line in lines(result)]
    assert dates == ["2022", "May 2023", "25 Jan 2024", f"<t:{stamp}:f>"]


async def test_filters_narrow_the_list_and_the_header_says_so(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """Category, actor, region and an until date narrow the list; the header names each."""
    await add(seeded, "2024-01-28", actor="Russia", region="europe")
    options = {
        "since": "2024-01-26",
        "until": "2024-01-31",
        "category": "cruise_missile",
        "actor": "dprk",
        "region": "Korean-Peninsula",
    }
    result = await discord_emulator.invoke("timeline", options, user="member")
    dates = [line.split("**")[1] for line in lines(result)]
    assert dates == ["29 Jan 2024", "31 Jan 2024"]
    header = shown(result).split("\n\n")[0]
    for part in ("2 events", "26 Jan 2024", "31 Jan 2024", "cruise missile", "dprk"):
        assert part in header


async def test_nothing_matching_says_what_to_try(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An empty result says so and suggests a wider range instead of showing a blank page."""
    result = await discord_emulator.invoke("timeline", {"category": "icbm"}, user="member")
    assert "0 events" in shown(result) and "No launches match" in shown(result)


# -- with no options ------------------------------------------------------------------------------


async def test_no_options_shows_the_last_30_days(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """With ten or more launches in the last 30 days, /timeline shows just those."""
    today = datetime.now(UTC).date()
    await add(launchwatch, (today - timedelta(days=60)).isoformat())
    for n in range(11):
        await add(launchwatch, (today - timedelta(days=25 - n)).isoformat())
    result = await discord_emulator.invoke("timeline", user="member")
    text = shown(result)
    assert "11 events since" in text and "(the last 30 days)" in text
    assert "Page 1 of 2" in text


async def test_no_options_falls_back_to_the_ten_latest(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """With fewer than ten recent launches, /timeline shows the ten latest, oldest first."""
    await add_days(launchwatch, 12)
    result = await discord_emulator.invoke("timeline", user="member")
    dates = [line.split("**")[1] for line in lines(result)]
    assert dates[0] == "3 Mar 2023" and dates[-1] == "12 Mar 2023" and len(dates) == 10
    assert "The 10 latest events" in shown(result)
    assert buttons(result) == {}


# -- paging --------------------------------------------------------------------------------------


async def test_next_and_previous_page_through(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Ten to a page; Next shows the following ten, Previous goes back; ends are disabled."""
    await add_days(launchwatch, 23)
    result = await discord_emulator.invoke("timeline", {"since": "2023"}, user="member")
    assert len(lines(result)) == 10 and "Page 1 of 3" in shown(result)
    assert buttons(result) == {"page:prev": True, "page:next": False}
    await discord_emulator.click(result, "page:next", user="member")
    await discord_emulator.click(result, "page:next", user="member")
    assert "Page 3 of 3" in shown(result) and len(lines(result)) == 3
    assert lines(result)[0].startswith("**21 Mar 2023**")
    assert buttons(result) == {"page:prev": False, "page:next": True}
    await discord_emulator.click(result, "page:prev", user="member")
    assert "Page 2 of 3" in shown(result) and lines(result)[0].startswith("**11 Mar 2023**")


async def test_only_the_asker_can_page(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Someone else pressing Next is told to run the command themselves; the page stays put."""
    await add_days(launchwatch, 12)
    result = await discord_emulator.invoke("timeline", {"since": "2023"}, user="member")
    other = await discord_emulator.click(result, "page:next", user="moderator")
    assert other.ephemeral and "Only the person who asked" in (other.content or "")
    assert "Page 1 of 2" in shown(result)


async def test_buttons_disable_themselves_when_they_expire(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """After the paginator's timeout both buttons are greyed out on the message."""
    launchwatch.get_cog("Timeline").page_timeout = 0.3  # type: ignore[union-attr]
    await add_days(launchwatch, 12)
    result = await discord_emulator.invoke("timeline", {"since": "2023"}, user="member")
    assert buttons(result) == {"page:prev": True, "page:next": False}
    await result.wait_for(lambda r: all(buttons(r).values()), timeout=3.0)
    with pytest.raises(ValueError, match="disabled"):
        await discord_emulator.click(result, "page:next", user="member")


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["yesterday", "2024-13", "24-01-25", "2024-02-30"])
async def test_bad_date_names_the_accepted_forms(
    discord_emulator: Emulator, seeded: LaunchWatch, bad: str
) -> None:
    """A date the bot cannot read is answered privately with the forms it accepts."""
    result = await discord_emulator.invoke("timeline", {"since": bad}, user="member")
    assert result.ephemeral
    text = shown(result)
    assert "since" in text and "YYYY, YYYY-MM, YYYY-MM-DD" in text
    assert len(text) < 300


async def test_future_date_is_refused_with_a_reason(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """A date in the future (a typo such as 2042) says why it is refused."""
    result = await discord_emulator.invoke("timeline", {"until": "2042"}, user="member")
    assert result.ephemeral and "future" in shown(result)


async def test_until_before_since_is_explained(
    discord_emulator: Emulator, seeded: LaunchWatch
) -> None:
    """An until date before the since date is answered with the fix, not an empty page."""
    result = await discord_emulator.invoke(
        "timeline", {"since": "2024-02", "until": "2024-01"}, user="member"
    )
    assert result.ephemeral and "swap" in shown(result)


async def test_a_large_timeline_answers_quickly(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """Even over 400 launches the first page comes inside Discord's 3 seconds (how fast it is
    at scale is measured in bench/, not asserted here)."""
    rows = [
        {"date": f"20{10 + n // 40:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}", "category": "srbm",
         "summary": "x"}
        for n in range(400)
    ]  # fmt: skip
    for raw in rows:
        await services.add_event(launchwatch.store, MOD, raw, alert=False)
    result = await discord_emulator.invoke("timeline", {"since": "2010"}, user="member")
    assert not result.late and not result.deferred
    assert "400 events" in shown(result) and "Page 1 of 40" in shown(result)
