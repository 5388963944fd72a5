"""Rendering: one Jinja2 environment over templates/, with filters that keep data as data.

Autoescape is off (the output is Markdown, not HTML); instead `md` neutralises mentions
and Markdown in moderators' text, and `clip` cuts to Discord's limits with "…".

The environment has Jinja2's i18n extension wired to `bot.i18n`: a template's sentences are
`{% trans %}` blocks, translated by whichever catalogue is active when it renders. Words
that filters produce (a category's label, a month's name) come from tables marked for the
same catalogue.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bot.dates import PartialDate
from bot.errors import ValidationError
from bot.i18n import N_, _, ngettext
from bot.text import strip_bidi

_MD_SPECIAL = re.compile(r"([\\*_~`|>#\[\]()-])")
_MENTION = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>")
ZWSP = "\u200b"
#: Month and weekday names as dates show them (`30 Jan 2024`, `Mon 05 Feb`).
MONTHS = (
    # TRANSLATORS: abbreviated month names, as in "30 Jan 2024".
    N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"),
    N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"),
)  # fmt: skip
# TRANSLATORS: abbreviated weekday names, as in "Mon 05 Feb 2024".
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

#: How stored values read: categories, platforms, outcomes, confidences, stances, actor
#: kinds, subscription modes and states. A value missing here shows with `_` as a space,
#: untranslated (`tests/unit/test_i18n.py` checks every value of `bot.models` is here).
LABELS = {
    "cruise_missile": N_("cruise missile"), "srbm": N_("SRBM"), "mrbm": N_("MRBM"),
    "irbm": N_("IRBM"), "icbm": N_("ICBM"), "slbm": N_("SLBM"), "hypersonic": N_("hypersonic"),
    "space_launch": N_("space launch"), "nuclear_test": N_("nuclear test"),
    "artillery": N_("artillery"), "unknown": N_("unknown"), "other": N_("other"),
    "ground": N_("ground"), "tel": N_("TEL"), "submarine": N_("submarine"), "ship": N_("ship"),
    "aircraft": N_("aircraft"), "silo": N_("silo"),
    "success": N_("success"), "failure": N_("failure"),
    "disputed": N_("disputed"), "reported": N_("reported"), "confirmed": N_("confirmed"),
    "retracted": N_("retracted"),
    "government": N_("government"), "military": N_("military"),
    "international_org": N_("international org"), "analyst": N_("analyst"),
    "condemns": N_("condemns"), "concerned": N_("concerned"), "monitoring": N_("monitoring"),
    "no_comment": N_("no comment"), "supports": N_("supports"), "assessment": N_("assessment"),
    "instant": N_("instant"), "digest": N_("digest"), "both": N_("both"),
    "daily": N_("daily"), "weekly": N_("weekly"),
    "active": N_("active"), "paused": N_("paused"), "broken": N_("broken"),
}  # fmt: skip

#: An event's fields as lists and the change log name them (`Changed: distance km`).
FIELD_NAMES = {
    "date": N_("date"), "occurred_on": N_("occurred on"), "occurred_at": N_("occurred at"),
    "date_precision": N_("date precision"), "actor": N_("actor"), "category": N_("category"),
    "name": N_("name"), "count": N_("count"), "platform": N_("platform"),
    "launch_site": N_("launch site"), "latitude": N_("latitude"), "longitude": N_("longitude"),
    "landing_area": N_("landing area"), "distance_km": N_("distance km"),
    "claimed_distance_km": N_("claimed distance km"), "apogee_km": N_("apogee km"), "outcome": N_("outcome"), "claimed": N_("claimed"),
    "overseen_by": N_("overseen by"), "region": N_("region"), "summary": N_("summary"),
    "confidence": N_("confidence"), "external_id": N_("external id"),
    "retraction_reason": N_("retraction reason"), "sources": N_("sources"),
}  # fmt: skip

#: An event's fields as a heading names them (`Distance: — → 380 km` in a correction).
FIELD_LABELS = {
    "date": N_("Date"), "occurred_on": N_("Date"), "occurred_at": N_("Time"),
    "date_precision": N_("Date precision"), "actor": N_("Actor"), "category": N_("Category"),
    "name": N_("Name"), "count": N_("Count"), "platform": N_("Platform"),
    "launch_site": N_("Site"), "latitude": N_("Latitude"), "longitude": N_("Longitude"),
    "landing_area": N_("Landing"), "distance_km": N_("Distance"),
    "claimed_distance_km": N_("Claimed distance"), "apogee_km": N_("Apogee"),
    "outcome": N_("Outcome"), "claimed": N_("Claimed"), "overseen_by": N_("Overseen by"),
    "region": N_("Region"), "summary": N_("Summary"), "confidence": N_("Confidence"),
    "external_id": N_("External id"), "retraction_reason": N_("Reason"),
    "sources": N_("Sources"),
}  # fmt: skip


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


def pdate(value: PartialDate | str | None, discord: bool = True) -> str:
    """A date as precise as it is known: a Discord timestamp for a known minute, else the
    plain day (`25 Jan 2024`), month (`Jan 2024`) or year: a day drawn as a timestamp
    would shift across time zones. Stored text (`2024-01-30`, a reaction's date) reads the
    same way as an event's date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = PartialDate.parse(text)
        except ValidationError:  # not a date after all: shown as stored
            return text
    if value.at is not None:
        return timestamp(value.at) if discord else value.at.strftime("%Y-%m-%d %H:%M UTC")
    parts = value.text.split("-")
    if value.precision == "year":
        return parts[0]
    month = _(MONTHS[int(parts[1]) - 1])
    if value.precision == "month":
        # TRANSLATORS: a month, e.g. Jan 2024.
        return _("{month} {year}").format(month=month, year=parts[0])
    # TRANSLATORS: a day, e.g. 25 Jan 2024.
    return _("{day} {month} {year}").format(day=int(parts[2]), month=month, year=parts[0])


def local_day(value: datetime, with_time: bool = False) -> str:
    """A moment as a reader's calendar shows it: `Mon 05 Feb 2024`, or `Mon 05 Feb 08:00`."""
    weekday = _(WEEKDAYS[value.weekday()])
    month = _(MONTHS[value.month - 1])
    day = f"{value.day:02d}"
    if with_time:
        # TRANSLATORS: a day and time, e.g. Mon 05 Feb 08:00.
        return _("{weekday} {day} {month} {time}").format(
            weekday=weekday, day=day, month=month, time=value.strftime("%H:%M")
        )
    # TRANSLATORS: a day, e.g. Mon 05 Feb 2024.
    return _("{weekday} {day} {month} {year}").format(
        weekday=weekday, day=day, month=month, year=value.year
    )


def english_label(value: Any) -> str:
    """An enum value in English, untranslated: for what Discord keeps (command choices)."""
    if value is None:
        return ""
    text = str(value)
    return LABELS.get(text, text.replace("_", " "))


def label(value: Any) -> str:
    """An enum value for people: `cruise_missile` -> `cruise missile`, `icbm` -> `ICBM`."""
    if value is None:
        return ""
    text = str(value)
    return _(LABELS[text]) if text in LABELS else text.replace("_", " ")


def field_name(field: Any) -> str:
    """An event field as a list names it: `distance_km` -> `distance km`."""
    text = str(field)
    return _(FIELD_NAMES[text]) if text in FIELD_NAMES else text.replace("_", " ")


def field_label(field: Any) -> str:
    """An event field as a heading names it: `distance_km` -> `Distance`."""
    text = str(field)
    return _(FIELD_LABELS[text]) if text in FIELD_LABELS else text.replace("_", " ")


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
        extensions=["jinja2.ext.i18n"],
    )
    # Called at render time, so the catalogue active then answers (bot.i18n).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_, ngettext=ngettext, newstyle=True
    )
    env.filters.update(
        md=md,
        plain=plain,
        clip=clip,
        ts=timestamp,
        pdate=pdate,
        label=label,
        field_name=field_name,
        field_label=field_label,
        num=number,
        urlsafe=urlsafe,
    )
    return env


def render(name: str, **context: Any) -> str:
    """Render `templates/<name>` and strip the edges."""
    return environment().get_template(name).render(**context).strip()


def blocks(name: str, **context: Any) -> dict[str, str]:
    """Render each `{% block %}` of a template on its own: how a template describes an
    embed (title, description, fields, footer) while staying one file of text."""
    env = environment()
    template = env.get_template(name)
    ctx = template.new_context(dict(context))
    for _item in template.root_render_func(ctx):  # runs top-level imports and sets into ctx
        pass
    return {
        key: "".join(render_block(ctx)).strip() for key, render_block in template.blocks.items()
    }
