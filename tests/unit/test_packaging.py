"""The project stands alone: templates, migrations and Discord's contract are found from a
checkout and from the built wheel, and the sandbox runs from a non-editable install."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.store import migrations

ROOT = Path(__file__).resolve().parents[2]
LATEST = migrations("sqlite")[-1][0]
CONTRACT = "bot/sandbox/discord_contract.json"
LICENCE = "bot/sandbox/discord_contract.LICENSE"
LAUNCHES = ("25 Jan 2024", "29 Jan 2024", "31 Jan 2024", "2 Feb 2024")
COMMIT = json.loads((ROOT / CONTRACT).read_text(encoding="utf-8"))["source"]["commit"]

PROBE = """
import asyncio, sys, bot.render, templates, db
from bot.sandbox.spec import SpecValidator
from db import open_store
print(templates.__file__)
print(bot.render.render("cli/no_token.j2").splitlines()[0])
async def main():
    store = await open_store("sqlite:///probe.db")
    print("schema", await store.schema_version())
    await store.close()
asyncio.run(main())
print("contract", SpecValidator().commit)
"""


def clean_env() -> dict[str, str]:
    """No PYTHONPATH, and no settings or token from the developer's environment."""
    return {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("LAUNCHWATCH_", "DISCORD_"))
    }


def probe(python: Path | str, cwd: Path, *, first: Path | None = None) -> list[str]:
    """Run PROBE; with ``first``, that folder ahead of the dependencies and no editable-install
    hooks (-S)."""
    env, flags = clean_env(), []
    if first is not None:
        site = [p for p in sys.path if p.endswith("site-packages")]
        env["PYTHONPATH"] = os.pathsep.join([str(first), *site])
        flags = ["-S"]
    result = subprocess.run(
        [str(python), *flags, "-c", PROBE],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once for this file from a copy of the sources (a build/
    folder left in the checkout could smuggle stale files into it)."""
    source, out = (
        tmp_path_factory.mktemp("source") / "launchwatch",
        tmp_path_factory.mktemp("wheel"),
    )
    junk = (".*", "build", "dist", "*.egg-info", "__pycache__", "*.db", "*.log")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*junk))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.fail("pip could not build the wheel:\n" + build.stderr[-2000:])
    return next(out.glob("launchwatch-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the wheel installed (not editable); its dependencies come from the
    test environment's site-packages, added as plain paths so its editable hook never runs.
    Yields the venv's python."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    scripts = Path(sysconfig.get_path("scripts", vars={"base": str(venv)}))
    python = scripts / Path(sys.executable).name
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env=clean_env(),
    ).stdout.strip()  # fmt: skip
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(purelib) / "_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.fail("pip could not install the wheel:\n" + install.stderr[-2000:])
    yield python


def test_templates_found_from_the_checkout(tmp_path: Path) -> None:
    """Run from the checkout, the bot renders its templates, migrates a new store and loads
    the contract."""
    lines = probe(sys.executable, tmp_path, first=ROOT)
    assert lines[0].startswith(str(ROOT))
    assert lines[1].startswith("No Discord token")
    assert lines[2] == f"schema {LATEST}"
    assert lines[3] == f"contract {COMMIT}"


def test_wheel_carries_templates_migrations_and_the_contract(wheel: Path) -> None:
    """The wheel holds every template, both backends' migrations, the committed contract and
    Discord's licence beside it."""
    with zipfile.ZipFile(wheel) as built:
        names = set(built.namelist())
        assert built.read(CONTRACT) == (ROOT / CONTRACT).read_bytes()
        assert built.read(LICENCE) == (ROOT / LICENCE).read_bytes()
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.j2")}
    sql = {p.relative_to(ROOT).as_posix() for p in (ROOT / "db/migrations").rglob("*.sql")}
    assert templates and templates <= names
    assert {s.split("/")[2] for s in sql} == {"sqlite", "postgres"} and sql <= names


def test_templates_found_from_a_non_editable_install(installed: Path, tmp_path: Path) -> None:
    """The installed wheel, run outside the checkout, carries templates, migrations and the
    contract."""
    lines = probe(installed, tmp_path)
    assert not lines[0].startswith(str(ROOT)), lines[0]
    assert lines[0].startswith(str(installed.parents[1])), lines[0]
    assert lines[1].startswith("No Discord token")
    assert lines[2] == f"schema {LATEST}"
    assert lines[3] == f"contract {COMMIT}"


def test_sandbox_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """`python -m bot sandbox --script examples/article.txt` from the wheel prints the four
    launches, every body checked against the packaged contract."""
    env = {**clean_env(), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [str(installed), "-m", "bot", "sandbox", "--script", str(ROOT / "examples/article.txt"),
         "--db", str(tmp_path / "sandbox.db")],
        cwd=tmp_path, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert all(day in done.stdout for day in LAUNCHES), done.stdout
    assert "CONTRACT BROKEN" not in done.stdout and "Sandbox closed." in done.stdout
    assert (installed.parent / "launchwatch").exists(), "the console script is installed"
