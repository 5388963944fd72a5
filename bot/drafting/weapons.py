"""Weapons in a sentence: what kind (category), which designation (name), how many
(count), fired from what (platform), and the words that say a launch happened.

The terms and designations are data (weapons.toml). A count comes from a numeral or
number word ("two", "2") before the weapon, or a singular weapon ("an ICBM", "the
rocket", "a missile") for 1; "multiple", "several" and bare plurals say only that there
were more than one, so the count stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.drafting.data import load

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a pair of": 2, "a couple of": 2,
    "twin": 2, "a single": 1, "single": 1,
}  # fmt: skip
_QUANTIFIER = re.compile(
    r"(?P<q>\b(?:at least |up to |as many as )?(?:\d{1,3}(?:,\d{3})*|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve|a pair of|a couple of|twin|a single|single|an?|the|this|"
    r"that|multiple|several|a number of|numerous|some|dozens of|a barrage of|a salvo of|"
    r"a volley of|a series of|a flurry of|more))\s+(?:[\w’'-]+\s+){0,2}$",
    re.IGNORECASE,
)
_VAGUE = ("multiple", "several", "a number of", "numerous", "some", "dozens of", "a barrage of",
          "a salvo of", "a volley of", "a series of", "a flurry of", "more")  # fmt: skip
#: A weapon word used to describe something else: "a missile test", "missile technology".
_ADJUNCT = re.compile(
    r"^[\s”\"’]*(?:tests?|testing|launch(?:es|ing)?|launchers?|programs?|programmes?|technolog\w*|"
    r"development|arsenal|activity|activities|capabilit\w*|sites?|bases?|forces?|units?|threats?|"
    r"defen[cs]es?|experts?|drills?|exercises?|firings?|barrage|salvo|engines?|stages?|messaging|"
    r"connectivity|imagery|images?|photos?|trackers?|plants?|systems?|attacks?|strikes?|"
    r"development|industry|parts|components|programme|operators?|class|era|moratorium|"
    r"warheads?|payloads?)\b",
    re.IGNORECASE,
)
#: Words that say a launch (or nuclear test) took place, or name one.
TRIGGER = re.compile(
    r"\b(?:launch(?:es|ed|ing)?|test[- ]?fir(?:e|es|ed|ing)|test[- ]?launch(?:es|ed|ing)?|"
    r"fir(?:e|es|ed|ing)|tests?(?!\s+site)|tested|testing|shot|lobbed|flew|lifted off|lift-off|"
    r"blasted off|detonat(?:ed|ion)|conduct(?:s|ed|ing)?|carried out|attempts?|salvo|barrage|"
    r"round of|(?:put|puts|putting|placed|places|placing|carried|sent|sending)\b[^.;]{0,60}?"
    r"\b(?:into|in)\s+orbit)\b",
    re.IGNORECASE,
)
#: A launch that did not, or may not yet, happen: "will launch", "could test", "stop testing".
_UNREAL = re.compile(
    r"\b(?:will|would|could|may|might|shall|should|plans? to|planning to|prepar(?:es|ing) to|"
    r"expected to|likely to|threaten(?:s|ed)? to|vow(?:s|ed)? to|promis(?:es|ed) to|pledg(?:es|ed) to|"
    r"ready to|intends? to|not|never|no longer|suspend|stop|halt|refrain(?:ed)? from|"
    r"refraining from|resume)\s+(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Weapon:
    """A weapon named in a sentence."""

    start: int
    end: int
    category: str | None
    #: "missile", "rocket": says a launch, not which kind.
    generic: bool = False
    name: str | None = None
    platform: str | None = None
    #: 1 or more; None when the words give no number.
    count: int | None = None
    #: A plural without a number ("multiple", "several", "missiles"): the count is unknown.
    vague: bool = False
    #: The word describes something else ("missile test", "missile technology").
    adjunct: bool = False


@dataclass(frozen=True)
class Platform:
    start: int
    end: int
    platform: str


@cache
def _terms() -> list[tuple[re.Pattern[str], dict[str, object]]]:
    return [
        (re.compile(rf"\b(?:{t['pattern']})(?![\w-])", re.IGNORECASE), t)
        for t in load("weapons")["term"]
    ]


@cache
def _names() -> list[tuple[re.Pattern[str], dict[str, object]]]:
    return [
        (re.compile(rf"\b(?:{n['pattern']})(?![\w])", re.IGNORECASE), n)
        for n in load("weapons")["name"]
    ]


@cache
def _platforms() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile(rf"\b(?:{p['pattern']})\b", re.IGNORECASE), str(p["platform"]))
        for p in load("weapons")["platform"]
    ]


def find_weapons(text: str) -> list[Weapon]:
    """Every weapon term and designation in `text`, in order, none overlapping."""
    found: list[tuple[int, int, int, Weapon]] = []
    for order, (pattern, name) in enumerate(_names()):
        for m in pattern.finditer(text):
            found.append((m.start(), -(m.end() - m.start()), order, _named(m, name)))
    for order, (pattern, term) in enumerate(_terms(), start=100):
        for m in pattern.finditer(text):
            found.append((m.start(), -(m.end() - m.start()), order, _termed(text, m, term)))
    out: list[Weapon] = []
    for _, _, _, weapon in sorted(found, key=lambda f: (f[0], f[1], f[2])):
        if out and weapon.start < out[-1].end:
            continue
        out.append(weapon)
    return out


def _named(m: re.Match[str], entry: dict[str, object]) -> Weapon:
    groups = [g or "" for g in m.groups()]
    canonical = str(entry["canonical"]).format(*groups, *([""] * 3))
    category = entry.get("category")
    numbers = entry.get("number")
    if isinstance(numbers, dict) and groups and groups[0].isdigit():
        category = numbers.get(str(int(groups[0])))
    return Weapon(m.start(), m.end(), str(category) if category else None, name=canonical)


def _termed(text: str, m: re.Match[str], entry: dict[str, object]) -> Weapon:
    word = m.group(0)
    adjunct = bool(_ADJUNCT.match(text[m.end() :]))
    count, vague = None, False
    plural = word.lower().endswith("s") and not word.lower().endswith(("ss", "class"))
    q = _QUANTIFIER.search(text[: m.start()])
    if not adjunct:
        quantity = q["q"].lower() if q else ""
        bare = re.sub(r"^(?:at least|up to|as many as) ", "", quantity)
        if bare.replace(",", "").isdigit() and int(bare.replace(",", "")) > 0:
            count = int(bare.replace(",", ""))
        elif bare in _NUMBERS:
            count = _NUMBERS[bare]
        elif bare in _VAGUE or plural:
            vague = True
        elif bare in ("a", "an", "the", "this", "that"):
            count = 1
    return Weapon(
        m.start(),
        m.end(),
        str(entry["category"]),
        generic=bool(entry.get("generic")),
        platform=str(entry["platform"]) if entry.get("platform") else None,
        count=count,
        vague=vague,
        adjunct=adjunct,
    )


def find_platforms(text: str) -> list[Platform]:
    """Platforms the text says a weapon was fired from ("from a submarine"), except those
    it rules out ("rather than from a submarine")."""
    out = []
    for pattern, platform in _platforms():
        for m in pattern.finditer(text):
            if re.search(r"(?:rather than|instead of|not)\s+$", text[: m.start()], re.IGNORECASE):
                continue
            out.append(Platform(m.start(), m.end(), platform))
    return sorted(out, key=lambda p: p.start)


def real_triggers(text: str) -> list[int]:
    """Offsets of the words saying a launch happened, leaving out planned, possible or
    denied ones ("will launch", "could resume testing", "no longer needed to test")."""
    return [m.start() for m in TRIGGER.finditer(text) if not _UNREAL.search(text[: m.start()])]
