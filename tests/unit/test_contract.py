"""The committed Discord contract: what it keeps from Discord's spec, and that it stands alone.

Nothing here reads Discord's openapi.json unless ``DISCORD_API_SPEC`` names it: then the
contract is rebuilt and must equal the committed file byte for byte.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.contract import (
    CONTRACT_FILE,
    LICENCE_FILE,
    build,
    build_file,
    dumps,
    load_contract,
    main,
    route_key,
    served_routes,
    strip_annotations,
)
from bot.sandbox.spec import SpecValidator, UncoveredRoute

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "sandbox"
MESSAGES = "POST /channels/{channel_id}/messages"
SPEC_ENV = "DISCORD_API_SPEC"  # not LAUNCHWATCH_*: the config loader reads those as settings


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for k, v in node.items() if k != "$ref" for r in refs(v)
        ]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


def test_rebuild_from_the_spec_matches_the_committed_contract(tmp_path: Path) -> None:
    """Built again from Discord's spec at the commit it names, the contract is unchanged."""
    spec = os.environ.get(SPEC_ENV)
    if not spec:
        pytest.skip(f"set {SPEC_ENV} to discord-api-spec's specs/openapi.json to rebuild")
    committed = (PACKAGE / CONTRACT_FILE).read_bytes()
    commit = json.loads(committed)["source"]["commit"]
    target, _ = build_file(Path(spec), commit, tmp_path / CONTRACT_FILE)
    assert target.read_bytes() == committed, (
        f"the contract is stale: python -m bot.sandbox.contract build --spec {spec} --commit SHA"
    )


def test_contract_covers_exactly_the_routes_the_emulator_serves() -> None:
    """Every route of the emulator's table is in the contract, with a schema or as bodiless,
    so a route added without a rebuild fails here."""
    contract = load_contract()
    served = {route_key(m, t) for m, t in served_routes()}
    with_body, without = set(contract["routes"]), set(contract["without_json_body"])
    assert not with_body & without
    assert with_body | without == served
    assert {MESSAGES, "PUT /applications/{application_id}/guilds/{guild_id}/commands"} <= with_body


def test_contract_names_its_commit_and_ships_discords_licence() -> None:
    """The contract says which spec commit it came from; Discord's MIT licence is beside it."""
    source = load_contract()["source"]
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert source["repository"] == "https://github.com/discord/discord-api-spec"
    licence = (PACKAGE / source["licence"]).read_text(encoding="utf-8")
    assert source["licence"] == LICENCE_FILE
    assert licence.startswith("MIT License") and "Copyright 2023 Discord" in licence


def test_contract_is_self_contained_and_without_annotations() -> None:
    """Every $ref resolves inside the file; no annotation keyword is left to strip."""
    contract = load_contract()
    schemas = contract["components"]["schemas"]
    for ref in refs(contract):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas, ref
    for name, schema in [*contract["routes"].items(), *schemas.items()]:
        assert strip_annotations(schema) == schema, name
    assert dumps(contract) == (PACKAGE / CONTRACT_FILE).read_text(encoding="utf-8")


def test_annotation_keywords_go_but_properties_of_that_name_stay() -> None:
    """``description`` the annotation is dropped; ``description`` the embed field is kept."""
    schema = {
        "title": "Embed",
        "description": "An embed.",
        "example": {"title": "x"},
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 256, "description": "its title"},
            "description": {"type": "string", "maxLength": 4096, "examples": ["d"]},
            "fields": {"type": "array", "items": {"title": "Field", "type": "object"}},
        },
        "oneOf": [{"description": "a branch", "const": {"description": "data, not a keyword"}}],
    }
    assert strip_annotations(schema) == {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 256},
            "description": {"type": "string", "maxLength": 4096},
            "fields": {"type": "array", "items": {"type": "object"}},
        },
        "oneOf": [{"const": {"description": "data, not a keyword"}}],
    }


@pytest.mark.parametrize(("field", "limit"), [("description", 4096), ("title", 256)])
def test_embed_limits_named_like_annotations_are_enforced(field: str, limit: int) -> None:
    """The contract alone refuses an embed ``description`` past 4,096 (``title`` past 256)."""
    validator = SpecValidator()
    ok = {"embeds": [{field: "x" * limit}]}
    too_long = {"embeds": [{field: "x" * (limit + 1)}]}
    assert validator.check("POST", "/channels/{channel_id}/messages", ok) == {}
    errors = validator.check("POST", "/channels/{channel_id}/messages", too_long)
    assert errors["embeds"]["0"][field]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


def test_a_route_missing_from_the_contract_is_not_a_pass(tmp_path: Path) -> None:
    """Checking a body for a route the contract lacks raises instead of answering "valid"."""
    contract = load_contract()
    del contract["routes"][MESSAGES]
    path = tmp_path / CONTRACT_FILE
    path.write_text(dumps(contract), encoding="utf-8")
    validator = SpecValidator(path)
    assert not validator.covers("POST", "/channels/{channel_id}/messages")
    with pytest.raises(UncoveredRoute):
        validator.check("POST", "/channels/{channel_id}/messages", {"content": "hi"})


# -- the builder, on a small spec written here ------------------------------------------------

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "tiny", "version": "10"},
    "paths": {
        "/channels/{id}/messages": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Create"}},
                        "multipart/form-data": {"schema": {"$ref": "#/components/schemas/Upload"}},
                    }
                },
                "responses": {"200": {"$ref": "#/components/responses/Ok"}},
            },
            "get": {"responses": {}},
        },
        "/channels/{id}/typing": {"post": {"responses": {}}},
    },
    "components": {
        "schemas": {
            "Create": {
                "title": "Create",
                "type": "object",
                "properties": {"embeds": {"type": "array", "items": {"$ref": "#/components/schemas/Embed"}}},
            },
            "Embed": {"type": "object", "properties": {"description": {"type": "string", "maxLength": 4096, "description": "text"}}},
            "Upload": {"type": "object"},
            "Unused": {"type": "string"},
        }
    },
}  # fmt: skip
ROUTES = [
    ("POST", "/channels/{channel_id}/messages"),
    ("GET", "/channels/{channel_id}/messages"),
    ("POST", "/channels/{channel_id}/typing"),
    ("GET", "/gateway"),
]


def test_builder_keeps_json_routes_and_the_schemas_they_reach() -> None:
    """Emulator templates match the spec's whatever the parameter names; only reachable
    component schemas are kept, stripped; routes without a JSON body are listed apart."""
    contract = build(SPEC, ROUTES, "abc1234")
    assert contract["routes"] == {MESSAGES: {"$ref": "#/components/schemas/Create"}}
    assert contract["without_json_body"] == [
        "GET /channels/{channel_id}/messages",
        "GET /gateway",
        "POST /channels/{channel_id}/typing",
    ]
    schemas = contract["components"]["schemas"]
    assert sorted(schemas) == ["Create", "Embed"]
    assert schemas["Embed"]["properties"]["description"] == {"type": "string", "maxLength": 4096}
    assert contract["source"]["commit"] == "abc1234"


def test_builder_output_is_byte_stable() -> None:
    """The spec's key order does not change the file (keys sorted), so rebuilds diff cleanly."""
    shuffled = copy.deepcopy(SPEC)
    shuffled["components"]["schemas"] = dict(reversed(SPEC["components"]["schemas"].items()))
    first, second = dumps(build(SPEC, ROUTES, "abc1234")), dumps(build(shuffled, ROUTES, "abc1234"))
    assert first == second and first.endswith("}\n")
    assert first.index('"components"') < first.index('"routes"') < first.index('"source"')


def test_builder_refuses_refs_outside_the_component_schemas() -> None:
    """A request schema pointing anywhere else would not resolve in the extract."""
    spec = copy.deepcopy(SPEC)
    spec["components"]["schemas"]["Embed"] = {"$ref": "#/components/headers/X"}
    with pytest.raises(ValueError, match="components/headers"):
        build(spec, ROUTES, "abc1234")


def test_build_command_writes_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot.sandbox.contract build` writes the file and the licence beside it."""
    spec, licence, out = tmp_path / "openapi.json", tmp_path / "LICENSE", tmp_path / "c.json"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    licence.write_text("MIT License\n", encoding="utf-8")
    args = ["build", "--spec", str(spec), "--commit", "ABC1234", "--out", str(out)]
    assert main([*args, "--licence", str(licence)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["source"]["commit"] == "abc1234"
    assert (tmp_path / LICENCE_FILE).read_text(encoding="utf-8") == "MIT License\n"
    assert "1 route, 2 schemas" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["build", "--spec", str(spec), "--commit", "not-a-sha"])
    assert main(["build", "--spec", str(tmp_path / "missing.json"), "--commit", "abc1234"]) == 1
