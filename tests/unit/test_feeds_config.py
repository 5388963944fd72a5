"""[feeds] allow_hosts: a list of host:port strings, from the file or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def test_allow_hosts_defaults_to_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no setting, no private endpoint is exempt."""
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).get("feeds", "allow_hosts") == []


def test_allow_hosts_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[feeds]\nallow_hosts = ["127.0.0.1:8080", "[::1]:9000"]\n', encoding="utf-8")
    assert load_config(path, env={}).get("feeds", "allow_hosts") == ["127.0.0.1:8080", "[::1]:9000"]
    env = {"LAUNCHWATCH_FEEDS_ALLOW_HOSTS": "127.0.0.1:8080, feeds.local:80"}
    assert load_config(path, env=env).get("feeds", "allow_hosts") == [
        "127.0.0.1:8080",
        "feeds.local:80",
    ]


@pytest.mark.parametrize(
    ("text", "env", "names"),
    [
        ('[feeds]\nallow_hosts = "127.0.0.1:80"\n', {}, ["[feeds] allow_hosts", "list of quoted"]),
        ("[feeds]\nallow_hosts = [8080]\n", {}, ["[feeds] allow_hosts", "list of quoted"]),
        ('[feeds]\nallow_hosts = ["localhost"]\n', {}, ["'localhost'", "host:port"]),
        (
            "",
            {"LAUNCHWATCH_FEEDS_ALLOW_HOSTS": "::1:80"},
            ["LAUNCHWATCH_FEEDS_ALLOW_HOSTS", "[::1]"],
        ),
    ],
)
def test_bad_allow_hosts_name_the_key_and_the_fix(
    tmp_path: Path, text: str, env: dict[str, str], names: list[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    for name in names:
        assert name in str(info.value)
