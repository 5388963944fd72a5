"""Item fields as plain text: HTML to text with the standard library's `html.parser`,
lengths bounded, links kept only when they are web addresses.

Feed summaries are HTML written by strangers. What reaches an item is text: tags dropped,
entities decoded once, the contents of script, style and the like dropped whole, block
elements turned into line breaks, control characters removed. Nothing here escapes for
Discord: a `@everyone` or `**bold**` in a summary stays those characters, and the
templates' `md` filter neutralises them where they are shown.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: The most of each field an item keeps: a feed may put a whole article in its summary.
LIMITS = {"title": 300, "summary": 4000, "feed_title": 200}

#: Elements whose content is not text for a reader.
_SKIP = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "svg", "math", "head"}
)
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
#: Elements that end a line of text.
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP and tag not in _VOID:
            self.skipping.append(tag)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag in _SKIP:
            while self.skipping and self.skipping.pop() != tag:
                pass
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text a browser would show for `html`, as lines of single-spaced words."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return tidy("".join(parser.parts))


def tidy(text: str) -> str:
    """Control characters removed, spaces folded, at most one blank line in a row."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clip(text: str, field: str) -> str:
    """`text` cut to the field's limit, ending in "…" when cut."""
    limit = LIMITS[field]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_link(value: str, base: str) -> str | None:
    """`value` as an absolute http(s) address (relative ones resolved against `base`);
    None for anything else, such as `javascript:` or `mailto:`."""
    value = value.strip()
    if not value:
        return None
    try:
        url = urljoin(base, value)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None
