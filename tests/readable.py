"""What a fitted embed must be for Discord to take it and for a person to read it.

Shared by the fitter's unit tests and the end-to-end tests, which see the embed as Discord
received it (a dict). Discord refuses an embed over its limits with a 400; a reader is let
down by an embed that was cut mid-escape (a stray backslash, or formatting that runs on)
or mid-link (raw `[title](<https://…` shown as text).
"""

from __future__ import annotations

import re
from typing import Any

TOTAL, TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER = (
    6000,
    256,
    4096,
    25,
    256,
    1024,
    2048,
)
#: A Markdown character `md` escapes, escaped; or any other character.
_TOKEN = re.compile(r"\\[\\*_~`|>#\[\]()-]|[^\\]", re.S)
_LINK = re.compile(r"\[(?:\\.|[^\\\]\[])*\]\(<[^<>\s]*>\)")


def size(embed: dict[str, Any]) -> int:
    """The characters Discord counts towards an embed's 6,000."""
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
    )


def assert_fits(embed: dict[str, Any]) -> None:
    """Within every one of Discord's embed limits."""
    assert size(embed) <= TOTAL, size(embed)
    assert len(embed.get("title") or "") <= TITLE
    assert len(embed.get("description") or "") <= DESCRIPTION
    fields = embed.get("fields") or []
    assert len(fields) <= FIELDS
    for f in fields:
        assert len(f["name"]) <= FIELD_NAME and 0 < len(f["value"]) <= FIELD_VALUE, f["name"]
    assert len((embed.get("footer") or {}).get("text") or "") <= FOOTER


def assert_reads_cleanly(text: str) -> None:
    """Every backslash escapes a Markdown character (none left dangling by a cut), and every
    link is whole: no `[name](<url>` cut short and shown as raw text."""
    assert _TOKEN.sub("", text) == "", f"a dangling escape in …{text[-60:]!r}"
    rest = _LINK.sub("", text)
    unescaped = re.sub(r"\\.", "", rest)
    assert "[" not in unescaped and "](<" not in unescaped, f"a cut link in …{text[-120:]!r}"


def unescape(text: str) -> str:
    """The text a reader sees (escapes undone)."""
    return re.sub(r"\\(.)", r"\1", text)
