"""One annotation per field of a stored row, and everything derived from it.

A row's dataclass says, on each field, what that field is
(`field(metadata=spec(...))`): whether moderators
may set it, whether its change is a correction of fact, its bounds, the store columns it
spans. The store's column lists, `/event edit`'s choices, the validator's rules, the fact
fields and the export's columns are read from there, so a new field is declared once
(docs/contributing.md, "A new event field").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import Field, dataclass, fields
from typing import Any, Self

#: The id of a row not stored yet: the store assigns the real one.
NEW = 0


@dataclass(frozen=True)
class Spec:
    """What one field is. The defaults describe a plain stored column nobody edits."""

    #: Moderators set it: an input of `/event add` and imports, a choice of `/event edit`.
    edit: bool = False
    #: Offered after the other editable fields (an identifier, rarely corrected).
    edit_last: bool = False
    #: A change of it is a correction of fact: channels that got the alert get a notice.
    fact: bool = False
    #: Never blank on input.
    required: bool = False
    #: What a blank or missing input becomes.
    blank: str | None = None
    #: An enumeration's allowed values.
    choices: tuple[str, ...] = ()
    #: A number's range, and whether it is a whole number.
    low: float | None = None
    high: float | None = None
    whole: bool = False
    #: Text: the most characters it may hold.
    max_length: int | None = None
    #: The store columns it spans; None: one column of its own name; (): none in the row's
    #: table (sources, or a figure a query computes).
    columns: tuple[str, ...] | None = None
    #: Stored as JSON text (a list).
    json: bool = False

    def store_columns(self, name: str) -> tuple[str, ...]:
        return (name,) if self.columns is None else self.columns


_PLAIN = Spec()


def spec(**what: Any) -> dict[str, Spec]:
    """A field's metadata: `name: float | None = field(default=None, metadata=spec(edit=True))`."""
    return {"spec": Spec(**what)}


def spec_of(f: Field[Any]) -> Spec:
    found = f.metadata.get("spec", _PLAIN)
    assert isinstance(found, Spec)
    return found


_SPECS: dict[type, dict[str, Spec]] = {}


def specs(cls: type) -> dict[str, Spec]:
    """Every field of a row class and its spec, in declaration order."""
    if cls not in _SPECS:
        _SPECS[cls] = {f.name: spec_of(f) for f in fields(cls)}
    return _SPECS[cls]


def columns(cls: type) -> tuple[str, ...]:
    """The store columns a row class writes, in field order; the key (`id`) is the store's."""
    return tuple(
        column
        for name, spec in specs(cls).items()
        if name != "id"
        for column in spec.store_columns(name)
    )


def named(cls: type, test: Any) -> tuple[str, ...]:
    """The names of the fields whose spec passes `test`, in declaration order."""
    return tuple(name for name, what in specs(cls).items() if test(what))


def max_lengths(*classes: type) -> dict[str, int]:
    """Field -> its longest text, over these row classes (a name shared agrees on it)."""
    out: dict[str, int] = {}
    for cls in classes:
        for name, what in specs(cls).items():
            if what.max_length is not None:
                assert out.setdefault(name, what.max_length) == what.max_length, name
    return out


class Stored:
    """A row of a table, read and written through its fields' specs: `to_row` gives the
    values as the store holds them (JSON lists encoded), `from_row` takes them back."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """The row's fields (computed ones too, when the query gave them)."""
        kwargs: dict[str, Any] = {}
        for name, what in specs(cls).items():
            if name in row:
                value = row[name]
                kwargs[name] = json.loads(value) if what.json and isinstance(value, str) else value
        return cls(**kwargs)

    def to_row(self) -> dict[str, Any]:
        """Column -> value for every stored column (the key left to the store)."""
        out: dict[str, Any] = {}
        for name, what in specs(type(self)).items():
            if name == "id" or what.columns == ():
                continue
            value = getattr(self, name)
            out[name] = json.dumps(value) if what.json else value
        return out


def unknown(cls: type, names: Iterable[str]) -> list[str]:
    """The names that are not store columns of `cls` (a change naming one is a bug)."""
    known = set(columns(cls))
    return [n for n in names if n not in known]
