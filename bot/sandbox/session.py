"""`python -m bot sandbox`: start the emulator and the real bot in one process, run the console.

The sandbox's world and store are LaunchWatch's; the console reads a script or the keyboard.
discord.py's and the bot's logs go to a file beside the store so the console stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.emulator.api import Emulator
from bot.sandbox.console import SETTLE, Console
from bot.sandbox.feeds import SandboxFeeds
from bot.sandbox.lines import LineSource, script_source, typed_line
from bot.sandbox.transcript import words, wrap
from bot.sandbox.world import (
    MODERATOR_USER_ID,
    SANDBOX_GUILD_ID,
    add_review_channel,
    sandbox_world,
)


@contextlib.contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """discord.py's and the bot's logs go to a file, so the console stays readable."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    access = logging.getLogger("aiohttp.access")
    old_level, old_access = root.level, access.level
    root.addHandler(handler)
    if old_level > logging.INFO:  # NOTSET (0) already lets everything through
        root.setLevel(logging.INFO)
    access.setLevel(logging.WARNING)  # one line per emulated request is noise
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        access.setLevel(old_access)
        handler.close()


async def sandbox_session(
    config: Config,
    db: Path,
    source: LineSource,
    *,
    out: TextIO,
    echo: bool,
    settle: float = SETTLE,
) -> int:
    """Start the emulator and the real bot over ``db`` (seeded if new), then run the console;
    the console's exit status (1 when a body broke Discord's contract)."""
    from bot.sandbox.harness import running_bot, sandbox_config
    from bot.seed import seed_example
    from bot.services import Scope
    from db import open_store

    fresh = not await asyncio.to_thread(db.exists)
    log_path = db.with_suffix(".log")
    bot_config = sandbox_config(db, config)
    # Opened (and migrated) before anything starts: a store that cannot be raises
    # StoreError at once, with nothing left running.
    store = await open_store(bot_config.database_url)
    try:
        with logging_to(log_path):
            world = sandbox_world()
            add_review_channel(world)
            emulator = Emulator(world)
            await emulator.start()
            emulator.patch_discord()
            feeds = SandboxFeeds(int(config.get("sandbox", "feed_port")))
            await feeds.start()
            allowed = [*bot_config.get("feeds", "allow_hosts"), feeds.endpoint]
            bot_config = bot_config.replace("feeds", "allow_hosts", allowed)
            try:
                async with running_bot(bot_config, emulator, store=store) as bot:
                    files = db.with_name(f"{db.stem}-files")  # beside the store
                    console = Console(emulator, out, settle=settle, files=files)
                    console.say(*wrap(words("started", db, log_path, fresh), console.width))
                    console.say(*wrap(words("feed_server", feeds.url), console.width))
                    if fresh:
                        scope = Scope(SANDBOX_GUILD_ID, MODERATOR_USER_ID)
                        console.say(words("seeded", await seed_example(bot.store, scope)))
                    if not echo:
                        console.say(*wrap(words("intro"), console.width))
                    console.mark_all_seen()
                    console.report_violations()  # the command sync, before the first line
                    status = await console.run(source, echo=echo)
            finally:
                await feeds.stop()
                await emulator.stop()
    finally:
        await store.close()
    return status


def _settle(config: Config) -> float:
    """How long to wait after each line for the channels' posts (`[sandbox] settle`)."""
    return float(config.get("sandbox", "settle"))


def run_sandbox(
    config: Config, *, db: str | Path | None = None, script: str | Path | None = None
) -> int:
    """The CLI's entry: 0 when done, 1 when the script is unusable or when a body the bot
    sent broke Discord's contract. A store that cannot be opened raises `StoreError` before
    anything starts (the CLI says why, and exits 2)."""
    path = Path(db or config.get("sandbox", "db")).expanduser()
    if isinstance(sys.stdout, io.TextIOWrapper):  # box drawing on a console that lacks it
        sys.stdout.reconfigure(errors="replace")
    if script is not None:
        try:
            text = Path(script).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            print(words("unreadable", script, why), file=sys.stderr)
            return 1
        source, echo = script_source(text.splitlines()), True
    else:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
        source, echo = typed_line, False
    try:
        return asyncio.run(
            sandbox_session(config, path, source, out=sys.stdout, echo=echo, settle=_settle(config))
        )
    except KeyboardInterrupt:
        print()
        print(words("bye"))
        return 0
    except BrokenPipeError:  # the transcript was piped into a reader that stopped (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
