"""Rules for text that people type, shared by validation (at input) and rendering (at output).

Bidirectional *controls* (embeddings, overrides and isolates: U+202A–U+202E, U+2066–U+2069)
can make a summary read backwards or hide text ("Trojan Source"), so they are removed. The
*marks* and joiners (U+200C–U+200F, U+061C) stay: Arabic, Persian, Hebrew and emoji need them.
"""

from __future__ import annotations

BIDI_CONTROLS = frozenset(
    [*(chr(c) for c in range(0x202A, 0x202F)), *(chr(c) for c in range(0x2066, 0x206A))]
)
_DROP_BIDI = str.maketrans(dict.fromkeys(BIDI_CONTROLS))


def strip_bidi(text: str) -> str:
    """The text without bidirectional control characters."""
    return text.translate(_DROP_BIDI)
