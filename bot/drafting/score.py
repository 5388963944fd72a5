"""Score drafts against labels (tests/data/articles/*.json): what bench/drafting.py
prints and the article tests hold to.

An event is found when a draft has its date (`occurred_on`) and category; each label
and each draft match once. A reaction is found when a draft has its actor and stance.
Fields accuracy counts, over the found events and reactions, the other fields a label
gives that the draft has the same: text alike but for case, spaces and the kind of
apostrophe; places alike when both name the same gazetteer entry; numbers within 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.drafting.places import lookup

_KEYS = {"events": ("occurred_on", "category"), "reactions": ("actor", "stance")}
_PLACES = ("launch_site", "landing_area")


@dataclass
class Score:
    """Counts over one or more articles."""

    drafted: int = 0
    labelled: int = 0
    found: int = 0
    reactions_labelled: int = 0
    reactions_found: int = 0
    fields: int = 0
    fields_right: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "drafted",
            "labelled",
            "found",
            "reactions_labelled",
            "reactions_found",
            "fields",
            "fields_right",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses.extend(other.misses)

    @property
    def precision(self) -> float:
        return self.found / self.drafted if self.drafted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def reactions_recall(self) -> float:
        return self.reactions_found / self.reactions_labelled if self.reactions_labelled else 1.0

    @property
    def fields_accuracy(self) -> float:
        return self.fields_right / self.fields if self.fields else 1.0


def score(drafts: dict[str, Any], labels: dict[str, Any], name: str = "") -> Score:
    """How the drafts of one article compare with its labels."""
    out = Score(drafted=len(drafts["events"]), labelled=len(labels["events"]))
    out.reactions_labelled = len(labels["reactions"])
    for kind in ("events", "reactions"):
        left = list(drafts[kind])
        for label in labels[kind]:
            key = tuple(_norm(label[k]) for k in _KEYS[kind])
            match = next((d for d in left if tuple(_norm(d[k]) for k in _KEYS[kind]) == key), None)
            if match is None:
                out.misses.append(f"{name}: {kind[:-1]} {'/'.join(map(str, key))} not found")
                continue
            left.remove(match)
            if kind == "events":
                out.found += 1
            else:
                out.reactions_found += 1
            for fname, want in label.items():
                if fname in _KEYS[kind]:
                    continue
                out.fields += 1
                if same(fname, want, match.get(fname)):
                    out.fields_right += 1
                else:
                    out.misses.append(
                        f"{name}: {'/'.join(map(str, key))} {fname}: want {want!r}, got {match.get(fname)!r}"
                    )
        if kind == "events":
            out.misses.extend(
                f"{name}: extra event {d['occurred_on']}/{d['category']}" for d in left
            )
    return out


def same(field_name: str, want: Any, got: Any) -> bool:
    """A labelled value and a drafted one say the same."""
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, int | float) and not isinstance(want, bool):
        return isinstance(got, int | float) and abs(float(want) - float(got)) < 0.5
    if field_name in _PLACES:
        a, b = lookup(str(want)), lookup(str(got))
        if a is not None and a is b:
            return True
    return _norm(want) == _norm(got)


def _norm(value: Any) -> str:
    return " ".join(
        str(value).replace("’", "'").replace("“", '"').replace("”", '"').casefold().split()
    )
