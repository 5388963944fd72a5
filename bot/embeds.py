"""Discord messages built from templates, always inside Discord's limits.

A template describes an embed with blocks: `title`, `description`, `footer`, `url` and
`fields`, where each field starts with a line `## Name`. Whatever the data holds, the
result fits: each part is clipped with "…", and the 6,000-character total is kept by
trimming the description, then dropping trailing fields.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord

from bot.render import ZWSP, blocks, clip, render

if TYPE_CHECKING:
    from bot.pictures import Picture

TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL = (
    256,
    4096,
    25,
    256,
    1024,
    2048,
    6000,
)
CONTENT = 2000

#: Embed colours by event category family, so a channel reads at a glance.
COLOURS = {
    "icbm": 0xC0392B, "irbm": 0xD35400, "slbm": 0x8E44AD, "mrbm": 0xE67E22, "srbm": 0xF39C12,
    "cruise_missile": 0x2980B9, "hypersonic": 0xE74C3C, "space_launch": 0x16A085,
    "nuclear_test": 0x6C1C1C, "artillery": 0x7F8C8D, "unknown": 0x95A5A6, "other": 0x95A5A6,
}  # fmt: skip
NEUTRAL = 0x5865F2


def clip_lines(text: str, limit: int) -> str:
    """Cut a list to `limit` characters at a line break, ending with "…" on its own line, so
    no line (a link, a bold date) is left half-drawn; one long line is clipped as text."""
    if len(text) <= limit:
        return text
    head = text[: limit - 2]
    cut = head.rfind("\n")
    if cut >= limit // 2:
        return head[:cut].rstrip() + "\n…"
    return clip(text, limit)


def _fields(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for chunk in ("\n" + text).split("\n## ")[1:]:
        name, _, value = chunk.partition("\n")
        if name.strip():
            out.append(
                (clip(name.strip(), FIELD_NAME), clip_lines(value.strip() or ZWSP, FIELD_VALUE))
            )
    return out[:FIELDS]


def _size(title: str, description: str, footer: str, fields: list[tuple[str, str]]) -> int:
    return len(title) + len(description) + len(footer) + sum(len(n) + len(v) for n, v in fields)


def embed(template: str, *, colour: int = NEUTRAL, **context: Any) -> discord.Embed:
    """An embed from a template's blocks, fitted to Discord's limits."""
    parts = blocks(template, **context)
    title = clip(parts.get("title", ""), TITLE)
    description = clip_lines(parts.get("description", ""), DESCRIPTION)
    footer = clip(parts.get("footer", ""), FOOTER)
    fields = _fields(parts.get("fields", ""))
    room = TOTAL - _size(title, "", footer, fields)
    if len(description) > room:
        description = clip_lines(description, room) if room > 1 else ""
    while fields and _size(title, description, footer, fields) > TOTAL:
        fields.pop()
    e = discord.Embed(title=title or None, description=description or None, colour=colour)
    if parts.get("url"):
        e.url = parts["url"]
    for name, value in fields:
        e.add_field(name=name, value=value, inline=False)
    if footer:
        e.set_footer(text=footer)
    return e


def content(template: str, **context: Any) -> str:
    """Message content from a template, clipped to 2,000 characters."""
    return clip_lines(render(template, **context), CONTENT)


def attach(shown: discord.Embed, picture: Picture, filename: str) -> discord.File:
    """The picture as the file to upload with `shown`, which shows it (`attachment://`):
    an embed's image must name a file of its own message. The picture's description is
    the file's alt text."""
    shown.set_image(url=f"attachment://{filename}")
    return discord.File(io.BytesIO(picture.png), filename=filename, description=picture.description)
