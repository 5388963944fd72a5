"""The sandbox console: a person's lines sent through the emulator, and what Discord would show.

A person types slash commands the way Discord's client sends them (``/timeline since:2024``,
``as moderator in #alerts /event add …``) and sees what Discord would show: the bot's answers,
its follow-ups, and every new or edited post in every channel (the alerts). Nothing here talks
to the bot directly; every line goes through the emulator's interactions, so the sandbox shows
the bot exactly as deployed. All wording comes from templates/sandbox/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.emulator.api import (
    BadOption,
    CommandNotSynced,
    CommandRefused,
    Emulator,
    InteractionNotAnswered,
    InvokeResult,
    MessageRecord,
    permission_names,
)
from bot.emulator.registry import ATTACHMENT, SUB_COMMAND, SUB_GROUP
from bot.render import render
from bot.sandbox.lines import Line, LineError, LineSource, parse_line
from bot.sandbox.transcript import WIDTH, draw_message, words, wrap
from bot.sandbox.world import SANDBOX_GUILD_ID

log = logging.getLogger("launchwatch.sandbox")

SETTLE = 0.3
"""Seconds to wait after a line before showing what the channels got (alerts come after)."""


def _is_group(node: dict[str, Any]) -> bool:
    return any(o["type"] in (SUB_COMMAND, SUB_GROUP) for o in node.get("options") or [])


def _leaves(top: dict[str, Any]) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """Every runnable path of a synced command: ``["event", "add"]`` and its node."""

    def walk(node: dict[str, Any], path: list[str]) -> Iterator[tuple[list[str], dict[str, Any]]]:
        if not _is_group(node):
            yield path, node
            return
        for sub in node.get("options") or []:
            if sub["type"] in (SUB_COMMAND, SUB_GROUP):
                yield from walk(sub, [*path, sub["name"]])

    yield from walk(top, [top["name"]])


class Console:
    """Reads lines, sends them through the emulator, prints what Discord would show."""

    def __init__(
        self,
        emulator: Emulator,
        out: TextIO,
        *,
        settle: float = SETTLE,
        width: int = WIDTH,
        guild_id: int = SANDBOX_GUILD_ID,
        files: Path | None = None,
    ) -> None:
        self.emulator = emulator
        self.world = emulator.world
        self.guild = self.world.guilds[guild_id]
        self.out = out
        self.settle = settle
        self.width = width
        self.user = "member"
        self.channel = "general"
        self.seen: dict[int, int] = {}  # message id -> edit count already shown
        # Messages shown with buttons, newest first, with who may press them (None: anyone).
        self.clickable: list[tuple[MessageRecord, str | None]] = []
        self.reported = 0  # how many of the emulator's contract violations were shown
        #: Where the files the bot sends (charts, maps) are saved, to be opened.
        self.files = files
        self.saved: dict[int, Path] = {}  # attachment id -> its file
        self.mark_all_seen()

    # -- output ----------------------------------------------------------------------------

    def say(self, *lines: str) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def prompt(self) -> str:
        return words("prompt", self.user, self.channel) + " "

    def mark_all_seen(self) -> None:
        for message in self.emulator.store.created:
            self.seen[message.id] = message.edits

    def show_answer(self, message: MessageRecord, user: str) -> None:
        author = str(message.author.get("global_name") or message.author.get("username"))
        header = words("answer_header", author, message.ephemeral, edited=False)
        saved = self.save_files(message)
        self.say(*draw_message(message, self.world, header=header, width=self.width, saved=saved))
        self.seen[message.id] = message.edits
        self.remember_buttons(message, user)

    def remember_buttons(self, message: MessageRecord, user: str | None) -> None:
        """``click`` looks at the newest shown messages with buttons first."""
        self.clickable = [(m, u) for m, u in self.clickable if m.id != message.id]
        if message.components:
            self.clickable.insert(0, (message, user))
            del self.clickable[10:]

    def show_news(self) -> None:
        """Posts and edits in any channel since the last look (alerts, corrections, pages)."""
        store = self.emulator.store
        for message in list(store.created):
            if message.id not in store.by_id or self.seen.get(message.id) == message.edits:
                continue
            edited = message.id in self.seen
            self.seen[message.id] = message.edits
            channel = self.world.channel(message.channel_id)
            author = str(message.author.get("global_name") or message.author.get("username"))
            header = words("post_header", channel.name if channel else "?", author, edited)
            ref = message.message_reference
            replied = store.by_id.get(int(ref["message_id"])) if ref else None
            saved = self.save_files(message)
            self.say(
                *draw_message(
                    message,
                    self.world,
                    header=header,
                    width=self.width,
                    replied=replied,
                    saved=saved,
                )
            )
            if not edited:
                self.remember_buttons(message, None)

    def save_files(self, message: MessageRecord) -> dict[int, Path]:
        """Write each file of the message to the files folder (once), so a person can open
        the chart or map the bot sent; where each went."""
        if self.files is None:
            return {}
        for attachment in message.attachments:
            if attachment.id in self.saved:
                continue
            path = self.files / f"{message.id}-{Path(attachment.filename).name}"
            try:
                self.files.mkdir(parents=True, exist_ok=True)
                path.write_bytes(attachment.content)
            except OSError:
                log.exception("could not save %s", path)
                continue
            self.saved[attachment.id] = path
        return {a.id: self.saved[a.id] for a in message.attachments if a.id in self.saved}

    def report_violations(self) -> None:
        """Every body the bot sent that broke Discord's contract, loudly, as soon as seen: the
        sandbox must never show a bot that real Discord would refuse without saying so."""
        found = self.emulator.spec_errors
        self.reported = min(self.reported, len(found))
        for violation in found[self.reported :]:
            log.error(
                "body Discord would refuse (%s) on %s %s: %s; body: %r",
                violation.kind,
                violation.method,
                violation.path,
                violation.errors,
                violation.body,
            )
            problems = _problems(violation.errors)
            self.say(
                *wrap(words("violation", violation.kind, violation.route, problems), self.width)
            )
        self.reported = len(found)

    # -- the loop --------------------------------------------------------------------------

    async def run(self, source: LineSource, *, echo: bool) -> int:
        """Until ``quit`` or the end of input; ``echo`` prints each line after its prompt.

        Returns the exit status: 1 when any body broke the contract during the session."""
        while True:
            prompt = self.prompt()
            text = await source(prompt)
            if text is None:
                break
            if echo:
                self.say(prompt + text)
            if not await self.handle(text):
                break
        self.show_news()  # what arrived during the last line's settle time and after
        self.report_violations()
        broken = len(self.emulator.spec_errors)
        if broken:
            self.say(*wrap(words("violations_total", broken), self.width))
        self.say(words("bye"))
        return 1 if broken else 0

    async def handle(self, text: str) -> bool:
        """One line; False when it asks to leave. Mistakes print a line and the console goes on."""
        try:
            line = parse_line(text)
            if line.keyword == "quit":
                return False
            await self.dispatch(line)
        except LineError as problem:
            self.say(str(problem))
        except Exception as exc:  # the console must outlive any one line
            log.exception("sandbox console line %r failed", text)
            self.say(words("console_error", f"{type(exc).__name__}: {exc}"))
        if self.settle > 0:
            await asyncio.sleep(self.settle)
        self.show_news()
        self.report_violations()
        return True

    async def dispatch(self, line: Line) -> None:
        user = self._user(line.user) if line.user else None
        channel = self._channel(line.channel) if line.channel else None
        if line.keyword == "":
            if user or channel:
                self.user, self.channel = user or self.user, channel or self.channel
                self.say(words("identity", self.user, self.channel))
        elif line.keyword == "help":
            self.say(*self.help(line.rest))
        elif line.keyword == "wait":
            await self.wait(line.rest)
        elif line.keyword == "click":
            await self.click(" ".join(line.rest), user)
        else:
            await self.command(line, user or self.user, channel or self.channel)

    def _user(self, name: str) -> str:
        people = [m.user.username for m in self.guild.members.values() if not m.user.bot]
        match = next((p for p in people if p.lower() == name.lower()), None)
        if match is None:
            raise LineError(words("unknown_person", name, people))
        return match

    def _channel(self, name: str) -> str:
        places = [c.name for c in self.guild.channels.values() if c.type == 0]
        match = next((c for c in places if c.lower() == name.lower()), None)
        if match is None:
            raise LineError(words("unknown_place", name, places))
        return match

    async def wait(self, rest: list[str]) -> None:
        word = rest[0] if rest else "1"
        try:
            seconds = float(word)
        except ValueError:
            raise LineError(words("bad_wait", word)) from None
        await asyncio.sleep(max(0.0, min(seconds, 60.0)))

    # -- slash commands --------------------------------------------------------------------

    def synced(self) -> dict[str, dict[str, Any]]:
        """The chat-input commands Discord holds for this guild (guild ones over global ones)."""
        registry = self.emulator.registry
        found = {c["name"]: c for c in registry.get(None) if c.get("type", 1) == 1}
        found |= {c["name"]: c for c in registry.get(self.guild.id) if c.get("type", 1) == 1}
        return found

    def resolve(
        self, name: str, rest: list[str]
    ) -> tuple[dict[str, Any], list[str], dict[str, Any], list[str]]:
        """The top command, the subcommand path, its node, and the words left for options."""
        top = self.synced().get(name.lower())
        if top is None:
            raise LineError(words("unknown_command", name))
        node, path, i = top, [top["name"]], 0
        while _is_group(node):
            subs = [o for o in node["options"] if o["type"] in (SUB_COMMAND, SUB_GROUP)]
            match = next((s for s in subs if i < len(rest) and s["name"] == rest[i].lower()), None)
            if match is None:
                raise LineError(
                    words("needs_subcommand", " ".join(path), [s["name"] for s in subs])
                )
            node, i = match, i + 1
            path.append(match["name"])
        return top, path, node, rest[i:]

    def options(self, path: list[str], node: dict[str, Any], tokens: list[str]) -> dict[str, Any]:
        """``name:value`` words checked against the synced options, as the client would."""
        declared = {o["name"]: o for o in node.get("options") or []}
        command = " ".join(path)
        example = next(iter(declared), "")
        values: dict[str, Any] = {}
        for token in tokens:
            name, colon, value = token.partition(":")
            if not colon or not name:
                raise LineError(
                    words("no_colon", token, command, f"{example}:…" if example else "")
                )
            option = declared.get(name.lower())
            if option is None:
                raise LineError(words("unknown_option", command, name, list(declared)))
            if option["name"] in values:
                raise LineError(words("duplicate_option", option["name"]))
            if option["type"] == ATTACHMENT:
                values[option["name"]] = self._attachment(value)
            else:
                values[option["name"]] = _choice(option, value)
        missing = [n for n, o in declared.items() if o.get("required") and n not in values]
        if missing:
            raise LineError(words("missing_options", command, missing))
        return values

    @staticmethod
    def _attachment(value: str) -> tuple[str, bytes]:
        """A file option names a local file; the client uploads its bytes."""
        path = Path(value).expanduser()
        try:
            return path.name, path.read_bytes()
        except OSError as exc:
            raise LineError(words("unreadable_file", value, exc.strerror or exc)) from None

    async def autocompleted(
        self, path: list[str], node: dict[str, Any], values: dict[str, Any], user: str, channel: str
    ) -> dict[str, Any]:
        """Typed text for an autocompleted option becomes the bot's first suggestion's value,
        unless it already is a suggestion's value or an id (``event:5``, as the bot's own hints
        say): what picking from the list does in Discord."""
        for option in node.get("options") or []:
            name = option["name"]
            if not option.get("autocomplete") or name not in values:
                continue
            typed = str(values[name])
            if typed.lstrip("#").isdigit():
                continue
            try:
                choices = await self.emulator.autocomplete(
                    " ".join(path), values, focused=name, user=user, channel=channel
                )
            except (CommandRefused, InteractionNotAnswered):
                continue  # the invoke itself shows the refusal or the silence
            if any(str(c["value"]) == typed for c in choices):
                continue
            if not choices:
                self.say(words("no_suggestion", name, typed))
                continue
            values = {**values, name: choices[0]["value"]}
            self.say(words("autocompleted", name, typed, choices[0]["name"]))
        return values

    async def command(self, line: Line, user: str, channel: str) -> None:
        top, path, node, tokens = self.resolve(line.name, line.rest)
        values = self.options(path, node, tokens)
        command = " ".join(path)
        try:
            values = await self.autocompleted(path, node, values, user, channel)
            result = await self.emulator.invoke(command, values, user=user, channel=channel)
        except BadOption as exc:
            raise LineError(words("bad_option", exc)) from None
        except CommandNotSynced:
            raise LineError(words("unknown_command", command)) from None
        except InteractionNotAnswered:
            self.say(words("no_answer", command))
            return
        if result.refused:
            perms = top.get("default_member_permissions")
            needs = permission_names(int(perms)) if perms not in (None, "0") else []
            self.say(words("refused", top["name"], needs))
            return
        self.show_result(result, command, user)

    def show_result(self, result: InvokeResult, command: str, user: str) -> None:
        if result.late:
            self.say(words("late", command))
        if result.modal is not None:
            self.say(words("modal", result.modal.get("title", "")))
        shown: list[MessageRecord] = []
        original = result.original
        if original is not None and (not original.loading or not result.followups):
            shown.append(original)
        shown += [m for m in result.followups if all(m.id != s.id for s in shown)]
        for message in shown:
            self.show_answer(message, user)

    # -- buttons ---------------------------------------------------------------------------

    async def click(self, label: str, user: str | None) -> None:
        """Press a button on the newest shown message that has it (the last answer, or a post
        such as an alert), as whoever got that answer unless the line says ``as``."""
        if not label:
            raise LineError(words("click_usage"))
        store = self.emulator.store
        self.clickable = [(m, u) for m, u in self.clickable if m.id in store.by_id]
        if not self.clickable:
            raise LineError(words("nothing_to_click"))
        found = next(
            (
                (target, owner, button)
                for target, owner in self.clickable
                for button in _buttons(target)
                if _named(button, label.casefold())
            ),
            None,
        )
        if found is None:
            newest = self.clickable[0][0]
            known = [str(b.get("label") or b.get("custom_id")) for b in _buttons(newest)]
            raise LineError(words("no_button", label, known))
        target, owner, button = found
        name = str(button.get("label") or label)
        if button.get("disabled"):
            raise LineError(words("disabled_button", name))
        who = user or owner or self.user
        try:
            result = await self.emulator.click(target, button["custom_id"], user=who)
        except InteractionNotAnswered:
            self.say(words("no_answer", name))
            return
        self.show_result(result, name, who)

    # -- help ------------------------------------------------------------------------------

    def help(self, rest: list[str]) -> list[str]:
        """The synced commands with their options; ``help /event add`` for one of them."""
        synced = self.synced()
        wanted = [w.lstrip("/").lower() for w in rest]
        entries = []
        for name in sorted(synced):
            for path, node in _leaves(synced[name]):
                if wanted and path[: len(wanted)] != wanted:
                    continue
                entries.append(self._help_entry(synced[name], path, node))
        if wanted and not entries:
            raise LineError(words("no_help", " ".join(wanted)))
        text = render("sandbox/help.j2", commands=entries, full=not wanted)
        return wrap(text, self.width, hang=2)

    def _help_entry(
        self, top: dict[str, Any], path: list[str], node: dict[str, Any]
    ) -> dict[str, Any]:
        options = node.get("options") or []
        usage = " ".join(
            [f"/{' '.join(path)}"]
            + [f"{o['name']}:…" if o.get("required") else f"[{o['name']}:…]" for o in options]
        )
        perms = top.get("default_member_permissions")
        grants = self.guild.command_overrides.get(top["name"], set())
        roles = [
            self.guild.roles[i].name
            for kind, i in grants
            if kind == "role" and i in self.guild.roles
        ]
        return {
            "usage": "\n".join(wrap(usage, self.width - 4)).replace("\n", "\n      "),
            "description": node.get("description", ""),
            "needs": permission_names(int(perms)) if perms not in (None, "0") else [],
            "admins_only": perms == "0",
            "granted": sorted(roles),
            "options": [
                {
                    "name": o["name"],
                    "description": o.get("description", ""),
                    "required": bool(o.get("required")),
                    "choices": [c["value"] for c in o.get("choices") or []],
                    "autocomplete": bool(o.get("autocomplete")),
                }
                for o in options
            ],
        }


def _choice(option: dict[str, Any], value: str) -> str:
    """A declared choice's value, found by its value or its shown name (any case)."""
    choices = option.get("choices")
    if not choices:
        return value
    for choice in choices:
        if value.casefold() in (str(choice["value"]).casefold(), str(choice["name"]).casefold()):
            return str(choice["value"])
    known = [str(c["value"]) for c in choices]
    raise LineError(words("not_a_choice", option["name"], value, known))


def _problems(errors: dict[str, Any], path: tuple[str, ...] = ()) -> list[str]:
    """Discord's nested ``errors`` as ``embeds.0.description: Must be 4096 or fewer…`` lines."""
    found: list[str] = []
    for key, value in errors.items():
        if key == "_errors":
            where = ".".join(path)
            found += [f"{where}: {e['message']}" if where else e["message"] for e in value]
        elif isinstance(value, dict):
            found += _problems(value, (*path, key))
    return found


def _buttons(message: MessageRecord) -> list[dict[str, Any]]:
    """The message's pressable buttons (link buttons have no custom_id and open a page)."""
    rows = _rows(message.components)
    return [c for row in rows for c in row if c.get("type") == 2 and c.get("custom_id")]


def _named(button: dict[str, Any], wanted: str) -> bool:
    return wanted in (str(button.get("label", "")).casefold(), str(button["custom_id"]).casefold())


def _rows(components: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    rows: list[list[dict[str, Any]]] = []
    for component in components:
        if component.get("type") == 1:
            rows.append(list(component.get("components") or []))
        else:
            rows.append([component])
    return rows
