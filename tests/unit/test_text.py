"""Bidirectional controls in moderators' text: removed at input and again at render."""

from __future__ import annotations

import pytest

from bot import validation
from bot.errors import ValidationError
from bot.render import md, plain

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"
CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
#: Marks and joiners that scripts and emoji need: never removed.
KEPT = ["\u200c", "\u200d", "\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("control", CONTROLS)
def test_validation_removes_each_bidi_control(control: str) -> None:
    """A summary with an override or isolate is stored without it."""
    assert validation.text("summary", f"Launch{control} from Sinpo") == "Launch from Sinpo"


def test_a_reversed_summary_is_stored_as_typed_text() -> None:
    """The Trojan Source trick (RLO … PDF) leaves the characters in their logical order."""
    stored = validation.text("summary", f"Two SRBMs {RLO}detsiverp{PDF} launched")
    assert stored == "Two SRBMs detsiverp launched"


def test_text_of_controls_alone_is_blank() -> None:
    """Nothing but controls is no text: a required field says so."""
    assert validation.text("name", RLO + PDI) is None
    with pytest.raises(ValidationError, match="summary is required"):
        validation.text("summary", LRI + PDI, required=True)


@pytest.mark.parametrize("mark", KEPT)
def test_marks_and_joiners_are_kept(mark: str) -> None:
    """Zero-width joiners and directional marks survive input and render."""
    typed = f"ab{mark}cd"
    assert validation.text("summary", typed) == typed
    assert md(typed) == typed
    assert plain(typed) == typed


def test_rows_stored_before_the_rule_are_cleaned_at_render() -> None:
    """Text already in the store with controls renders without them, in Discord and in a file."""
    stored = f"Kim Chaek {RLO}evil{PDF} site {LRI}x{PDI}"
    assert md(stored) == "Kim Chaek evil site x"
    assert plain(stored) == "Kim Chaek evil site x"
