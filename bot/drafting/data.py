"""The drafting rules' data files (package data beside this module), read once."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def load(name: str) -> dict[str, Any]:
    """`places`, `weapons`, `stances` or `actors`: the TOML file of that name."""
    with (HERE / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)
