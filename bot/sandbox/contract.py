"""Discord's contract for the emulator: the request schemas of the JSON routes it serves.

The emulator checks every body the bot sends against Discord's own OpenAPI description
(github.com/discord/discord-api-spec). That file is 1.2 MB and not ours to ship whole, so it is
used once, to build this compact extract, which is committed as package data beside Discord's
MIT licence::

    python -m bot.sandbox.contract build --spec discord-api-spec/specs/openapi.json --commit SHA

For each route in :meth:`bot.sandbox.routes.Routes.table` whose operation takes
``application/json``, the contract keeps that request schema (under ``routes``, keyed
``"METHOD /template"`` with the emulator's template) and every component schema it reaches
(under ``components/schemas``, so the spec's local ``$ref``s still resolve). Annotations
(``description``, ``title``, ``example(s)``) are dropped where they are schema keywords; a
*property* of that name (an embed's ``description``, with its 4,096 limit) stays. Keys are
sorted so a rebuild diffs cleanly. Nothing reads the spec at run time or test time.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CONTRACT_FILE = "discord_contract.json"
LICENCE_FILE = "discord_contract.LICENSE"
SPEC_REPOSITORY = "https://github.com/discord/discord-api-spec"
SCHEMAS_REF = "#/components/schemas/"

ANNOTATIONS = frozenset({"description", "title", "example", "examples"})
# Keywords whose value maps names (property names, not keywords) to subschemas.
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
# Keywords whose value is one subschema (or, for old-style ``items``, a list of them).
_ONE_SCHEMA = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


def default_path() -> Path:
    """Where ``build`` writes the contract: beside this module, in the source tree."""
    return Path(__file__).with_name(CONTRACT_FILE)


def load_contract(path: Path | None = None) -> dict[str, Any]:
    """The contract at ``path``, else the one shipped in the package (checkout or wheel)."""
    if path is not None:
        text = path.read_text(encoding="utf-8")
    else:
        text = importlib.resources.files(__package__).joinpath(CONTRACT_FILE).read_text("utf-8")
    contract: dict[str, Any] = json.loads(text)
    return contract


def route_key(method: str, template: str) -> str:
    """``"POST /channels/{channel_id}/messages"``: how routes are named everywhere."""
    return f"{method.upper()} {template}"


def served_routes() -> list[tuple[str, str]]:
    """(method, template) of every REST route the emulator serves, from its own route table."""
    from bot.sandbox.emulator import Emulator

    return [(m, t) for m, t, _, _ in Emulator(validate=False).routes.table()]


def strip_annotations(schema: Any) -> Any:
    """A copy of ``schema`` without annotation keywords; property names are never touched."""
    if not isinstance(schema, dict):
        return schema  # true/false schemas
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: strip_annotations(sub) for name, sub in value.items()}
        elif key in _ONE_SCHEMA:
            is_list = isinstance(value, list)
            out[key] = (
                [strip_annotations(s) for s in value] if is_list else strip_annotations(value)
            )
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [strip_annotations(sub) for sub in value]
        else:
            out[key] = value  # type, enum, const, required, ...: data, kept as is
    return out


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _spec_path(paths: dict[str, Any], template: str) -> str | None:
    """The spec's path for an emulator template (its parameter names may differ)."""
    if template in paths:
        return template
    shape = re.sub(r"\{[^}]+\}", "{}", template)
    return next((p for p in paths if re.sub(r"\{[^}]+\}", "{}", p) == shape), None)


def build(spec: dict[str, Any], routes: Iterable[tuple[str, str]], commit: str) -> dict[str, Any]:
    """The contract for ``routes`` out of a parsed OpenAPI description at ``commit``."""
    paths: dict[str, Any] = spec["paths"]
    components: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    schemas: dict[str, Any] = {}
    without: list[str] = []
    for method, template in routes:
        key = route_key(method, template)
        found = _spec_path(paths, template)
        operation = paths[found].get(method.lower(), {}) if found else {}
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            schemas[key] = strip_annotations(content["application/json"]["schema"])
        else:
            without.append(key)
    wanted = [ref for schema in schemas.values() for ref in _refs(schema)]
    kept: dict[str, Any] = {}
    while wanted:
        ref = wanted.pop()
        if not ref.startswith(SCHEMAS_REF):
            raise ValueError(f"{ref} is not a component schema; the contract must stand alone")
        name = ref.removeprefix(SCHEMAS_REF)
        if name in kept:
            continue
        if name not in components:
            raise ValueError(f"{ref} is missing from the spec")
        kept[name] = strip_annotations(components[name])
        wanted.extend(_refs(kept[name]))
    return {
        "source": {
            "repository": SPEC_REPOSITORY,
            "commit": commit,
            "openapi": spec.get("openapi"),
            "api_version": spec.get("info", {}).get("version"),
            "licence": LICENCE_FILE,
        },
        "routes": schemas,
        "without_json_body": sorted(without),
        "components": {"schemas": kept},
    }


def dumps(contract: dict[str, Any]) -> str:
    """Sorted keys, one-space indents, a final newline: byte-stable across rebuilds."""
    return json.dumps(contract, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build_file(spec_path: Path, commit: str, out: Path | None = None) -> tuple[Path, str]:
    """Read the spec, build, write; returns where and what was written."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    text = dumps(build(spec, served_routes(), commit))
    target = out or default_path()
    target.write_text(text, encoding="utf-8", newline="\n")
    return target, text


def _commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{7,40}", value):
        raise argparse.ArgumentTypeError(f"not a git commit: {value!r}")
    return value.lower()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox.contract", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="extract the contract from Discord's openapi.json")
    make.add_argument("--spec", type=Path, required=True, help="discord-api-spec's openapi.json")
    make.add_argument("--commit", type=_commit, required=True, help="the spec's git commit")
    make.add_argument("--out", type=Path, help=f"default: bot/sandbox/{CONTRACT_FILE}")
    make.add_argument("--licence", type=Path, help=f"copy this LICENSE to {LICENCE_FILE}")
    args = parser.parse_args(argv)
    from bot.sandbox.transcript import words

    try:
        target, text = build_file(args.spec, args.commit, args.out)
        if args.licence is not None:
            shutil.copyfile(args.licence, target.with_name(LICENCE_FILE))
    except (OSError, ValueError, KeyError) as exc:
        print(words("contract_failed", f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return 1
    built = json.loads(text)
    routes, schemas = len(built["routes"]), len(built["components"]["schemas"])
    print(words("contract_built", target, routes, schemas, len(text.encode())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
