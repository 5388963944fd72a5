"""Every sentence a person reads comes from the catalogue: proved with a pseudo-locale.

Under `tests.pseudo.Pseudo` each message of the committed catalogue comes back wrapped in
⟦…⟧. The real bot answers every command (and its mistakes), posts every kind of alert, the
console prints its own words and the command line its messages; then whatever is neither
wrapped nor data (moderators' text, names, numbers, dates, ids, links) is a sentence that a
translation would miss, and fails the test with where it was seen.

Slash command metadata (names, descriptions, choices) is Discord's to translate
(`app_commands.Translator`), so it counts as data here; so do Discord's and Python's own
words quoted in a message (an error from SQLite, the emulator's refusal).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot import alerts, cli, models
from bot.client import LaunchWatch
from bot.config import SCHEMA, load_config
from bot.digest import next_due, period_key, render_digest
from bot.emulator.api import Emulator
from bot.i18n import translations
from bot.render import FIELD_NAMES
from bot.sandbox.harness import running_bot, sandbox_config
from bot.sandbox.lines import script_source
from bot.sandbox.session import sandbox_session
from bot.sandbox.world import MODERATOR_USER_ID, SANDBOX_GUILD_ID
from bot.seed import seed_example
from bot.services import Scope, TimelineFilter, list_subscriptions
from bot.services.events import list_events
from bot.services.reactions import all_reactions
from bot.tree import error_text
from db.store import StoreError
from tests.e2e.text_tour import DATA, Said, prepare_world, tour
from tests.pseudo import Pseudo, leftover_words

ROOT = Path(__file__).resolve().parents[2]
SCOPE = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)

#: Names people type or read as they are, in any language.
NAMES = {
    "LaunchWatch", "Discord", "UTC", "DPRK", "sqlite", "postgresql", "csv", "json", "cns",
    "LAUNCHWATCH", "DATABASE", "URL", "MAX", "ATTEMPTS",
}  # fmt: skip


#: Every value a field may take from a fixed list: shown as a label, never as data.
CHOICES = {
    *models.CATEGORIES, *models.PLATFORMS, *models.OUTCOMES, *models.CONFIDENCES,
    *models.ACTOR_KINDS, *models.STANCES, *models.MODES, *models.DIGEST_EVERY,
    *models.SUBSCRIPTION_STATES,
}  # fmt: skip


def model_identifiers() -> set[str]:
    """Stored values and field names, as validation messages quote them."""
    values = CHOICES | set(models.EDITABLE_FIELDS) | set(models.FACT_FIELDS) | set(FIELD_NAMES)
    values |= {"korean-peninsula", "source_url", "source_title", "sources", "source", "event"}
    values |= {"since", "until", "said_on"}
    return values | {key for keys in SCHEMA.values() for key in keys} | set(SCHEMA)


def command_words(emulator: Emulator) -> tuple[set[str], set[str]]:
    """The synced commands' names and options (identifiers), and their descriptions and
    choices' names (metadata Discord translates, data here)."""
    names: set[str] = set()
    metadata: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        names.add(node["name"])
        metadata.add(node.get("description") or "")
        for choice in node.get("choices") or []:
            metadata.add(choice["name"])
            names.add(str(choice["value"]))
        for child in node.get("options") or []:
            walk(child)

    for command in emulator.registry.get(SANDBOX_GUILD_ID) + emulator.registry.get(None):
        walk(command)
    return names, metadata


async def stored_text(bot: LaunchWatch) -> set[str]:
    """Every text the store holds for the sandbox guild: moderators' data (not the values
    of fixed lists, which show as labels)."""
    found: set[str] = set()

    def add(record: dict[str, Any]) -> None:
        for value in record.values():
            if isinstance(value, str):
                found.add(value)
            elif isinstance(value, list | tuple):
                for item in value:
                    add(item) if isinstance(item, dict) else found.add(str(item))

    for event in await list_events(bot.store, SCOPE, TimelineFilter(), include_retracted=True):
        add(event.as_record())
    for reaction in await all_reactions(bot.store, SCOPE):
        add(reaction.as_record())
    return found - CHOICES


def unread(
    said: Iterable[Said], data: set[str], identifiers: set[str], names: set[str] = NAMES
) -> dict[str, list[str]]:
    """Where each word a translation would miss was seen."""
    found = {
        s.what: leftover_words(s.text, data | (set(s.typed) - CHOICES), identifiers, names)
        for s in said
    }
    return {where: words for where, words in found.items() if words}


async def test_every_answer_and_post_is_in_the_catalogue(
    discord_emulator: Emulator, tmp_path: Path
) -> None:
    """Every command's answers and mistakes, every alert kind, digests and the log channel's
    notice read entirely from the catalogue, apart from data."""
    prepare_world(discord_emulator.world)
    with translations(Pseudo()):
        config = sandbox_config(tmp_path / "e2e.db")
        async with running_bot(config, discord_emulator) as bot:
            await seed_example(bot.store, SCOPE)
            said = await tour(discord_emulator, bot)
            said += await more_posts(bot)
            data = await stored_text(bot)
    assert len(said) > 100, "the tour saw every command"
    names, _metadata = command_words(discord_emulator)
    identifiers = names | model_identifiers()
    data |= (set(DATA) - CHOICES) | {"Moderator", "member", "moderator", "admin"}
    problems = unread(said, data, identifiers)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


async def more_posts(bot: LaunchWatch) -> list[Said]:
    """What the tour cannot provoke through Discord: digests (due at a wall-clock hour),
    the other broken-channel reasons, and the tree's answers to Discord's own failures."""
    said = []
    for sub in await list_subscriptions(bot.store, SCOPE):
        for every in ("daily", "weekly"):
            subscription = _replace(sub, digest_every=every)
            due = next_due(subscription, datetime.now(UTC))
            post = await render_digest(bot.store, subscription, period_key(subscription, due))
            assert post is not None and post.embed is not None
            said.append(Said(f"{every} digest", _embed_text(post.embed)))
    said += [Said(f"broken {code}", alerts.broken_reason(code)) for code in (10003, 50001)]

    class Anything(app_commands.Transformer):
        pass

    failures: list[Exception] = [
        app_commands.CommandNotFound("gone", []),
        app_commands.NoPrivateMessage(),
        app_commands.CheckFailure(),
        app_commands.TransformerError("x", discord.AppCommandOptionType.role, Anything()),
    ]
    said += [Said(f"error {type(e).__name__}", error_text(e)[0]) for e in failures]
    return said


def _replace(sub: models.Subscription, **changes: Any) -> models.Subscription:
    from dataclasses import replace

    return replace(sub, **changes)


def _embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{f.name}\n{f.value}" for f in embed.fields]
    return "\n".join(parts)


#: Lines a person types into the console (each answer is checked, not the line itself).
CONSOLE = [
    "help",
    "help /nope",
    "/timeline since:2024-01-20",
    "click Nope",
    "click",
    "as moderator in #alerts /about",
    "as moderator",
    "/alerts subscribe channel:alerts",
    '/event add date:2024-02-14 category:cruise_missile summary:"Two missiles"',
    "wait 1",
    "wait soon",
    '/launch event:"feb 14"',
    '/launch event:"kim chaek"',
    "/chart timeline since:2024-01-01",
    "/launch event:zzzz",
    "hello",
    "/nope",
    "/event",
    "/timeline since",
    "/timeline bogus:1",
    "/timeline since:2024 since:2023",
    "/event add date:2024",
    "/timeline category:laser",
    "as bob /about",
    "in #nowhere /about",
    "as",
]


async def test_the_console_speaks_from_the_catalogue(
    discord_emulator: Emulator, seeded: LaunchWatch, tmp_path: Path
) -> None:
    """The sandbox console's own words (help, mistakes, headers) and the bot's answers it
    draws read from the catalogue. (`seeded` is the same bot and data, run to read the
    synced commands and the seed's text.)"""
    out = io.StringIO()
    with translations(Pseudo()):
        code = await sandbox_session(
            load_config(None, env={}),
            tmp_path / "console.db",
            script_source(CONSOLE),
            out=out,
            echo=True,
            settle=0.02,
        )
    assert code == 0
    commands, metadata = command_words(discord_emulator)
    # `help` lays out the commands and their options by name, and the console's own syntax
    # as typed (`as moderator in #alerts`, `click Next`, `wait 2`, `help`, `quit`); people
    # and channels are named as the sandbox calls them.
    names = {part for name in commands for part in re.split(r"[\W_]+", name)} | NAMES
    names |= {"as", "in", "click", "Next", "wait", "help", "quit"}
    names |= {"member", "moderator", "admin", "general", "alerts"}
    typed = {
        value for line in CONSOLE for _, value in re.findall(r'(\w+):"?([^"]+?)"?(?: |$)', line)
    }
    typed |= {"hello", "nope", "bogus", "since", "soon", "Nope", "bob", "nowhere", "laser"}
    typed |= {"kim chaek"}
    # The files the bot sent: their names, and the paths the console saved them at.
    typed |= {"chart.png", "map.png"} | set(re.findall(r"^ +(/\S+)$", out.getvalue(), re.M))
    data = {flat(d) for d in metadata | await stored_text(seeded) | typed | {"Two missiles"}}
    # Each echoed line is what the person typed; the rest is the console's, boxes and all,
    # read as one text so that data and marks wrapped across lines are whole again.
    printed = [line for line in out.getvalue().splitlines() if not re.match(r"^\w+ #\w+> ", line)]
    text = flat(re.sub(r"[│┌┐└┘├┤─]", " ", "\n".join(printed)))
    problems = unread([Said("the console", text)], data, model_identifiers(), names)
    assert problems == {}, str(problems)


def flat(text: str) -> str:
    """Whitespace as one space: how text reads once the console's wrapping is undone."""
    return " ".join(text.split())


FIXTURES = ROOT / "tests/fixtures"


def test_the_command_line_speaks_from_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command of `python -m bot` says what it did, and each mistake it reports (a bad
    setting, an unreadable file, a store it cannot open), from the catalogue."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith(("LAUNCHWATCH_", "DISCORD_"))]:
        monkeypatch.delenv(name)
    (tmp_path / "bad.json").write_text(
        '{"events": [{"external_id": "a", "date": "2024-13", "category": "srbm", "summary": '
        '"x"}, {"external_id": "b", "occurred_on": "2024-01-02", "category": "srbm", '
        '"summary": "y", "confidence": "confirmed", "sources": "[{"}]}',
        encoding="utf-8",
    )
    (tmp_path / "section.toml").write_text("[nope]\n", encoding="utf-8")
    (tmp_path / "rate.toml").write_text("[delivery]\nglobal_rate = -1\n", encoding="utf-8")
    (tmp_path / "folder.db").mkdir()
    runs: list[tuple[list[str], dict[str, str]]] = [
        (["db", "upgrade"], {}),
        (["db", "upgrade"], {}),
        (["db", "seed", "--example"], {}),
        (["db", "import", str(FIXTURES / "cns_bad_fields.csv"), "--format", "cns"], {}),
        (["db", "import", str(FIXTURES / "cns_sample_utf8.csv"), "--format", "csv"], {}),
        (["db", "import", "bad.json", "--format", "json"], {}),
        (["db", "import", "missing.json", "--format", "json"], {}),
        (["db", "export", "--format", "json", "-o", "out.json"], {}),
        (["db", "export", "--format", "csv", "-o", "out.csv"], {}),
        (["events", "list"], {}),
        (["events", "list", "--category", "icbm"], {}),
        (["events", "list", "--since", "2024-13"], {}),
        (["events", "chart", "--since", "2024", "-o", "chart.png"], {}),
        (["events", "chart", "--until", "1990", "-o", "chart.png"], {}),
        (["events", "map", "--since", "2024", "--until", "2023", "-o", "map.png"], {}),
        (["events", "map", "-o", "map.png"], {}),
        (["db", "copy", "--from", "sqlite:///launchwatch.db", "--to", "sqlite:///copy.db"], {}),
        (["db", "copy", "--from", "sqlite:///launchwatch.db", "--to", "sqlite:///copy.db"], {}),
        (["db", "copy", "--from", "sqlite:///nothere.db", "--to", "sqlite:///new.db"], {}),
        (["db", "copy", "--from", "sqlite:///a.db", "--to", "sqlite:///a.db"], {}),
        (["run"], {}),
        (["--config", "nope.toml", "events", "list"], {}),
        (["--config", "section.toml", "events", "list"], {}),
        (["--config", "rate.toml", "events", "list"], {}),
        (["events", "list"], {"LAUNCHWATCH_DELIVERY_MAX_ATTEMPTS": "many"}),
        (["events", "list"], {"LAUNCHWATCH_DATABASE_URL": "sqlite:///folder.db"}),
    ]
    said: list[Said] = []
    with translations(Pseudo()):
        for argv, env in runs:
            with monkeypatch.context() as m:
                for key, value in env.items():
                    m.setenv(key, value)
                cli.main(argv)
            out, err = capsys.readouterr()
            said.append(Said(" ".join(argv), out + err))
        for problem in StoreError.PROBLEMS:
            error = StoreError(problem, "sqlite:///x.db", "what the driver said", subject="x")
            said.append(Said(problem, cli.store_error_text(error, "sqlite:///x.db", "--db")))
    assert all(s.text for s in said)
    with (FIXTURES / "cns_bad_fields.csv").open(encoding="utf-8") as f:
        cells = {c for row in csv.reader(f) for c in row}
    # The file's own cells, the values typed, and Python's words for bad JSON.
    data = cells | {"many", "what the driver said", "SRBM, MRBM, IRBM, ICBM, SLBM, SLV, Cruise "
                    "Missile, HGV, Unknown", "Expecting property name enclosed in double quotes",
                    "nope"}  # fmt: skip
    data |= {"chart.png", "map.png"}  # the pictures' files, as named on the command line
    # `db copy` names each table as it goes.
    tables = {"event", "reaction", "source", "subscription", "delivery"}
    problems = unread(said, data, model_identifiers(), NAMES | tables)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
