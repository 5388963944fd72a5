"""Discord messages as terminal text: Markdown undone, mentions named, embeds drawn as boxes.

The console shows what a Discord client would show, so the bot's Markdown (bold, escapes,
inline code, `<t:…>` timestamps, `<@id>` mentions) is turned back into plain words, and an
embed becomes a box of at most ``width`` columns. Every word comes from templates/sandbox/;
this module only lays text out (wrapping by display width, so emoji do not break the box).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.emulator.api import MessageRecord, World
from bot.render import environment

WIDTH = 78
ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufe0e", "\ufe0f"}
VS16 = "\ufe0f"

_ESCAPED = re.compile(r"\\([\\*_~`|>#\[\]()\-.!<:@])")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_LINK = re.compile(r"\[([^\]\n]+)\]\(<?(https?://[^)\s>]+)>?\)")
_ANGLE_URL = re.compile(r"<(https?://[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__|~~|\|\|)(.+?)\1", re.S)
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])")
_CODE = re.compile(r"`{1,3}([^`]*)`{1,3}")
_TIME_STYLES = {
    "t": "%H:%M UTC",
    "T": "%H:%M:%S UTC",
    "d": "%Y-%m-%d",
    "D": "%d %b %Y",
    "f": "%Y-%m-%d %H:%M UTC",
    "F": "%A %d %b %Y %H:%M UTC",
    "R": "%Y-%m-%d %H:%M UTC",
}
# Private-use code points stand in for escaped characters while Markdown is stripped.
_HOLD = 0xF0000


def words(name: str, *args: Any, **kwargs: Any) -> str:
    """One phrase from a macro in templates/sandbox/console.j2 (all console wording lives there)."""
    module = environment().get_template("sandbox/console.j2").module
    return str(getattr(module, name)(*args, **kwargs)).strip()


def file_words(name: str, *args: Any) -> str:
    """One phrase about a file the bot sent, from templates/sandbox/files.j2."""
    module = environment().get_template("sandbox/files.j2").module
    return str(getattr(module, name)(*args)).rstrip()


# -- Markdown to plain text -------------------------------------------------------------------


def plain_text(text: str | None, world: World | None = None) -> str:
    """What a reader sees of Discord Markdown: formatting gone, escapes undone, ids named."""
    if not text:
        return ""
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(1))
        return chr(_HOLD + len(held) - 1)

    out = _ESCAPED.sub(hold, text)
    out = _TIMESTAMP.sub(_timestamp, out)
    out = _MENTION.sub(lambda m: _mention(m, world), out)
    out = _LINK.sub(lambda m: _link(m.group(1), m.group(2)), out)
    out = _ANGLE_URL.sub(r"\1", out)
    out = _CODE.sub(r"\1", out)
    out = _STRONG.sub(r"\2", out)
    out = _EMPHASIS.sub(r"\2", out)
    lines = []
    for line in out.split("\n"):
        line = re.sub(r"^#{1,3} ", "", line)
        line = re.sub(r"^-# ", "", line)
        line = re.sub(r"^>>?>? ?", "│ ", line)
        lines.append(line)
    out = "\n".join(lines)
    out = "".join(c for c in out if c not in ZERO_WIDTH or c == VS16)
    return "".join(held[ord(c) - _HOLD] if _HOLD <= ord(c) < _HOLD + len(held) else c for c in out)


def _timestamp(match: re.Match[str]) -> str:
    when = datetime.fromtimestamp(int(match.group(1)), UTC)
    return when.strftime(_TIME_STYLES[match.group(2) or "f"])


def _mention(match: re.Match[str], world: World | None) -> str:
    kind, ident = match.group(1), int(match.group(2))
    if world is None:
        return match.group(0)
    if kind == "#":
        channel = world.channel(ident)
        return f"#{channel.name}" if channel else words("unknown_channel")
    if kind == "@&":
        for guild in world.guilds.values():
            if ident in guild.roles:
                return f"@{guild.roles[ident].name}"
        return words("unknown_role")
    user = world.user(ident)
    return f"@{user.username}" if user else words("unknown_user")


def _link(label: str, url: str) -> str:
    return url if label == url else f"{label} ({url})"


# -- widths and wrapping ----------------------------------------------------------------------


def char_width(char: str, following: str = "") -> int:
    """Columns a terminal gives ``char``: 0 for joiners and marks, 2 for wide and emoji."""
    if char in ZERO_WIDTH or unicodedata.combining(char):
        return 0
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F") or following == VS16:
        return 2
    return 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    return sum(char_width(c, text[i + 1 : i + 2]) for i, c in enumerate(text))


def _cut(word: str, width: int) -> tuple[str, str]:
    """The longest head of ``word`` that fits ``width`` columns, and the rest."""
    used = 0
    for i, char in enumerate(word):
        used += char_width(char, word[i + 1 : i + 2])
        if used > width:
            return word[: max(i, 1)], word[max(i, 1) :]
    return word, ""


def wrap(text: str, width: int, hang: int = 0) -> list[str]:
    """Greedy wrap by display width; a continuation keeps the line's indent (and bullet),
    plus ``hang`` columns for an indented line."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        stripped = line.lstrip(" ")
        indent = " " * (len(line) - len(stripped))
        bullet = next((b for b in ("↳ ", "│ ", "• ", "- ", "> ") if stripped.startswith(b)), "")
        more = " " * hang if indent else ""
        follow = indent + more + (" " * len(bullet) if bullet != "│ " else bullet)
        current, prefix = "", indent
        for word in stripped.split(" "):
            candidate = f"{current} {word}" if current else word
            if display_width(prefix + candidate) <= width:
                current = candidate
                continue
            if current:
                out.append(prefix + current)
                prefix = follow
            current = word
            while display_width(prefix + current) > width:
                head, current = _cut(current, max(1, width - display_width(prefix)))
                out.append(prefix + head)
                prefix = follow
        out.append(prefix + current)
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


# -- embeds, components, messages -------------------------------------------------------------


def draw_embed(embed: dict[str, Any], world: World | None = None, width: int = WIDTH) -> list[str]:
    """An embed as a box: title, description, fields (name, then value), footer."""
    inner = width - 4
    sections: list[list[str]] = []
    head: list[str] = []
    if embed.get("author", {}).get("name"):
        head += wrap(plain_text(embed["author"]["name"], world), inner)
    if embed.get("title"):
        head += wrap(plain_text(embed["title"], world), inner)
    if embed.get("url"):
        head += wrap(embed["url"], inner)
    if head:
        sections.append(head)
    body: list[str] = []
    if embed.get("description"):
        body += wrap(plain_text(embed["description"], world), inner)
    for field in embed.get("fields") or []:
        if body:
            body.append("")
        body += wrap(words("field_name", plain_text(field.get("name"), world)), inner)
        value = plain_text(field.get("value"), world).strip() or "—"
        body += wrap("\n".join("  " + v for v in value.split("\n")), inner)
    if embed.get("image", {}).get("url"):
        body += wrap(words("image", embed["image"]["url"]), inner)
    if body:
        sections.append(body)
    foot: list[str] = []
    footer = (embed.get("footer") or {}).get("text")
    stamp = embed.get("timestamp")
    if footer or stamp:
        foot += wrap(words("footer", plain_text(footer, world), _iso(stamp)), inner)
    if foot:
        sections.append(foot)
    lines = ["┌" + "─" * (width - 2) + "┐"]
    for i, section in enumerate(sections):
        if i:
            lines.append("├" + "─" * (width - 2) + "┤")
        lines += [f"│ {_pad(line, inner)} │" for line in section]
    lines.append("└" + "─" * (width - 2) + "┘")
    return lines


def _iso(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return stamp
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _leaves(components: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows of interactive components (action rows hold them; a lone one is its own row)."""
    rows: list[list[dict[str, Any]]] = []
    for component in components:
        if component.get("type") == 1:
            rows.append(list(component.get("components") or []))
        elif component.get("components"):
            rows += _leaves(component["components"])
        else:
            rows.append([component])
    return rows


def draw_components(components: list[dict[str, Any]], width: int = WIDTH) -> list[str]:
    """Buttons as ``[ Previous ] [ Next ]``; disabled ones and selects marked."""
    lines: list[str] = []
    for row in _leaves(components):
        shown = [
            words(
                "component",
                kind=c.get("type"),
                label=c.get("label") or c.get("placeholder") or c.get("custom_id") or "",
                disabled=bool(c.get("disabled")),
                url=c.get("url"),
            )
            for c in row
        ]
        if shown:
            lines += wrap(" ".join(shown), width)
    return lines


def draw_message(
    message: MessageRecord,
    world: World | None = None,
    *,
    header: str,
    width: int = WIDTH,
    replied: MessageRecord | None = None,
    saved: Mapping[int, Path] | None = None,
) -> list[str]:
    """A message under its header: reply marker, content, embeds, attachments (with where
    each was `saved`), buttons."""
    lines = [header]
    if replied is not None:
        first = plain_text(replied.content, world).split("\n")[0] or _embed_title(replied, world)
        lines += wrap(words("reply_to", first), width)
    elif message.message_reference:
        lines.append(words("reply_to", ""))
    if message.loading:
        lines.append(words("thinking"))
    if message.content:
        lines += wrap(plain_text(message.content, world), width)
    for embed in message.embeds:
        lines += draw_embed(embed, world, width)
    for attachment in message.attachments:
        path = (saved or {}).get(attachment.id)
        if path is None:
            lines.append(words("attachment", attachment.filename, len(attachment.content)))
            continue
        size = f"{len(attachment.content):,}"
        lines += wrap(file_words("saved", attachment.filename, size), width)
        lines.append(file_words("path", path))
    lines += draw_components(message.components, width)
    return lines


def _embed_title(message: MessageRecord, world: World | None) -> str:
    for embed in message.embeds:
        if embed.get("title"):
            return plain_text(embed["title"], world)
    return ""
