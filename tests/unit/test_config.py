"""Configuration: defaults, file, environment; a bad value stops start-up with one clear line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.config import SCHEMA, load_config
from bot.errors import ConfigError
from bot.sandbox.world import SANDBOX_GUILD_ID

ROOT = Path(__file__).resolve().parents[2]
SECRET = "MTIz.secret-token-value.xyz"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_work_with_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no config at all the CLI acts for the sandbox guild over a local SQLite file."""
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert config.home_guild == SANDBOX_GUILD_ID
    assert config.database_url == "sqlite:///launchwatch.db"
    assert config.token == ""
    assert config.get("delivery", "global_rate") == 48.0


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    """Precedence is environment, then the file, then defaults."""
    path = write(
        tmp_path,
        "[delivery]\nglobal_rate = 20.0\nchannel_rate = 2.0\n[network]\npublisher_guilds = [5, 6]\n",
    )
    config = load_config(path, env={"LAUNCHWATCH_DELIVERY_GLOBAL_RATE": "12.5"})
    assert config.get("delivery", "global_rate") == 12.5
    assert config.get("delivery", "channel_rate") == 2.0
    assert config.publisher_guilds == [5, 6]


def test_lists_in_the_environment_are_comma_separated(tmp_path: Path) -> None:
    """LAUNCHWATCH_DISCORD_DEV_GUILDS=1,2 gives two guilds."""
    config = load_config(write(tmp_path, ""), env={"LAUNCHWATCH_DISCORD_DEV_GUILDS": "11, 22"})
    assert config.get("discord", "dev_guilds") == [11, 22]


def test_launchwatch_token_variable_wins_over_discord_token(tmp_path: Path) -> None:
    """LAUNCHWATCH_DISCORD_TOKEN beats DISCORD_TOKEN, which beats the file."""
    path = write(tmp_path, '[discord]\ntoken = "from-file"\n')
    assert load_config(path, env={}).token == "from-file"
    assert load_config(path, env={"DISCORD_TOKEN": "plain"}).token == "plain"
    both = {"DISCORD_TOKEN": "plain", "LAUNCHWATCH_DISCORD_TOKEN": "prefixed"}
    assert load_config(path, env=both).token == "prefixed"


@pytest.mark.parametrize(
    ("text", "env", "names"),
    [
        ("[delivery]\nglobal_rat = 3\n", {}, ["[delivery] global_rat", "global_rate"]),
        ("[deliveries]\nx = 1\n", {}, ["[deliveries]", "delivery"]),
        ('[delivery]\nglobal_rate = "fast"\n', {}, ["[delivery] global_rate", "a number"]),
        ("[delivery]\nglobal_rate = -1\n", {}, ["[delivery] global_rate", "greater than 0"]),
        ('[database]\nurl = "mysql://x"\n', {}, ["[database] url", "sqlite:///"]),
        ('[logging]\nlevel = "LOUD"\n', {}, ["[logging] level", "INFO"]),
        ('[schedule]\ndefault_timezone = "Mars/Base"\n', {}, ["default_timezone", "IANA"]),
        (
            "",
            {"LAUNCHWATCH_DELIVERY_MAX_ATTEMPTS": "many"},
            ["LAUNCHWATCH_DELIVERY_MAX_ATTEMPTS", "whole number"],
        ),
        ("", {"LAUNCHWATCH_NOPE_X": "1"}, ["LAUNCHWATCH_NOPE_X", "LAUNCHWATCH_<SECTION>_<KEY>"]),
    ],
)
def test_bad_configuration_names_the_key_and_the_fix(
    tmp_path: Path, text: str, env: dict[str, str], names: list[str]
) -> None:
    """A bad key or value stops start-up with one line naming the key and what to write."""
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env)
    line = str(info.value)
    assert "\n" not in line
    for name in names:
        assert name in line


def test_token_never_appears_in_an_error_or_repr(tmp_path: Path) -> None:
    """A mistyped token is reported without echoing it."""
    path = write(tmp_path, f"[discord]\ntoken = ['{SECRET}']\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert SECRET not in str(info.value)
    assert "[discord] token" in str(info.value)
    config = load_config(write(tmp_path, f'[discord]\ntoken = "{SECRET}"\n'), env={})
    assert SECRET not in repr(config) and SECRET not in str(config)


def test_missing_explicit_config_file_is_refused(tmp_path: Path) -> None:
    """--config with a path that does not exist says so instead of using defaults."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", env={})


def test_invalid_toml_is_refused_with_a_hint(tmp_path: Path) -> None:
    """A syntax error in config.toml points to the example file."""
    with pytest.raises(ConfigError, match=r"config\.example\.toml"):
        load_config(write(tmp_path, "[discord\n"), env={})


def test_example_file_documents_every_key_with_its_default() -> None:
    """config.example.toml holds every key, with the default the code uses, and a comment."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, keys in SCHEMA.items():
        assert section in data, section
        for key, spec in keys.items():
            assert key in data[section], f"[{section}] {key}"
            assert data[section][key] == spec.default, f"[{section}] {key}"
    for section, table in data.items():
        assert set(table) == set(SCHEMA[section])
    assert len(re.findall(r"^# ", text, re.M)) >= len(SCHEMA)
