"""Templates and migrations are found from a checkout and from a non-editable install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from db.store import migrations

ROOT = Path(__file__).resolve().parents[2]
LATEST = migrations("sqlite")[-1][0]

PROBE = """
import asyncio, sys, bot.render, templates, db
from db import open_store
print(templates.__file__)
print(bot.render.render("cli/no_token.j2").splitlines()[0])
async def main():
    store = await open_store("sqlite:///probe.db")
    print("schema", await store.schema_version())
    await store.close()
asyncio.run(main())
"""


def probe(first: Path, cwd: Path) -> list[str]:
    """Run PROBE with `first` ahead of the dependencies, and no editable-install hooks (-S)."""
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(first), *site])
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_templates_found_from_the_checkout(tmp_path: Path) -> None:
    """Run from the checkout, the bot renders its templates and migrates a new store."""
    lines = probe(ROOT, tmp_path)
    assert lines[0].startswith(str(ROOT))
    assert lines[1].startswith("No Discord token")
    assert lines[2] == f"schema {LATEST}"


def test_templates_found_from_a_non_editable_install(tmp_path: Path) -> None:
    """A wheel-style install elsewhere carries the templates and the SQL migrations."""
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.fail("pip could not build the project:\n" + build.stderr[-2000:])
    lines = probe(target, tmp_path)
    assert lines[0].startswith(str(target)), lines[0]
    assert lines[1].startswith("No Discord token")
    assert lines[2] == f"schema {LATEST}"
