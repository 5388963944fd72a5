"""Reactions: who said what about the launches, and with what stance.

A government speaks through its officials ("Japanese Prime Minister Fumio Kishida":
actor Japan, speaker Fumio Kishida, speaker_title "Prime Minister"), its institutions
("the White House": United States) and its capital ("Seoul said"). A compound subject
("The United States, South Korea and Japan jointly condemned") is one reaction each. The
stance follows the verb table in stances.toml; words the speaker calls the launch
("barbaric", "extremely regrettable") count too. A named analyst ("Leif-Eric Easley, a
professor at Ewha University in Seoul, said …") is their own actor, with the stance
"assessment". The launching state's words are claims (claims.py), never reactions.
Quoted words are kept verbatim. One reaction per actor: its strongest stance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from bot.drafting.actors import ActorMention, find_actors, official_titles
from bot.drafting.claims import QUOTE
from bot.drafting.data import load
from bot.drafting.sentences import Sentence

_NAME = r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?(?:\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?){1,2}"
_END = r"(?=\s*(?:[,;:]|\.(?:\s|$)|$))"
_ANALYST = re.compile(
    rf"(?P<name>{_NAME}),\s+(?:an?|the)\s+(?P<title>(?:former\s+)?[a-z][\w -]*?)\s+(?:at|with|of|from|for)\s+"
    rf"(?:the\s+)?(?:[\w.-]+-based\s+)?(?P<org>[A-Z][^,;()\[\]“”\"]*?)(?:\s+in\s+(?P<city>[A-Z][a-z]+))?{_END}"
)
_ANALYST_TITLE = re.compile(
    r"professor|fellow|analyst|research|expert|scholar|director|associate|lecturer|commander|"
    r"specialist|economist|editor|founder|president|chair|strategist|former",
    re.IGNORECASE,
)
_SAY = re.compile(
    r"\b(?:said|says|say|told|tells|wrote|writes|noted|notes|argued|argues|added|adds|stated|"
    r"believes|thinks|expects)\b",
    re.IGNORECASE,
)
_CALLED = re.compile(
    r"\bcall(?:ed|s|ing)\s+(?:the|this|these|its|it|North Korea['’]s|Pyongyang['’]s|what)\b[^;]{0,90}",
    re.IGNORECASE,
)
_MILITARY_WORDS = re.compile(
    r"\b(?:military|army|navy|air force|armed forces|troops)\b", re.IGNORECASE
)
#: An actor after these words is an object ("with North Korea", "in Beijing"), not a subject.
_OBJECT = re.compile(
    r"\b(?:in|with|through|to|by|from|of|against|at|on|over|toward|towards)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_SELF = re.compile(r"\b(?:we|our)\b", re.IGNORECASE)
_JOINERS = re.compile(r"^(?:\s*,\s*|\s+and\s+|\s*,\s*and\s+|\s+&\s+)(?:the\s+)?$", re.IGNORECASE)


@dataclass
class ReactionDraft:
    """A reaction as drafted: the export's fields, and the sentences it came from."""

    actor: str
    actor_kind: str
    stance: str
    summary: str
    speaker: str | None = None
    speaker_title: str | None = None
    affiliation: str | None = None
    quote: str | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Hit:
    actor: str
    kind: str
    stance: str
    at: int
    speaker: str | None = None
    title: str | None = None
    affiliation: str | None = None


@cache
def _table() -> tuple[list[str], list[tuple[str, re.Pattern[str]]], dict[str, re.Pattern[str]]]:
    data = load("stances")
    verbs = [
        (stance, re.compile(rf"\b(?:{'|'.join(patterns)})\b", re.IGNORECASE))
        for stance, patterns in data["stances"].items()
    ]
    words = {
        "condemns": re.compile(rf"\b(?:{'|'.join(data['condemning_words'])})\b", re.IGNORECASE),
        "concerned": re.compile(rf"\b(?:{'|'.join(data['concerned_words'])})\b", re.IGNORECASE),
    }
    return list(data["priority"]), verbs, words


@cache
def _official() -> re.Pattern[str]:
    titles = "|".join(re.escape(t) for t in sorted(official_titles(), key=len, reverse=True))
    return re.compile(
        rf"(?P<title>(?-i:{titles}))\s+(?P<name>{_NAME})|(?P<name2>{_NAME}),\s+(?:the\s+)?(?P<title2>(?-i:{titles}))\s+(?:of|at)\s+"
    )


@cache
def _title_of() -> re.Pattern[str]:
    """ "Director General of the IAEA": the body an official speaks for."""
    titles = "|".join(re.escape(t) for t in official_titles())
    return re.compile(rf"(?-i:{titles})\s+of\s+(?:the\s+)?$")


def stance_of(text: str) -> tuple[str, int] | None:
    """The strongest stance a sentence's words give, and where its verb stands."""
    priority, verbs, words = _table()
    found: list[tuple[int, int, str]] = []
    for stance, pattern in verbs:
        for m in pattern.finditer(text):
            found.append((priority.index(stance), m.start(), stance))
    for m in list(_CALLED.finditer(text)) + [
        q for q in QUOTE.finditer(text) if _SAY.search(text[: q.start()])
    ]:
        for stance in ("condemns", "concerned"):
            if words[stance].search(m.group(0)):
                found.append((priority.index(stance), m.start(), stance))
                break
    if not found:
        return None
    best = min(found)
    return best[2], best[1]


def _subject(text: str, at: int, issuer: ActorMention | None) -> tuple[list[ActorMention], str]:
    """The actors the verb at `at` belongs to, and the words naming them."""
    span = text[:at]
    says = list(_SAY.finditer(span))
    parts = [span[says[-1].end() :], span[: says[-1].start()]] if says else [span]
    for part in parts:
        offset = span.find(part) if part else 0
        mentions = [
            m
            for m in find_actors(part)
            if not m.actor.launcher
            and (not _OBJECT.search(part[: m.start]) or _title_of().search(part[: m.start]))
        ]
        if mentions:
            group = [mentions[-1]]
            for m in reversed(mentions[:-1]):
                if _JOINERS.match(part[m.end : group[0].start]):
                    group.insert(0, m)
                else:
                    break
            shifted = [
                ActorMention(m.start + offset, m.end + offset, m.actor, m.military) for m in group
            ]
            return shifted, part
        if issuer is not None and _SELF.search(part):
            return [issuer], part
    return [], span


def _summary(text: str, at: int) -> str:
    words = " ".join(re.sub(r"\[\d{1,3}\]", "", text[at:]).split()).rstrip(" -")
    words = re.sub(r"\s+([.,;:])", r"\1", words)
    words = re.sub(r"^(?:that\s+|:\s*)", "", words)
    words = words[:1].upper() + words[1:]
    return words if words.endswith((".", "!", "?", "”", '"')) else words + "."


def _quotes(text: str) -> list[str]:
    return [(m.group(1) or m.group(2)).strip() for m in QUOTE.finditer(text)]


def sentence_reactions(
    sentence: Sentence, issuer: ActorMention | None
) -> list[tuple[_Hit, str, str | None]]:
    """Reactions in one sentence: (who and how, summary, quote)."""
    text = sentence.scan
    out: list[tuple[_Hit, str, str | None]] = []
    quotes = _quotes(text)
    for m in _ANALYST.finditer(text):
        title = m["title"].strip()
        if not _ANALYST_TITLE.search(title) or not _SAY.search(text):
            continue
        org = m["org"].strip()
        affiliation = f"{org}, {m['city']}" if m["city"] else org
        name = m["name"]
        say = _SAY.search(text, m.end()) or _SAY.search(text)
        assert say is not None
        after = text[say.end() :]
        quote = max(quotes, key=len) if quotes else None
        summary = (
            _summary(text, say.end())
            if re.search(r"[A-Za-z]", after.split("“")[0].split('"')[0])
            else _summary(quote or text, 0)
        )
        hit = _Hit(
            name,
            "analyst",
            "assessment",
            m.start(),
            name,
            title[:1].upper() + title[1:],
            affiliation,
        )
        out.append((hit, summary, quote))
    if out:
        return out
    found = stance_of(text)
    if found is None:
        return []
    stance, at = found
    mentions, words = _subject(text, at, issuer)
    if not mentions:
        return []
    speaker = title = None
    official = _official().search(text[:at])
    detected = re.match(r"(?i)detect|track", text[at:])
    quote = next((q for q in _quotes(text[mentions[0].start :])), None)
    for mention in mentions:
        kind = mention.actor.kind
        if kind == "government" and (mention.military or _MILITARY_WORDS.search(words) or detected):
            kind = "military"
        if official is not None and len(mentions) == 1:
            speaker = official["name"] or official["name2"]
            title = official["title"] or official["title2"]
        out.append(
            (_Hit(mention.actor.name, kind, stance, at, speaker, title), _summary(text, at), quote)
        )
    return out


def merge(found: list[tuple[Sentence, _Hit, str, str | None]]) -> list[ReactionDraft]:
    """One reaction per actor, with its strongest stance (ties: the first said)."""
    priority = _table()[0] + ["assessment"]
    drafts: dict[str, ReactionDraft] = {}
    ranks: dict[str, int] = {}
    for sentence, hit, summary, quote in found:
        rank = priority.index(hit.stance)
        draft = drafts.get(hit.actor)
        if draft is None:
            drafts[hit.actor] = ReactionDraft(
                hit.actor,
                hit.kind,
                hit.stance,
                summary,
                hit.speaker,
                hit.title,
                hit.affiliation,
                quote,
                [sentence.text],
            )
            ranks[hit.actor] = rank
            continue
        if sentence.text not in draft.evidence:
            draft.evidence.append(sentence.text)
        if rank < ranks[hit.actor]:
            ranks[hit.actor] = rank
            draft.stance, draft.actor_kind, draft.summary = hit.stance, hit.kind, summary
            draft.quote = quote or draft.quote
        draft.speaker = draft.speaker or hit.speaker
        draft.speaker_title = draft.speaker_title or hit.title
        draft.quote = draft.quote or quote
    return list(drafts.values())
