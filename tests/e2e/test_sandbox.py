"""`python -m bot sandbox`: the console a person types slash commands into, end to end.

One test runs the CLI in a subprocess as a user would; the rest run the console's async core
in-process over a fresh SQLite file, with a short settle time so the file stays fast.
"""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.client import LaunchWatch
from bot.config import load_config
from bot.sandbox import ALERTS_CHANNEL_ID, Emulator
from bot.sandbox import console as console_module
from bot.sandbox.console import Console, run_sandbox, sandbox_session, script_source
from bot.sandbox.contract import dumps, load_contract
from bot.sandbox.transcript import display_width, draw_embed, plain_text

ROOT = Path(__file__).resolve().parents[2]
LAUNCHES = ("25 Jan 2024", "29 Jan 2024", "31 Jan 2024", "2 Feb 2024")
ADD = (
    "as moderator /event add date:2024-02-14 category:cruise_missile "
    'summary:"Two missiles off the west coast"'
)


async def run(db: Path, *lines: str) -> str:
    """The transcript of a script run over ``db``."""
    out = io.StringIO()
    config = load_config(None, env={})
    code = await sandbox_session(config, db, script_source(lines), out=out, echo=True, settle=0.02)
    assert code == 0
    return out.getvalue()


def after(transcript: str, line: str) -> list[str]:
    """What the console printed for one echoed line, up to the next prompt."""
    rows = transcript.splitlines()
    start = next(i for i, row in enumerate(rows) if row.endswith("> " + line)) + 1
    end = next(
        (
            i
            for i in range(start, len(rows))
            if "#general> " in rows[i] or rows[i].startswith("Sandbox")
        ),
        len(rows),
    )
    return rows[start:end]


def test_script_run_prints_the_article(tmp_path: Path) -> None:
    """`python -m bot sandbox --script examples/article.txt` prints the timeline and reactions."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env = {k: v for k, v in env.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", str(ROOT / "examples/article.txt"),
         "--db", str(tmp_path / "sandbox.db")],
        cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert all(day in out for day in LAUNCHES)
    assert "(event: jan 29 → 2024-01-29 · cruise missile · submarine)" in out
    for said in ("United States", "South Korea", "grave concerns", "China", "Ankit Panda"):
        assert said in out
    assert "Sandbox closed." in out
    assert (tmp_path / "sandbox.log").exists(), "discord.py logs go to a file, not the console"
    assert "INFO" not in out and "discord.gateway" not in done.stderr


def test_unreadable_script_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A script that cannot be read ends with exit code 1 and says why."""
    code = run_sandbox(load_config(None, env={}), db=tmp_path / "s.db", script=tmp_path / "nope")
    assert code == 1
    assert "Cannot read the script" in capsys.readouterr().err


async def test_member_is_refused_by_discord(tmp_path: Path) -> None:
    """`/event add` as a member gets Discord's own refusal."""
    line = ADD.removeprefix("as moderator ")
    out = await run(tmp_path / "s.db", line)
    assert after(out, line) == [
        "Discord: you don't have permission to use /event (it needs Manage Server, or a role "
        "granted it under Server Settings → Integrations)."
    ]


async def test_moderator_event_shows_in_the_timeline(tmp_path: Path) -> None:
    """A moderator's `/event add` is recorded privately and then listed by `/timeline`."""
    out = await run(tmp_path / "s.db", ADD, "/timeline since:2024-02")
    recorded = "\n".join(after(out, ADD))
    assert "[only you can see this]" in recorded and "Two missiles off the west coast" in recorded
    timeline = "\n".join(after(out, "/timeline since:2024-02"))
    assert "14 Feb 2024" in timeline and "2 Feb 2024" in timeline


async def test_help_lists_timeline_with_its_options(tmp_path: Path) -> None:
    """`help` shows `/timeline` with each option, its description, and what is required."""
    out = await run(tmp_path / "s.db", "help", "help /event add")
    listing = "\n".join(after(out, "help"))
    assert "/timeline [since:…] [until:…] [category:…] [actor:…] [region:…]" in listing
    assert "since: From this date" in listing
    one = "\n".join(after(out, "help /event add"))
    assert "date: (required)" in one and "/timeline" not in one


async def test_bad_lines_explain_in_one_line_and_go_on(tmp_path: Path) -> None:
    """Unknown commands, words without a colon and unknown options get one line each."""
    bad = ["/nope", "/timeline option-without-colon", "/timeline foo:bar", 'say "hi']
    out = await run(tmp_path / "s.db", *bad, "as admin in #alerts /about")
    for line in bad:
        assert len(after(out, line)) == 1, after(out, line)
    assert "Unknown command /nope" in out
    assert "“option-without-colon” is not an option: write name:value" in out
    assert "/timeline has no option “foo”" in out
    assert "4 events · 8 reactions" in out


async def test_first_run_seeds_and_the_second_does_not(tmp_path: Path) -> None:
    """The example data is loaded when the file is new, and never twice."""
    db = tmp_path / "s.db"
    first = await run(db, "/timeline since:2024")
    second = await run(db, "/timeline since:2024")
    assert "Example data: imported 12" in first
    assert "Example data" not in second and "(new: seeded" not in second
    assert "4 events since 2024" in first and "4 events since 2024" in second


async def test_click_next_pages_the_timeline(tmp_path: Path) -> None:
    """`click Next` presses the button on the last answer and shows page 2."""
    adds = [
        f'as moderator /event add date:2023-0{m} category:srbm summary:"Test {m}"'
        for m in range(1, 8)
    ]
    out = await run(tmp_path / "s.db", *adds, "/timeline since:2023", "click Next")
    first = "\n".join(after(out, "/timeline since:2023"))
    assert "Page 1 of 2" in first and "[ Previous · disabled ] [ Next ]" in first
    second = "\n".join(after(out, "click Next"))
    assert "Page 2 of 2" in second and "[ Next · disabled ]" in second


async def test_moderator_example_alerts_the_subscribed_channel(tmp_path: Path) -> None:
    """examples/moderator.txt runs cleanly and its new event is posted in #alerts."""
    lines = (ROOT / "examples/moderator.txt").read_text(encoding="utf-8").splitlines()
    out = await run(tmp_path / "s.db", *lines)
    assert "console hit a problem" not in out
    assert "── #alerts · LaunchWatch posted:" in out
    assert "Recorded reaction" in out and "South Korea" in out


async def test_new_posts_in_any_channel_are_shown(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A post in #alerts, and its later edit, appear after the next line."""
    out = io.StringIO()
    console = Console(discord_emulator, out, settle=0)
    channel = launchwatch.get_channel(ALERTS_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send(embed=discord.Embed(title="New launch", description="**DPRK**"))
    await console.handle("")
    await posted.edit(content="updated")
    await console.handle("")
    text = out.getvalue()
    assert "── #alerts · LaunchWatch posted:" in text and "│ DPRK" in text
    assert "── #alerts · LaunchWatch (edited):" in text and "updated" in text


async def test_a_refused_body_is_shown_loudly_and_fails_the_session(
    discord_emulator: Emulator, launchwatch: LaunchWatch
) -> None:
    """A body Discord would refuse is printed once, with the field and the limit, and the
    session ends with exit status 1."""
    out = io.StringIO()
    console = Console(discord_emulator, out, settle=0)
    channel = launchwatch.get_channel(ALERTS_CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException):
        await channel.send(embed=discord.Embed(description="x" * 4097))
    status = await console.run(script_source(["/about"]), echo=True)
    text = " ".join(out.getvalue().split())
    assert status == 1
    assert text.count("!! CONTRACT BROKEN") == 1
    assert (
        "!! CONTRACT BROKEN: the bot sent POST /channels/{channel_id}/messages a body Discord "
        "would refuse (400 Invalid Form Body): embeds.0.description: Must be 4096 or fewer "
        "in length." in text
    )
    assert "!! 1 request broke Discord's contract in this session" in text
    discord_emulator.spec_errors.clear()


async def test_a_route_missing_from_the_contract_fails_a_script_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a stale contract, the unchecked command answer is reported and the run exits 1."""
    callback = "POST /interactions/{interaction_id}/{interaction_token}/callback"
    contract = load_contract()
    del contract["routes"][callback]
    stale = tmp_path / "contract.json"
    stale.write_text(dumps(contract), encoding="utf-8")
    monkeypatch.setattr(console_module, "Emulator", functools.partial(Emulator, contract=stale))
    out = io.StringIO()
    config = load_config(None, env={})
    lines = script_source(["/about"])
    status = await sandbox_session(config, tmp_path / "s.db", lines, out=out, echo=True, settle=0)
    text = " ".join(out.getvalue().split())
    assert status == 1
    assert (
        f"the bot sent a JSON body to {callback}, a route the emulator's Discord contract" in text
    )
    assert "4 events · 8 reactions" in text  # the answer itself was still served


def test_embeds_are_boxes_of_even_width() -> None:
    """Markdown is undone and every box line is 78 columns, emoji included."""
    embed = {
        "title": "Reactions",
        "description": "**25 Jan 2024** · 🟡 reported · \\(AI\\-written\\) · `#1`",
        "fields": [{"name": "🏛️ Japan", "value": "> “grave concerns”"}],
        "footer": {"text": "Page 1 of 1"},
    }
    lines = draw_embed(embed)
    assert {display_width(line) for line in lines} == {78}
    assert "25 Jan 2024 · 🟡 reported · (AI-written) · #1" in "\n".join(lines)
    assert plain_text("<t:0:f> \\*not bold\\*") == "1970-01-01 00:00 UTC *not bold*"
