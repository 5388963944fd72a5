"""Figures: how far a launch flew (distance_km) and how high (apogee_km).

A figure counts after words of flight ("flew", "travelled", "traveled", "covered", "a
flight distance of"; "altitude", "apogee", "height") with no other number between, and
not when it places something ("250 km west of Okushiri", "1,000 km away"). "About" and
"more than" keep the number; miles and nautical miles are converted; a range ("350-400
km", "between 25 and 90 km") is kept as its upper bound with a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT = r"(?P<unit>kilomet(?:er|re)s?|km|nautical miles?|nm|miles?|mi)\b"
_FIGURE = (
    rf"(?:between\s+)?(?P<low>{_NUMBER})(?:\s*(?:-|–|to|and)\s*(?P<high>{_NUMBER}))?\s*{_UNIT}"
)
_LEAD = r"(?:[^\d.;]{0,60}?)"
_CUES = (
    (
        "distance_km",
        rf"\b(?:flew|flown|fly|flying|flies|travell?ed|travell?ing|travels|covered|covering|"
        rf"flight distance|a distance of|range flown)\b{_LEAD}(?<![\w]){_FIGURE}",
    ),
    (
        "apogee_km",
        rf"\b(?:altitude|altitudes|apogee|height|peaked at|climbed to|soared to)\b{_LEAD}"
        rf"(?<![\w]){_FIGURE}",
    ),
    ("apogee_km", rf"(?<![\w]){_FIGURE}\s+(?:apogee|high\b)"),
)
_PLACING = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?(?:north|south|east|west|northeast|northwest|southeast|southwest|"
    r"north-east|north-west|south-east|south-west|away|off|from|offshore)\b",
    re.IGNORECASE,
)
_TO_KM = {"km": 1.0, "kilomet": 1.0, "mi": 1.609344, "nautical": 1.852, "nm": 1.852}


@dataclass(frozen=True)
class Figure:
    start: int
    end: int
    field: str
    km: float
    #: Why the figure is not the text's number as written: "range" or "converted".
    note: str | None = None
    #: The figure as the text wrote it, for the note.
    text: str = ""


def find_figures(text: str) -> list[Figure]:
    """Distances and apogees in `text`, in order."""
    out: list[Figure] = []
    for field, cue in _CUES:
        for m in re.finditer(cue, text, re.IGNORECASE):
            if _PLACING.match(text[m.end() :]):
                continue
            low, high, unit = m["low"], m["high"], m["unit"].lower()
            value = _number(high or low)
            factor = next(f for prefix, f in _TO_KM.items() if unit.startswith(prefix))
            start = m.start("low") if m["low"] else m.start()
            written = text[start : m.end()]
            note = "range" if high else ("converted" if factor != 1.0 else None)
            km = round(value * factor) if factor != 1.0 else value
            out.append(Figure(start, m.end(), field, float(km), note, written))
    out.sort(key=lambda f: f.start)
    return [f for i, f in enumerate(out) if not any(g.start == f.start for g in out[:i])]


def _number(text: str) -> float:
    return float(text.replace(",", ""))
