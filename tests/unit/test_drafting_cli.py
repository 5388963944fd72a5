"""`python -m bot drafts from-text`: drafts printed as JSON or a listing, nothing stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-article.txt"


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    env["LAUNCHWATCH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'lw.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_gives_the_seed_launches_and_reactions(tmp_path: Path) -> None:
    """--json prints {"events", "reactions"}: the four launches and eight reactions."""
    result = cli(tmp_path, "drafts", "from-text", str(SEED), "--published", "2024-02-03", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"events", "reactions"}
    assert [e["occurred_on"] for e in out["events"]] == [
        "2024-01-25",
        "2024-01-29",
        "2024-01-31",
        "2024-02-02",
    ]
    assert len(out["reactions"]) == 8
    feb2 = out["events"][3]
    assert (feb2["launch_site"], feb2["distance_km"], feb2["landing_area"]) == (
        "Kim Chaek",
        150,
        "Sea of Japan (East Sea)",
    )


def test_listing_is_readable_and_nothing_is_stored(tmp_path: Path) -> None:
    """Without --json: a listing of the launches and reactions; no store is created."""
    result = cli(tmp_path, "drafts", "from-text", str(SEED), "--published", "2024-02-03")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Drafted from a text published 2024-02-03: 4 launches, 8 reactions.")
    assert any(
        line.startswith("2 Feb 2024  cruise missile, from Kim Chaek") and "150 km" in line
        for line in lines
    )
    assert any("overseen by Kim Jong Un" in line for line in lines)
    assert "  China: no comment" in lines
    assert not (tmp_path / "lw.db").exists()


def test_text_without_launch_says_so(tmp_path: Path) -> None:
    """A text with no launch in it is said to have none."""
    path = tmp_path / "note.txt"
    path.write_text("The weather in Seoul was mild on Tuesday.", encoding="utf-8")
    result = cli(tmp_path, "drafts", "from-text", str(path), "--published", "2024-02-03")
    assert result.returncode == 0 and "No launch found in the text." in result.stdout


def test_published_must_be_a_day(tmp_path: Path) -> None:
    """--published 2024-02 is refused with the fix; a missing file is named."""
    result = cli(tmp_path, "drafts", "from-text", str(SEED), "--published", "2024-02")
    assert (
        result.returncode == 2 and "--published" in result.stderr and "YYYY-MM-DD" in result.stderr
    )
    missing = cli(tmp_path, "drafts", "from-text", "nope.txt")
    assert missing.returncode == 1 and "nope.txt" in missing.stderr
