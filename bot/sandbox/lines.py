"""What a person types into the sandbox console: a line split into who acts where and what,
and where lines come from (a script's lines, or the keyboard without stopping the bot).
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from bot.sandbox.transcript import words

LineSource = Callable[[str], Awaitable[str | None]]
"""Given the prompt, the next line typed (or read), or None at the end."""


class LineError(Exception):
    """A typed line the console cannot send; the message is the one-line explanation."""


@dataclass
class Line:
    """One console line, split: who acts where, the keyword or command, and the words after."""

    user: str | None = None
    channel: str | None = None
    keyword: str = ""  # "", "help", "quit", "click", "wait" or "/" for a slash command
    name: str = ""  # the command's top-level name, for "/"
    rest: list[str] = field(default_factory=list)


def parse_line(text: str) -> Line:
    """Split a line with shell quoting; the ``as``/``in`` prefixes may come in either order."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise LineError(words("bad_quote", str(exc).lower())) from None
    line = Line()
    while tokens and tokens[0].lower() in ("as", "in"):
        if len(tokens) < 2:
            raise LineError(words("as_in_usage"))
        prefix, value = tokens[0].lower(), tokens[1]
        tokens = tokens[2:]
        if prefix == "as":
            line.user = value.lstrip("@")
        else:
            line.channel = value.lstrip("#")
    if not tokens:
        return line
    head = tokens[0]
    if head.startswith("/"):
        name, rest = head[1:], tokens[1:]
        if not name and rest:
            name, rest = rest[0], rest[1:]
        line.keyword, line.name, line.rest = "/", name, rest
        return line
    keyword = head.lower()
    if keyword in ("help", "click", "wait"):
        line.keyword, line.rest = keyword, tokens[1:]
        return line
    if keyword in ("quit", "exit"):
        line.keyword = "quit"
        return line
    raise LineError(words("not_a_command", head))


def script_source(lines: Iterable[str]) -> LineSource:
    """A script's lines, without blank lines and ``#`` comments."""
    pending = iter([s.rstrip("\n") for s in lines if s.strip() and not s.lstrip().startswith("#")])

    async def source(prompt: str) -> str | None:
        return next(pending, None)

    return source


async def typed_line(prompt: str) -> str | None:
    """``input()`` in a daemon thread, so the bot keeps running while a person types.

    Not the loop's default executor: its thread would keep the process alive (asyncio.run
    waits for it) after Ctrl-C while input() still blocks.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def deliver(value: str | None) -> None:
        if not future.done():
            future.set_result(value)

    def read() -> None:
        try:
            value: str | None = input(prompt)
        except (EOFError, KeyboardInterrupt, OSError):
            value = None
            print()
        loop.call_soon_threadsafe(deliver, value)

    threading.Thread(target=read, name="sandbox-input", daemon=True).start()
    return await future
