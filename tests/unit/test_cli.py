"""The command line as a person types it: `python -m bot …` in a fresh directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from db.store import migrations

ROOT = Path(__file__).resolve().parents[2]
BAD_FIELDS = ROOT / "tests" / "fixtures" / "cns_bad_fields.csv"


def cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` in tmp_path with a clean environment (no token, no config)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    clean["LAUNCHWATCH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'lw.db'}"
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_says_how_to_give_one(tmp_path: Path) -> None:
    """`python -m bot run` with no token refuses, and its first line says so and names both ways."""
    result = cli(tmp_path, "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "No Discord token" in lines[0]
    assert (
        "DISCORD_TOKEN" in result.stderr
        and "[discord]" in result.stderr
        and "config.toml" in result.stderr
    )


def test_bad_config_stops_with_one_line(tmp_path: Path) -> None:
    """A bad setting stops the CLI with exit 2 and a single line naming the key."""
    result = cli(tmp_path, "events", "list", env={"LAUNCHWATCH_DELIVERY_GLOBAL_RATE": "fast"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LAUNCHWATCH_DELIVERY_GLOBAL_RATE" in result.stderr


def test_config_flag_picks_another_file(tmp_path: Path) -> None:
    """--config PATH reads that file; a key in it that does not exist is refused."""
    (tmp_path / "other.toml").write_text("[network]\nhome_guld = 1\n")
    result = cli(tmp_path, "--config", "other.toml", "events", "list")
    assert result.returncode == 2 and "[network] home_guld" in result.stderr


def test_db_upgrade_reports_the_version(tmp_path: Path) -> None:
    """`db upgrade` applies migrations once; a second run says the store is up to date."""
    latest = migrations("sqlite")[-1][0]
    first = cli(tmp_path, "db", "upgrade")
    assert first.returncode == 0 and "Applied migration" in first.stdout
    assert first.stdout.strip().endswith(f"the store is at version {latest}.")
    second = cli(tmp_path, "db", "upgrade")
    assert second.returncode == 0 and f"up to date at version {latest}" in second.stdout


def test_seed_then_list_prints_the_four_launches_in_order(tmp_path: Path) -> None:
    """The article's four cruise-missile launches come out in date order."""
    seeded = cli(tmp_path, "db", "seed", "--example")
    assert seeded.returncode == 0, seeded.stderr
    listed = cli(tmp_path, "events", "list")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if line.strip()]
    assert [line.split("  ")[0] for line in lines] == [
        "25 Jan 2024",
        "29 Jan 2024",
        "31 Jan 2024",
        "2 Feb 2024",
    ]
    assert "submarine" in lines[1] and "Kim Jong Un" in lines[1]
    assert "long-range" in lines[2]
    assert "Kim Chaek" in lines[3] and "150 km" in lines[3]


def test_seeding_twice_adds_nothing(tmp_path: Path) -> None:
    """Running the seed again leaves the four events and eight reactions as they were."""
    cli(tmp_path, "db", "seed", "--example")
    again = cli(tmp_path, "db", "seed", "--example")
    assert "imported 0" in again.stdout and "unchanged 12" in again.stdout
    events = json.loads(cli(tmp_path, "events", "list", "--json").stdout)
    assert len(events) == 4


def test_events_list_json_has_design_field_names(tmp_path: Path) -> None:
    """`--json` prints the data model's field names with nested sources, and filters apply."""
    cli(tmp_path, "db", "seed", "--example")
    result = cli(
        tmp_path, "events", "list", "--json", "--since", "2024-01-29", "--until", "2024-01-31"
    )
    events = json.loads(result.stdout)
    assert [e["occurred_on"] for e in events] == ["2024-01-29", "2024-01-31"]
    first = events[0]
    for key in (
        "external_id",
        "date_precision",
        "occurred_at",
        "actor",
        "category",
        "platform",
        "overseen_by",
        "confidence",
        "sources",
    ):
        assert key in first
    assert first["count"] is None
    assert first["sources"] == [
        {
            "url": None,
            "publisher": None,
            "title": "North Korea cruise missile tests (AI-written article)",
            "published_on": None,
        }
    ]


def test_events_list_bad_date_names_accepted_forms(tmp_path: Path) -> None:
    """A bad --since is refused with the forms that are accepted."""
    result = cli(tmp_path, "events", "list", "--since", "Jan 5")
    assert result.returncode == 2
    assert "--since" in result.stderr and "YYYY-MM-DD" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_elsewhere_round_trips(tmp_path: Path, fmt: str) -> None:
    """An export imported into another guild gives the same events; a re-import changes nothing."""
    cli(tmp_path, "db", "seed", "--example")
    out = tmp_path / f"export.{fmt}"
    exported = cli(tmp_path, "db", "export", "--format", fmt, "-o", str(out))
    assert exported.returncode == 0 and out.exists()
    imported = cli(tmp_path, "db", "import", str(out), "--format", fmt, "--guild", "77")
    records = 4 if fmt == "csv" else 12  # JSON carries the eight reactions too
    assert (
        imported.stdout.strip().splitlines()[-1]
        == f"imported {records}, updated 0, skipped 0, unchanged 0, warned 0"
    )
    again = cli(tmp_path, "db", "import", str(out), "--format", fmt, "--guild", "77")
    assert (
        again.stdout.strip()
        .splitlines()[-1]
        .startswith("imported 0, updated 0, skipped 0, unchanged")
    )
    listed = json.loads(cli(tmp_path, "events", "list", "--json", "--guild", "77").stdout)
    assert [e["occurred_on"] for e in listed] == [
        "2024-01-25",
        "2024-01-29",
        "2024-01-31",
        "2024-02-02",
    ]


def test_import_warns_per_field_and_counts_warned_rows(tmp_path: Path) -> None:
    """Each field imported without is a `line N: field: reason (imported without it)` line,
    in line order with the skipped row's problem; the summary counts the warned rows."""
    result = cli(tmp_path, "db", "import", str(BAD_FIELDS), "--format", "cns")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "line 2: Facility Latitude: '39.1 N-ish' is not a coordinate; give e.g. 39.66. "
        "(imported without it)",
        "line 3: Source(s): 'https:///www.nti.org/cns-db' is not a web address; use one "
        "starting with https:// or http://. (imported without it)",
        "line 3: Confirmation Status: a confirmed event needs a source and none could be read "
        "(imported as reported)",
        "line 4: Launch Time (UTC): '25:61' is not a time of day; use 10:22:00 PM or 22:22. "
        "(imported without it)",
        "line 5: Missile Type: 'Directed Energy' is not a type LaunchWatch knows; use one of "
        "SRBM, MRBM, IRBM, ICBM, SLBM, SLV, Cruise Missile, HGV, Unknown.",
    ]
    assert result.stdout.strip().splitlines()[-1] == (
        "imported 4, updated 0, skipped 1, unchanged 0, warned 3"
    )


def test_launch_shows_what_the_file_said_about_a_range(tmp_path: Path) -> None:
    """After importing `between 25 and 90 km`, /launch (in the sandbox) shows 90 km and the
    file's words in its change log."""
    imported = cli(tmp_path, "db", "import", str(BAD_FIELDS), "--format", "cns")
    assert imported.returncode == 0, imported.stderr
    (tmp_path / "launch.txt").write_text('/launch event:"mar 8"\n', encoding="utf-8")
    shown = cli(tmp_path, "sandbox", "--db", str(tmp_path / "lw.db"), "--script", "launch.txt")
    assert shown.returncode == 0, shown.stderr
    # The console draws the embed in a box and wraps long lines: read it as one text.
    text = " ".join(" ".join(line.strip("│ ").split()) for line in shown.stdout.splitlines())
    assert "Distance: 90 km" in text
    assert "distance km imported from “between 25 and 90 km”" in text


def test_import_of_unreadable_file_exits_1(tmp_path: Path) -> None:
    """A file that cannot be read at all exits 1 and says why."""
    result = cli(tmp_path, "db", "import", str(tmp_path / "missing.csv"), "--format", "cns")
    assert result.returncode == 1
    assert "missing.csv" in result.stderr


def test_import_of_too_deep_json_exits_1_with_one_line(tmp_path: Path) -> None:
    """JSON nested 100,000 deep (a RecursionError inside json.loads) is an unreadable file:
    exit 1, one line naming the line and the limit, no traceback, nothing imported."""
    path = tmp_path / "deep.json"
    path.write_text('{"events": [\n' + "[" * 100_000 + "]" * 100_000 + "\n]}\n", "utf-8")
    result = cli(tmp_path, "db", "import", str(path), "--format", "json")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Cannot read {path}: {path} nests deeper than 8 levels at line 2; a LaunchWatch "
        "export nests 5 (an event's sources in the events list). Export it again, or fix it "
        "there."
    ]
    listed = cli(tmp_path, "events", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_import_names_the_line_that_is_not_utf8(tmp_path: Path) -> None:
    """A UTF-8 CSV with one line saved as cp1252 imports every row, and stderr names that
    line; the other line keeps its UTF-8."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "external_id,occurred_on,category,summary\na:1,2024,srbm,Gangneung \u2014 \uac15\ub989\n"
        .encode() + "a:2,2024,srbm,Kim\u2019s statement\n".encode("cp1252")
    )  # fmt: skip
    result = cli(tmp_path, "db", "import", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "line 3: not UTF-8; read as Windows-1252 (cp1252): check its text, or save the file "
        "again as UTF-8."
    ]
    listed = cli(tmp_path, "events", "list", "--json")
    summaries = sorted(e["summary"] for e in json.loads(listed.stdout))
    assert summaries == ["Gangneung \u2014 \uac15\ub989", "Kim\u2019s statement"]


def test_no_command_and_no_token_opens_the_sandbox(tmp_path: Path) -> None:
    """`python -m bot` without a token says so first, then runs the sandbox console."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHWATCH_", "DISCORD_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=clean, input="/about\nquit\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("No Discord token is configured")
    assert "Starting the sandbox instead" in result.stdout
    assert "LaunchWatch 0.1.0" in result.stdout  # /about answered through the emulator
    assert (tmp_path / "sandbox.db").exists()
