"""The launching state's own claims, and who oversaw a launch.

A claim is the state's words, quoted, in a sentence where it (or its media) speaks:
"North Korea said it had tested “long-range” cruise missiles" claims "long-range". The
quote right before a weapon wins; else the first. "What it called a new-type ICBM"
claims "new-type ICBM". "Oversaw", "watched", "guided", "overseeing" (and "overseen
by") name who oversaw it; "Kim" alone is the fullest name in the text that holds it.
"""

from __future__ import annotations

import re

from bot.drafting.actors import ActorMention

_SAY = re.compile(
    r"\b(?:said|says|say|claimed|claims|claim|announced|announces|described|describes|called|"
    r"calls|reported|reports|hailed|boasted|touted)\b",
    re.IGNORECASE,
)
QUOTE = re.compile(r"“([^”]{1,1500})”|\"([^\"]{1,1500})\"")
_CALLED = re.compile(
    r"\bwhat (?:it|they|Pyongyang|North Korea|state media|KCNA) (?:called|calls|described as|"
    r"claimed (?:was|were))\s+(?:an?\s+|the\s+)?(?P<c>[^,.;“”\"]{3,60}?)(?=\s*(?:[,.;]|that\b|which\b|$))"
)
_NAME = r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?"
_OVERSAW = re.compile(
    rf"(?P<who>{_NAME}(?:\s+{_NAME}){{0,2}})\s+(?:(?:directly|personally|also|had|was|himself)\s+)*"
    r"(?:oversaw|oversees|oversee|overseeing|watched|watches|guided|guides|supervised|supervises|"
    r"observed|observing)\b"
)
_OVERSEEN = re.compile(
    rf"\b(?:overseen|supervised|guided|watched) by\s+(?:leader\s+)?(?P<who>{_NAME}(?:\s+{_NAME}){{0,2}})"
    rf"|\bunder the (?:direct |personal )?(?:guidance|supervision) of\s+(?:leader\s+)?(?P<who2>{_NAME}(?:\s+{_NAME}){{0,2}})"
)
_TITLES = re.compile(r"^(?:Leader|Chairman|President|Supreme Leader|General Secretary)\s+")
PERSON = re.compile(rf"\b{_NAME}(?:\s+{_NAME}){{1,2}}\b")


def claim(
    text: str, speakers: list[ActorMention], weapon_starts: list[int]
) -> tuple[str, int] | None:
    """The launcher's quoted claim in `text` and where it stands, if it speaks there."""
    said = [
        s.start
        for s in speakers
        if s.actor.launcher
        and not re.match(r"['’]s\b", text[s.end :])
        and (m := _SAY.search(text, s.end))
        and m.start() - s.end <= 40
        and not QUOTE.search(text[s.end : m.start()])
    ]
    if not said:
        return None
    first = said[0]
    quotes = [
        (m.group(1) or m.group(2), m.start())
        for m in QUOTE.finditer(text)
        if m.start() > first and len((m.group(1) or m.group(2)).split()) <= 12
    ]
    for words, start in quotes:
        end = start + len(words) + 2
        if any(0 <= w - end <= 25 for w in weapon_starts):
            return words.strip(), start
    if quotes:
        return quotes[0][0].strip(), quotes[0][1]
    m = _CALLED.search(text, first)
    return (m["c"].strip(), m.start()) if m else None


def overseer(text: str, people: list[str]) -> tuple[str, int] | None:
    """Who oversaw the launch, as the fullest name the text gives them, and where."""
    m = _OVERSAW.search(text) or _OVERSEEN.search(text)
    if m is None:
        return None
    who = _TITLES.sub("", m.group("who") or m.group("who2"))
    if who.split()[0] in ("The", "State", "It", "He", "She", "They", "Photos"):
        return None
    return full_name(who, people), m.start()


def full_name(name: str, people: list[str]) -> str:
    """ "Kim" -> "Kim Jong Un" when the text names him so."""
    if " " in name:
        return name
    fuller = [p for p in people if name in p.split()]
    return max(fuller, key=len) if fuller else name
