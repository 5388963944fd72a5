"""Configuration: defaults, then `config.toml`, then `LAUNCHWATCH_<SECTION>_<KEY>` variables.

One table (`SCHEMA`) declares every key, its type and default; `config.example.toml`
documents the same keys, and a test keeps the two in step. A bad value stops start-up
with one line naming the key and the fix; the token never appears in any message.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError, ValidationError
from bot.i18n import N_, _
from bot.sandbox.world import SANDBOX_GUILD_ID
from bot.validation import clock_time

Check = Callable[[Any], str | None]


@dataclass(frozen=True)
class Key:
    """One setting: its type (`str`, `int`, `float`, `bool`, `ints`, `strs`), default and an
    extra check."""

    kind: str
    default: Any
    check: Check | None = None


def _positive(v: Any) -> str | None:
    return None if v > 0 else _("must be greater than 0")


def _clock(v: Any) -> str | None:
    try:
        return None if clock_time("time", v) == v else _("must be a time as HH:MM, e.g. 08:00")
    except ValidationError:
        return _("must be a time as HH:MM, e.g. 08:00")


def _level(v: Any) -> str | None:
    ok = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    return (
        None
        if str(v).upper() in ok
        else _("must be one of {values}").format(values=", ".join(sorted(ok)))
    )


def _db_url(v: Any) -> str | None:
    ok = v.startswith(("sqlite:///", "postgresql://", "postgres://"))
    return None if ok else _("must look like sqlite:///launchwatch.db or postgresql://user@host/db")


def _timezone(v: Any) -> str | None:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        return _("must be an IANA time zone such as UTC or Asia/Seoul")
    return None


def _shard_count(v: Any) -> str | None:
    return None if v >= 0 else _("must be 0 (let Discord decide) or a shard count")


def _endpoints(v: Any) -> str | None:
    from bot.feeds.address import parse_endpoint  # feeds pulls in its parsers: only when set

    for entry in v:
        try:
            parse_endpoint(entry)
        except ValueError:
            return f"{entry!r} is not host:port; write 127.0.0.1:8080 or [::1]:8080"
    return None


def _port(v: Any) -> str | None:
    return None if 0 <= v <= 65535 else "must be a TCP port, 1 to 65535 (0: any free port)"


def _extractor(v: Any) -> str | None:
    return None if v in ("rules", "openai") else 'must be "rules" or "openai"'


SCHEMA: dict[str, dict[str, Key]] = {
    "discord": {
        "token": Key("str", ""),
        "dev_guilds": Key("ints", []),
        "shard_ids": Key("ints", []),
        "shard_count": Key("int", 0, _shard_count),
    },
    "database": {"url": Key("str", "sqlite:///launchwatch.db", _db_url)},
    "network": {
        "home_guild": Key("int", SANDBOX_GUILD_ID, _positive),
        "publisher_guilds": Key("ints", []),
    },
    "delivery": {
        "global_rate": Key("float", 48.0, _positive),
        "channel_rate": Key("float", 1.0, _positive),
        "channel_burst": Key("int", 5, _positive),
        "send_timeout": Key("float", 45.0, _positive),
        "max_attempts": Key("int", 8, _positive),
        "sweep_interval": Key("float", 3.0, _positive),
    },
    "schedule": {
        "digest_grace_hours": Key("float", 6.0, _positive),
        "default_timezone": Key("str", "UTC", _timezone),
        "default_digest_time": Key("str", "08:00", _clock),
    },
    "logging": {"level": Key("str", "INFO", _level)},
    "sandbox": {
        "db": Key("str", "sandbox.db"),
        "settle": Key("float", 0.3, _positive),
        "feed_port": Key("int", 8765, _port),
    },
    "feeds": {"allow_hosts": Key("strs", [], _endpoints), "timeout": Key("float", 10.0, _positive)},
    "drafting": {
        "fetch_articles": Key("bool", False),
        "extractor": Key("str", "rules", _extractor),
        "openai_url": Key("str", ""),
        "openai_model": Key("str", ""),
        "openai_api_key": Key("str", ""),
        "openai_timeout": Key("float", 30.0, _positive),
    },
}

#: Settings never shown in a message: a value given for them is "the value given".
SECRETS = frozenset({"token", "openai_api_key"})

_EXAMPLES = {
    "str": '"text"',
    "int": "42",
    "float": "1.5",
    "bool": "true",
    "ints": "[123, 456]",
    "strs": '["text", "more"]',
}


@dataclass(frozen=True)
class Config:
    """Resolved settings, addressed as `config.get("delivery", "global_rate")` or attributes."""

    values: Mapping[str, Mapping[str, Any]]
    path: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    @property
    def token(self) -> str:
        return str(self.values["discord"]["token"])

    @property
    def database_url(self) -> str:
        return str(self.values["database"]["url"])

    @property
    def home_guild(self) -> int:
        return int(self.values["network"]["home_guild"])

    @property
    def publisher_guilds(self) -> list[int]:
        return list(self.values["network"]["publisher_guilds"])

    def replace(self, section: str, key: str, value: Any) -> Config:
        """A copy with one setting changed (the sandbox and tests derive configs this way)."""
        _key(section, key)
        values = {s: dict(v) for s, v in self.values.items()}
        values[section][key] = value
        return Config(values, self.path, {**self.sources, f"{section}.{key}": "override"})

    def __repr__(self) -> str:  # never show the token
        return f"Config(path={self.path!s}, token={'set' if self.token else 'unset'})"


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Resolve the configuration; `path` None means `./config.toml` when it exists."""
    env = os.environ if env is None else env
    explicit = path is not None
    file = Path(path) if path is not None else Path("config.toml")
    data: dict[str, Any] = {}
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                str(file),
                _("is not valid TOML ({why}); compare it with config.example.toml").format(why=exc),
            ) from None
    elif explicit:
        raise ConfigError(
            str(file),
            _("no such file; pass an existing file to --config, or copy config.example.toml"),
        )
    values: dict[str, dict[str, Any]] = {
        s: {k: key.default for k, key in keys.items()} for s, keys in SCHEMA.items()
    }
    sources: dict[str, str] = {}
    for section, table in data.items():
        if section not in SCHEMA:
            raise ConfigError(
                f"[{section}]",
                _("unknown section; known sections: {sections}").format(sections=", ".join(SCHEMA)),
            )
        if not isinstance(table, dict):
            raise ConfigError(
                f"[{section}]", _("must be a table, like [section] followed by key = value lines")
            )
        for key, raw in table.items():
            spec = _key(section, key)
            values[section][key] = _coerce(section, key, spec, raw, from_env=False)
            sources[f"{section}.{key}"] = str(file)
    prefix = "LAUNCHWATCH_"
    env_values = {k: v for k, v in env.items() if k.startswith(prefix)}
    if "DISCORD_TOKEN" in env and "LAUNCHWATCH_DISCORD_TOKEN" not in env_values:
        env_values["LAUNCHWATCH_DISCORD_TOKEN"] = env["DISCORD_TOKEN"]
    for name, raw in env_values.items():
        section, key = _split_env(name[len(prefix) :])
        spec = _key(section, key, shown=name)
        values[section][key] = _coerce(section, key, spec, raw, from_env=True, shown=name)
        sources[f"{section}.{key}"] = name
    return Config(values, file if file.exists() else None, sources)


def _split_env(rest: str) -> tuple[str, str]:
    lowered = rest.lower()
    for section in SCHEMA:
        if lowered.startswith(section + "_"):
            return section, lowered[len(section) + 1 :]
    raise ConfigError(
        "LAUNCHWATCH_" + rest,
        _(
            "unknown setting; variables are LAUNCHWATCH_<SECTION>_<KEY> with a section of "
            "{sections}"
        ).format(sections=", ".join(SCHEMA)),
    )


def _key(section: str, key: str, shown: str | None = None) -> Key:
    if key not in SCHEMA[section]:
        known = ", ".join(SCHEMA[section])
        raise ConfigError(
            shown or f"[{section}] {key}",
            _("unknown key; [{section}] takes {keys}").format(section=section, keys=known),
        )
    return SCHEMA[section][key]


def _coerce(
    section: str, key: str, spec: Key, raw: Any, *, from_env: bool, shown: str | None = None
) -> Any:
    name = shown or f"[{section}] {key}"
    secret = key in SECRETS

    def bad(why: str) -> ConfigError:
        if secret:
            return ConfigError(name, why)
        example = _("{why}; for example {key} = {value}")
        return ConfigError(name, example.format(why=why, key=key, value=_EXAMPLES[spec.kind]))

    try:
        value = _convert(spec.kind, raw, from_env)
    except (TypeError, ValueError):
        shown_raw = _("the value given") if secret else repr(raw)
        expected = _("expected {kind}, got {value}")
        raise bad(expected.format(kind=_(_KINDS[spec.kind]), value=shown_raw)) from None
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            raise bad(problem)
    return value


def _convert(kind: str, raw: Any, from_env: bool) -> Any:
    if kind == "str":
        if not isinstance(raw, str):
            raise TypeError
        return raw
    if kind == "int":
        if isinstance(raw, bool) or (not from_env and not isinstance(raw, int)):
            raise TypeError
        return int(raw)
    if kind == "float":
        if isinstance(raw, bool) or (not from_env and not isinstance(raw, int | float)):
            raise TypeError
        return float(raw)
    if kind == "bool":
        if from_env:
            lowered = str(raw).strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError
            return lowered in {"1", "true", "yes"}
        if not isinstance(raw, bool):
            raise TypeError
        return raw
    if kind == "ints":
        if from_env:
            return [int(part) for part in str(raw).split(",") if part.strip()]
        if not isinstance(raw, list) or any(
            isinstance(i, bool) or not isinstance(i, int) for i in raw
        ):
            raise TypeError
        return list(raw)
    if kind == "strs":
        if from_env:
            return [part.strip() for part in str(raw).split(",") if part.strip()]
        if not isinstance(raw, list) or any(not isinstance(i, str) for i in raw):
            raise TypeError
        return list(raw)
    raise AssertionError(kind)


_KINDS = {
    "str": N_("a quoted string"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "ints": N_("a list of whole numbers (comma-separated in the environment)"),
    "strs": N_("a list of quoted strings (comma-separated in the environment)"),
}
