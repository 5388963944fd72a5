"""Rendering: one Jinja2 environment over templates/, with filters that keep data as data.

Autoescape is off (the output is Markdown, not HTML); instead `md` neutralises mentions
and Markdown in moderators' text, and `clip` cuts to Discord's limits with "…".
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bot.dates import PartialDate
from bot.text import strip_bidi

_MD_SPECIAL = re.compile(r"([\\*_~`|>#\[\]()-])")
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>")
ZWSP = "\u200b"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def md(value: Any) -> str:
    """Moderators' text as plain text in Discord: no pings, no formatting, one paragraph."""
    if value is None:
        return ""
    text = strip_bidi(str(value))
    text = _MENTION.sub(
        lambda m: m.group(0).replace("@", "@" + ZWSP).replace("<", "<" + ZWSP), text
    )
    text = re.sub(r"(https?://\S+)", lambda m: m.group(1).replace("_", "\x00"), text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("\x00", "_")


def plain(value: Any) -> str:
    """Text for a terminal or a file: only line breaks folded, nothing escaped."""
    return "" if value is None else " ".join(strip_bidi(str(value)).split())


def clip(value: Any, limit: int) -> str:
    """Cut to `limit` characters with "…", never leaving a dangling escape backslash."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def timestamp(value: datetime | str | None, style: str = "f") -> str:
    """A Discord timestamp, shown in each reader's own time zone (from a datetime or the
    store's ISO text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return "" if value is None else f"<t:{int(value.timestamp())}:{style}>"


def pdate(value: PartialDate | None, discord: bool = True) -> str:
    """A date as precise as it is known: a Discord timestamp for a known minute, else the
    plain day (`25 Jan 2024`), month (`Jan 2024`) or year: a day drawn as a timestamp
    would shift across time zones."""
    if value is None:
        return ""
    if value.at is not None:
        return timestamp(value.at) if discord else value.at.strftime("%Y-%m-%d %H:%M UTC")
    parts = value.text.split("-")
    if value.precision == "year":
        return parts[0]
    if value.precision == "month":
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"


def label(value: Any) -> str:
    """An enum value for people: `cruise_missile` -> `cruise missile`, `icbm` -> `ICBM`."""
    if value is None:
        return ""
    text = str(value)
    if text in {"srbm", "mrbm", "irbm", "icbm", "slbm", "tel"}:
        return text.upper()
    return text.replace("_", " ")


def urlsafe(value: Any) -> str:
    """A URL that cannot end a Markdown link early or break out of `<...>`."""
    text = "" if value is None else str(value)
    return (
        text.replace(" ", "%20")
        .replace("<", "%3C")
        .replace(">", "%3E")
        .replace(")", "%29")
        .replace("(", "%28")
    )


def number(value: Any) -> str:
    """150.0 -> `150`, 1380.5 -> `1,380.5`."""
    if value is None:
        return ""
    f = float(value)
    return f"{f:,.0f}" if f.is_integer() else f"{f:,.1f}"


@cache
def environment() -> jinja2.Environment:
    """The templates, found through the installed `templates` package (checkout or wheel)."""
    import templates

    root = Path(templates.__file__).parent
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        md=md,
        plain=plain,
        clip=clip,
        ts=timestamp,
        pdate=pdate,
        label=label,
        num=number,
        urlsafe=urlsafe,
    )
    return env


def render(name: str, **context: Any) -> str:
    """Render `templates/<name>` and strip the edges."""
    return environment().get_template(name).render(**context).strip()


def message(name: str, *args: Any, **kwargs: Any) -> str:
    """One short line from a macro in `templates/cli/messages.j2`."""
    module = environment().get_template("cli/messages.j2").module
    return str(getattr(module, name)(*args, **kwargs)).strip()


def blocks(name: str, **context: Any) -> dict[str, str]:
    """Render each `{% block %}` of a template on its own: how a template describes an
    embed (title, description, fields, footer) while staying one file of text."""
    env = environment()
    template = env.get_template(name)
    ctx = template.new_context(dict(context))
    for _ in template.root_render_func(ctx):  # runs top-level imports and sets into ctx
        pass
    return {
        key: "".join(render_block(ctx)).strip() for key, render_block in template.blocks.items()
    }
