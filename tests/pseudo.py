"""A pseudo-locale that marks every translated piece of text, and a reader that finds the rest.

`Pseudo` answers each message of the committed catalogue (`bot/locale/launchwatch.pot`) with
its English wrapped in ⟦…⟧, and any other text unchanged. Only the literal parts are wrapped,
never the placeholders (`%(name)s`, `{name}`), so the values filled in stay outside the marks
and are checked on their own: a sentence left out of the catalogue cannot hide inside another.

`leftover_words` removes what is marked, then the data (moderators' text, names, numbers,
dates, ids, mentions, URLs, emoji and Markdown), and returns the words left: each one is text
a person reads that no catalogue would translate.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "bot/locale/launchwatch.pot"
OPEN, CLOSE = "⟦", "⟧"

_PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sd]|%%|\{[A-Za-z_]+\}")
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"\b[^\W\d_]{2,}\b")


def catalogue_ids(path: Path = POT) -> set[str]:
    """Every msgid (singular and plural) of a catalogue file."""
    with path.open("rb") as f:
        catalog = read_po(f)
    ids: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids.update(message.id if isinstance(message.id, tuple) else (message.id,))
    return ids


def wrap(text: str) -> str:
    """Each run of literal text between placeholders in marks: `⟦Page ⟧%(page)s⟦ of ⟧…`."""
    out, last = [], 0
    for m in _PLACEHOLDER.finditer(text):
        out += [_mark(text[last : m.start()]), m.group(0)]
        last = m.end()
    out.append(_mark(text[last:]))
    return "".join(out)


def _mark(run: str) -> str:
    return f"{OPEN}{run}{CLOSE}" if run.strip() else run


class Pseudo(gettext.NullTranslations):
    """The catalogue's messages marked; text the catalogue lacks comes back as it went in."""

    def __init__(self, ids: Iterable[str] | None = None) -> None:
        super().__init__()
        self.ids = set(catalogue_ids() if ids is None else ids)

    def gettext(self, message: str) -> str:
        return wrap(message) if message in self.ids else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        chosen = msgid1 if n == 1 else msgid2
        return wrap(chosen) if msgid1 in self.ids else chosen


#: Mentions, timestamps, links, code, paths and flags: never words to translate. None of
#: them reaches across a mark, so the marks stay whole.
_NOT_WORDS = re.compile(
    r"<(?:@[!&]?|#)\d+>"  # mentions
    r"|<t:\d+:\w>"  # Discord timestamps
    r"|\b[a-z]+://[^\s⟦⟧]+"  # links and store URLs
    r"|`[^`\n⟦⟧]*`"  # code: an id, a command as typed
    r"|\[[^\]⟦⟧]*\]\(<[^>]*>\)"  # Markdown links (their text is a source's title: data)
    r"|[\w./-]*\.(?:db|json|csv|toml|log)\b"  # file paths
    r"|(?<![\w-])--[\w-]+"  # command-line flags
    r"|\b(?:daily|weekly):\d{4}-(?:W\d\d|\d\d-\d\d)\b"  # a digest's period key (matched, never read)
)


def unmarked(text: str) -> str:
    """The text without its marked parts (innermost first, should any be nested)."""
    while True:
        stripped = _MARKED.sub(" ", text)
        if stripped == text:
            return text
        text = stripped


def leftover_words(
    text: str, data: Iterable[str], identifiers: Iterable[str], names: Iterable[str] = ()
) -> list[str]:
    """The words of `text` outside the marks that are neither data nor names.

    `data` is what people typed or stored (removed where it stands whole, or clipped with
    "…"); `names` are read as they are anywhere (the product, Discord). `identifiers` are
    what people type as they are (options, stored values, settings): allowed only where a
    message quotes them, filled in on their own (`**until**: …`, `use one of a, b, c`,
    `[delivery]`), never as words of a sentence, so an untranslated label cannot pass."""
    text = re.sub(r"\\(.)", r"\1", text)  # Markdown escapes undone, as a reader sees it
    text = _quoted(_NOT_WORDS.sub(" ", text), set(identifiers))
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = _without(text, value)
    text = unmarked(text)
    allowed = {n.casefold() for n in names}
    return [w for w in _WORD.findall(text) if w.casefold() not in allowed]


def _quoted(text: str, identifiers: set[str]) -> str:
    """`text` without the identifiers a message quotes on their own."""
    if not identifiers:
        return text
    one = "(?:" + "|".join(re.escape(i) for i in sorted(identifiers, key=len, reverse=True)) + ")"
    text = re.sub(rf"(?<![\w-]){one}(?:, {one})+(?![\w-])", " ", text)  # a list of them
    # A field named at the head of an error (`**until**: …`), a configuration section.
    text = re.sub(rf"^(?:\*\*)?{one}(?:\*\*)?:|\[{one}\]", " ", text, flags=re.M)
    # A value filled in alone before or between the marked parts of a message, or ending one.
    text = re.sub(rf"(^|{CLOSE})[ \t]*{one}(?=[ \t]*{OPEN})", r"\1 ", text, flags=re.M)
    return re.sub(rf"{CLOSE}[ \t]*{one}[ \t]*$", CLOSE, text, flags=re.M)


def _without(text: str, value: str) -> str:
    """`text` without `value` where it stands whole (not inside a longer word), or cut
    short with "…" (as `clip` cuts data)."""
    text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    if "…" not in text or len(value) < 8:
        return text
    out = []
    for piece in text.split("…"):
        for k in range(len(value) - 1, 7, -1):
            head = value[:k].rstrip()
            if piece.endswith(head) and not piece[: -len(head)][-1:].isalnum():
                piece = piece[: -len(head)]
                break
        out.append(piece)
    return "…".join(out)
