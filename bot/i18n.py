"""Every sentence a person reads goes through here: gettext, with the English as the msgid.

Python code calls `_()` or `ngettext()` and fills in values afterwards with
`str.format` (`_("Exported {path}.").format(path=...)`), so a translation can move them;
templates use `{% trans %}`, which `bot.render` wires to the same functions. `N_()` marks a
text for the catalogue where it is defined (a table at import time) and leaves it English;
translate it where it is shown, `_(LABELS[value])`.

Which catalogue answers is a context variable, so a task (or a test) can switch it without
touching anyone else's: `with translations(t): ...`. Tasks started inside inherit it. The
default is English: the msgids themselves, no catalogue file needed. The catalogue's
template is `bot/locale/launchwatch.pot`, extracted by Babel (docs/contributing.md).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DOMAIN = "launchwatch"
ENGLISH = gettext.NullTranslations()

_active: ContextVar[gettext.NullTranslations] = ContextVar(
    "launchwatch_translations", default=ENGLISH
)


def _(message: str) -> str:
    """`message` in the active language."""
    return _active.get().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the active language (which may have more)."""
    return _active.get().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet (module-level tables)."""
    return message


def active() -> gettext.NullTranslations:
    """The catalogue that answers now."""
    return _active.get()


@contextmanager
def translations(catalogue: gettext.NullTranslations) -> Iterator[None]:
    """Answer in `catalogue` inside the block (and in tasks started there)."""
    token = _active.set(catalogue)
    try:
        yield
    finally:
        _active.reset(token)
