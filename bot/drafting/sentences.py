"""Split an article into the sentences the rules read, each kept verbatim as evidence.

A paragraph is a line. A table row (`Jan 25 | North Korea fires … |`) is one sentence,
its date cell included. Citation marks such as `[4]` are blanked (not removed) in the
text the rules read, so offsets found there are offsets in the verbatim sentence too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Words that end with a full stop without ending the sentence.
_ABBREVIATIONS = {
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mr", "mrs", "ms", "dr", "st", "no", "gen", "lt", "col", "sen", "rep", "gov", "prof",
    "u.s", "u.n", "u.k", "e.g", "i.e", "vs", "inc", "co", "corp", "jr", "sr", "approx",
}  # fmt: skip
#: After "a.m." these words go on with the time ("7:22 a.m. Seoul time").
_TIME_FOLLOWERS = {
    "seoul", "pyongyang", "tokyo", "kst", "jst", "gmt", "utc", "local", "korea", "korean",
    "japan", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
_END = re.compile(r"[.!?][\"”’)\]]*\s+(?=[\"“‘(]?[A-Z0-9])")
_CITATION = re.compile(r"\[\d{1,3}\]")
_RULE_ROW = re.compile(r"^[\s|:\-]+$")


@dataclass(frozen=True)
class Sentence:
    """One sentence: `text` verbatim, `scan` the same length with citations blanked."""

    index: int
    paragraph: int
    text: str
    scan: str
    #: The words a summary quotes: the sentence, or a table row's cells after its date.
    summary: str
    #: The first sentence of its paragraph (where datelines stand).
    opens_paragraph: bool
    #: A table row.
    row: bool = False


def split(text: str) -> list[Sentence]:
    """The article's sentences in reading order."""
    out: list[Sentence] = []
    for number, line in enumerate(text.splitlines()):
        line = line.strip()
        if not re.search(r"[A-Za-z]", line) or _RULE_ROW.match(line):
            continue
        if "|" in line:
            cells = [c.strip() for c in line.strip("|").split("|") if c.strip()]
            summary = " ".join(cells[1:]) if len(cells) > 1 else cells[0]
            scan = line.replace("|", ";")
            out.append(_sentence(len(out), number, line, scan, _full_stop(summary), True, True))
            continue
        for i, part in enumerate(_parts(line)):
            scan = _CITATION.sub(lambda m: " " * len(m.group(0)), part)
            out.append(_sentence(len(out), number, part, scan, _clean(part), i == 0, False))
    return out


def _sentence(
    index: int, paragraph: int, text: str, scan: str, summary: str, opens: bool, row: bool
) -> Sentence:
    return Sentence(index, paragraph, text, scan, summary, opens, row)


def _parts(line: str) -> list[str]:
    parts, start = [], 0
    for m in _END.finditer(line):
        before = line[start : m.start() + 1]
        if before.count("“") > before.count("”") or before.count('"') % 2:
            continue  # inside a quotation
        word = re.split(r"\s", before.rstrip('.!?"”’)]'))[-1].lower()
        following = line[m.end() :].split(" ", 1)[0].strip('"“‘(').lower()
        if line[m.start()] == "." and (
            word in _ABBREVIATIONS
            or re.fullmatch(r"[a-z]", word)
            or (word in ("a.m", "p.m") and following in _TIME_FOLLOWERS)
        ):
            continue
        parts.append(line[start : m.end()].strip())
        start = m.end()
    parts.append(line[start:].strip())
    return [p for p in parts if p]


def _clean(text: str) -> str:
    """The sentence as a summary quotes it: citation marks dropped, spaces folded."""
    return " ".join(_CITATION.sub("", text).split()).replace(" .", ".")


def _full_stop(text: str) -> str:
    text = _clean(text)
    return text if text.endswith((".", "!", "?", "”", '"')) else text + "."
