"""bot/emulator/ stands alone: it imports nothing of LaunchWatch, so it could be published on its
own, and describing a world with it stays cheap (configuration imports the sandbox's ids)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR = ROOT / "bot" / "emulator"
LAUNCHWATCH = ("bot", "commands", "db", "templates")  # top-level packages of this repository


def imported(source: str, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``source``, a module of ``package``; relative
    imports are resolved, so ``from .. import x`` in bot/emulator/ reads as ``bot``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
    return found


def foreign(module: str) -> bool:
    """A LaunchWatch module other than the emulator's own."""
    top = module.split(".")[0]
    return (
        top in LAUNCHWATCH and module != "bot.emulator" and not module.startswith("bot.emulator.")
    )


def test_the_emulator_imports_nothing_of_launchwatch() -> None:
    """No module of bot/emulator/ imports bot (outside bot.emulator), commands, db or templates,
    directly, relatively or inside a function."""
    modules = sorted(EMULATOR.rglob("*.py"))
    assert len(modules) > 15, "the emulator's modules were not found"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules
        for line, module in imported(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).parent.parts
        )
        if foreign(module)
    ]
    assert offenders == []


def test_the_scan_counts_every_kind_of_import() -> None:
    """The scan itself: absolute, relative past the package and nested imports all count, and
    the emulator's own modules (relative or absolute) and third parties do not."""
    source = (
        "import db, aiohttp\n"
        "from .. import config\n"
        "from . import world\n"
        "from .records import Recorder\n"
        "from bot.emulator.world import World\n"
        "def f():\n"
        "    from bot.sandbox import harness\n"
        "    import commands.events\n"
    )
    found = imported(source, ("bot", "emulator"))
    assert [m for _, m in found if foreign(m)] == ["db", "bot", "bot.sandbox", "commands.events"]
    assert {m for _, m in found if not foreign(m)} == {
        "aiohttp",
        "bot.emulator",
        "bot.emulator.records",
        "bot.emulator.world",
    }
    assert foreign("bot.emulatorish") and foreign("templates")


def test_configuration_does_not_load_the_emulators_server() -> None:
    """`bot.config` reads the sandbox's ids through bot.sandbox.world, which builds on the
    emulator's world types: neither aiohttp nor jsonschema is imported for that."""
    probe = (
        "import sys, bot.config, bot.sandbox.world\n"
        "print(sorted(m for m in ('aiohttp', 'jsonschema', 'discord') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
