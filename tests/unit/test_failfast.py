"""Fail fast and clearly: a store that cannot be opened, reached or migrated stops every
command with one line naming the problem and the fix (exit 2, as a bad setting does), and
the process ends; a Discord that cannot be reached is waited for, one log line a try.

Everything runs as a person runs it: `python -m bot ...` in a subprocess, over real files
and the real PostgreSQL server. Time-outs only guard against a hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.sandbox import SANDBOX_GUILD_ID, Emulator, sandbox_world
from bot.sandbox.world import SANDBOX_TOKEN
from db import open_store
from tests.conftest import postgres_schema, postgres_test_url, postgres_url

HANG = 90.0
"""Seconds after which a command that has not ended is a hang (never a timing assert)."""


@dataclass(frozen=True)
class Fault:
    """A store broken one way: its URL, and the words the one line must hold."""

    url: str
    problem: str  # names what is wrong
    fix: str  # names what to do
    sqlite_path: Path | None = None  # the file, for the sandbox's --db
    #: `db copy --from` opens it (unmigrated) and fails there. Not so for a store that
    #: only fails to migrate (the copy then compares schema versions), nor for a path
    #: that is no file (the copy says there is no SQLite file there): both exit 1.
    copied_from: bool = True


@dataclass(frozen=True)
class Run:
    """One finished command."""

    name: str
    setting: str  # where the person named the store: the one line must point there
    code: int
    stdout: str
    stderr: str


def closed_port() -> int:
    """A loopback port nothing listens on (bound and let go at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any LaunchWatch or Discord setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


async def python(
    *args: str, cwd: Path, env: dict[str, str], name: str = "", setting: str = ""
) -> Run:
    """`python ARGS` to its end; a command still running after `HANG` seconds fails the test."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), HANG)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"{name or args} never ended: something it opened keeps the process alive")
    assert proc.returncode is not None
    return Run(name, setting, proc.returncode, out.decode(), err.decode())


async def every_command(fault: Fault, tmp_path: Path) -> list[Run]:
    """Every CLI command that opens the store, over the broken one, all at once."""
    good = f"sqlite:///{tmp_path / 'good.db'}"
    await (await open_store(good)).close()  # a sound store to copy from or into
    backup = tmp_path / "backup.json"
    backup.write_text(json.dumps({"events": [], "reactions": []}))
    env = clean_env(
        LAUNCHWATCH_DATABASE_URL=fault.url,
        LAUNCHWATCH_DISCORD_TOKEN="not-a-real-token",  # `run` must stop before Discord
    )
    var = "LAUNCHWATCH_DATABASE_URL"
    commands: list[tuple[str, str, list[str]]] = [
        ("run", var, ["run"]),
        ("db upgrade", var, ["db", "upgrade"]),
        ("events list", var, ["events", "list"]),
        ("db seed", var, ["db", "seed", "--example"]),
        ("db import", var, ["db", "import", str(backup), "--format", "json"]),
        ("db export", var, ["db", "export", "--format", "csv"]),
        ("db copy --to", "--to", ["db", "copy", "--from", good, "--to", fault.url]),
    ]
    if fault.copied_from:
        new = f"sqlite:///{tmp_path / 'new.db'}"
        commands.append(
            ("db copy --from", "--from", ["db", "copy", "--from", fault.url, "--to", new])
        )
    if fault.sqlite_path is not None:
        script = tmp_path / "script.txt"
        script.write_text("/about\n")
        argv = ["sandbox", "--db", str(fault.sqlite_path), "--script", str(script)]
        commands.append(("sandbox", "--db", argv))
    return await asyncio.gather(
        *(
            python("-m", "bot", *argv, cwd=tmp_path, env=env, name=name, setting=setting)
            for name, setting, argv in commands
        )
    )


def assert_one_line(fault: Fault, runs: list[Run]) -> None:
    """Each command ended with exit 2 and one line naming the problem, the fix and the
    setting to change, and no traceback."""
    wrong = []
    for run in runs:
        line = run.stderr.strip()
        ok = (
            run.code == 2
            and "\n" not in line
            and "Traceback" not in run.stderr
            and fault.problem in line
            and fault.fix in line
            and run.setting in line
        )
        if not ok:
            wrong.append(f"{run.name}: exit {run.code}, stderr:\n{run.stderr}")
    assert not wrong, "\n\n".join(wrong)


# -- the faults ------------------------------------------------------------------------------


def corrupt_file(tmp_path: Path) -> Fault:
    path = tmp_path / "corrupt.db"
    path.write_bytes(bytes(range(256)) * 64)  # garbage: no SQLite header
    return Fault(f"sqlite:///{path}", "is not a SQLite database", "Restore it", path)


def directory(tmp_path: Path) -> Fault:
    path = tmp_path / "folder.db"
    path.mkdir()
    return Fault(f"sqlite:///{path}", "is a folder", "at a file", path, copied_from=False)


def unwritable(tmp_path: Path) -> Fault:
    """A file stands where the store's folder should be: no user can create the store
    (a read-only folder would not stop root, which the tests may run as)."""
    (tmp_path / "blocker").write_text("a file, not a folder")
    path = tmp_path / "blocker" / "lw.db"
    fix = "a folder this user can write"
    return Fault(f"sqlite:///{path}", "Cannot create the store", fix, path, copied_from=False)


async def newer_schema(tmp_path: Path) -> Fault:
    """A store a newer LaunchWatch migrated: version 999, which this one does not know."""
    path = tmp_path / "newer.db"
    await (await open_store(f"sqlite:///{path}")).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (999, '999_future.sql', '2030-01-01')")
    db.close()
    url = f"sqlite:///{path}"
    return Fault(
        url, "schema version 999, newer than", "Upgrade LaunchWatch", path, copied_from=False
    )


def table_in_the_way(tmp_path: Path) -> Fault:
    """Another program's `event` table: the first migration cannot create LaunchWatch's."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE event (what TEXT)")
    db.close()
    url = f"sqlite:///{path}"
    problem = "Migration 001_initial.sql failed"
    return Fault(url, problem, "at an empty database", path, copied_from=False)


async def postgres_closed_port(tmp_path: Path) -> Fault:
    port = closed_port()
    url = urlsplit(await postgres_url())._replace(netloc=f"postgres@127.0.0.1:{port}").geturl()
    return Fault(url, f"Cannot reach PostgreSQL at 127.0.0.1:{port}", "Start the server")


async def postgres_missing_database(tmp_path: Path) -> Fault:
    url = urlsplit(await postgres_url())._replace(path="/lw_failfast_no_such_db").geturl()
    return Fault(url, 'no database "lw_failfast_no_such_db"', "createdb lw_failfast_no_such_db")


async def postgres_missing_schema(tmp_path: Path) -> Fault:
    await postgres_url()
    url = postgres_test_url(search_path="lw_failfast_no_such_schema")
    return Fault(url, 'schema "lw_failfast_no_such_schema" does not exist', "CREATE SCHEMA")


FAULTS: dict[str, Callable[[Path], Fault | Awaitable[Fault]]] = {
    "corrupt-sqlite-file": corrupt_file,
    "directory-path": directory,
    "unwritable-path": unwritable,
    "newer-schema": newer_schema,
    "table-in-the-way": table_in_the_way,
    "postgres-closed-port": postgres_closed_port,
    "postgres-missing-database": postgres_missing_database,
    "postgres-missing-schema": postgres_missing_schema,
}


@pytest.mark.parametrize("fault_name", list(FAULTS))
async def test_a_store_fault_stops_every_command_with_one_line(
    fault_name: str, tmp_path: Path
) -> None:
    """`run`, `sandbox`, `db upgrade|seed|import|export|copy` and `events list`, each over
    the broken store: exit 2, one line with the problem and the fix, and the process ends."""
    made = FAULTS[fault_name](tmp_path)
    fault = await made if isinstance(made, Awaitable) else made
    assert_one_line(fault, await every_command(fault, tmp_path))


async def test_a_postgres_table_in_the_way_stops_every_command(tmp_path: Path) -> None:
    """A schema holding another program's `event` table: the first migration fails,
    nothing of it is kept, and the line says which and what to do."""
    import asyncpg

    async with postgres_schema() as schema:
        url = postgres_test_url(search_path=schema)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE TABLE event (what TEXT)")
        finally:
            await conn.close()
        problem = "Migration 001_initial.sql failed"
        fault = Fault(url, problem, "at an empty database", copied_from=False)
        assert_one_line(fault, await every_command(fault, tmp_path))
        conn = await asyncpg.connect(url)
        try:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                schema,
            )
        finally:
            await conn.close()
    assert [t["table_name"] for t in tables] == ["event"]  # the failed migration left nothing


# -- Discord out of reach at start-up --------------------------------------------------------

#: `python -m bot ARGS` with discord.py pointed at BASE (as tests/e2e/bot_process.py does).
WITH_DISCORD_AT = """
import sys, yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
port = sys.argv[1]
Route.BASE = f"http://127.0.0.1:{port}/api/v10"
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/gateway")
from bot.cli import main
sys.exit(main(sys.argv[2:]))
"""
#: A log record's first line as discord.utils.setup_logging writes it, plain or (in a
#: container, where discord.py assumes a terminal) coloured.
LOG_RECORD = re.compile(r"^\[?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]? \[?(\w+) *\]? ([\w.]+):? ")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Bot:
    """`python -m bot run` running, and what it has written to stderr so far."""

    proc: asyncio.subprocess.Process
    lines: list[str]

    async def until_line(self, pattern: str, count: int = 1) -> None:
        """Until `count` stderr lines hold `pattern` (fails on a hang, or if it exits)."""
        assert self.proc.stderr is not None

        async def read() -> None:
            while sum(pattern in line for line in self.lines) < count:
                raw = await self.proc.stderr.readline()  # type: ignore[union-attr]
                assert raw, "the bot exited:\n" + "".join(self.lines)
                self.lines.append(raw.decode())

        await asyncio.wait_for(read(), HANG)

    async def stop(self) -> str:
        """SIGTERM, then everything else it writes until it exits; its exit code must be 0."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), HANG)
        code = await asyncio.wait_for(self.proc.wait(), HANG)
        stderr = COLOUR.sub("", "".join(self.lines) + rest.decode())
        assert code == 0, stderr
        return stderr


@asynccontextmanager
async def bot_run(tmp_path: Path, port: int) -> AsyncIterator[Bot]:
    """`python -m bot run` with the sandbox's token, Discord expected at 127.0.0.1:port."""
    env = clean_env(
        LAUNCHWATCH_DISCORD_TOKEN=SANDBOX_TOKEN,
        LAUNCHWATCH_DISCORD_DEV_GUILDS=str(SANDBOX_GUILD_ID),
        LAUNCHWATCH_DATABASE_URL=f"sqlite:///{tmp_path / 'lw.db'}",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WITH_DISCORD_AT, str(port), "run", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield Bot(proc, [])
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def assert_log_lines_only(stderr: str) -> None:
    """Every line on stderr is a log record of its own: no traceback, nothing spilling
    over onto a second line."""
    assert "Traceback" not in stderr, stderr
    strays = [line for line in stderr.splitlines() if not LOG_RECORD.match(line)]
    assert not strays, stderr


async def test_unreachable_discord_is_one_line_a_try_until_stopped(tmp_path: Path) -> None:
    """With nothing listening where Discord should be, the bot says so in one log line,
    tries again (and says so again), and SIGTERM ends it cleanly."""
    port = closed_port()
    unreachable = f"Cannot reach Discord at 127.0.0.1:{port}"
    async with bot_run(tmp_path, port) as bot:
        await bot.until_line(unreachable, count=2)  # the first try, and a retry
        stderr = await bot.stop()
    assert_log_lines_only(stderr)
    said = [line for line in stderr.splitlines() if unreachable in line]
    assert "trying again in 1 s" in said[0] and "trying again in 2 s" in said[1], said
    assert all(LOG_RECORD.match(line)[1] == "WARNING" for line in said)  # type: ignore[index]


async def test_the_bot_connects_once_discord_answers(tmp_path: Path) -> None:
    """Discord comes up after the bot started: its next try connects, and it syncs its
    commands as on any start."""
    port = closed_port()
    async with bot_run(tmp_path, port) as bot:
        await bot.until_line(f"Cannot reach Discord at 127.0.0.1:{port}")
        # Bodies unchecked against Discord's spec: this is about reaching it, not what is sent.
        emulator = Emulator(world=sandbox_world(), port=port, validate=False)
        await emulator.start()
        try:
            await emulator.wait_synced(SANDBOX_GUILD_ID, timeout=HANG)
            await emulator.wait_ready(timeout=HANG)  # on the gateway, its guild received
            await bot.until_line(f"Reached Discord at 127.0.0.1:{port} after ")
            stderr = await bot.stop()
        finally:
            await emulator.stop()
    assert "Traceback" not in stderr, stderr
