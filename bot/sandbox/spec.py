"""Check request bodies against Discord's contract and its documented limits.

The contract (:mod:`bot.sandbox.contract`, shipped as package data) holds the request schemas
of Discord's OpenAPI description (OpenAPI 3.1 = JSON Schema 2020-12) for every JSON route the
emulator serves. It is loaded once per process and each route's validator is compiled once, so
a test suite pays for it a single time. A JSON body to a route the contract lacks is not
waved through: :meth:`SpecValidator.check` raises :class:`UncoveredRoute`, which the server
records as a violation. Bodies are normalised first the way Discord's API itself is lenient
(integer snowflakes are accepted where the spec says string).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.sandbox.contract import load_contract, route_key
from bot.sandbox.errors import field_error, merge_errors

CONTRACT_URI = "urn:launchwatch:discord-contract"

# Keys whose integer items are snowflakes (Discord accepts ints and strings alike).
_SNOWFLAKE_LISTS = {"users", "roles", "applied_tags", "sticker_ids"}


class UncoveredRoute(LookupError):
    """A JSON body was sent to a route the contract has no schema for (rebuild it)."""


def normalize(body: Any, *, key: str = "", in_components: bool = False) -> Any:
    """Integer snowflakes -> strings: ``id``/``*_id`` fields, ``*_ids`` and mention lists.

    A message component's own ``id`` is a real int32 in the spec (a component is an object
    with an integer ``type`` inside ``components``), so it stays an integer; any other ``id``
    (attachments, select default values, ...) is a snowflake.
    """
    if isinstance(body, dict):
        is_component = in_components and isinstance(body.get("type"), int)
        inside = in_components or key == "components"
        out: dict[str, Any] = {}
        for k, v in body.items():
            is_id = k.endswith("_id") or (k == "id" and not is_component)
            if is_id and isinstance(v, int) and not isinstance(v, bool):
                out[k] = str(v)
            else:
                out[k] = normalize(v, key=k, in_components=inside)
        return out
    if isinstance(body, list):
        if key in _SNOWFLAKE_LISTS or key.endswith("_ids"):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in body]
        inside = in_components or key == "components"
        return [normalize(v, key=key, in_components=inside) for v in body]
    return body


_VALIDATORS: dict[tuple[str, str], Draft202012Validator] = {}
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict[str, Any], Registry]:
    """The contract ("" for the packaged one) and a registry that resolves its ``$ref``s."""
    contract = load_contract(Path(path) if path else None)
    resource = Resource.from_contents(contract, default_specification=DRAFT202012)
    return contract, Registry().with_resource(CONTRACT_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class SpecValidator:
    """Compiled validators for the contract's request bodies, made on demand."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._contract, self._registry = _load(str(path) if path else "")

    @property
    def commit(self) -> str:
        """The discord-api-spec commit the contract was built from."""
        return str(self._contract["source"]["commit"])

    def covers(self, method: str, template: str) -> bool:
        """Whether the contract has a request schema for this route."""
        return route_key(method, template) in self._contract["routes"]

    def validator(self, method: str, template: str) -> Draft202012Validator | None:
        """The route's compiled validator (shared by every emulator in the process)."""
        key = route_key(method, template)
        if key not in self._contract["routes"]:
            return None
        cache_key = (str(self.path or ""), key)
        with _LOCK:
            if cache_key not in _VALIDATORS:
                ref = {"$ref": f"{CONTRACT_URI}#/{_pointer('routes', key)}"}
                _VALIDATORS[cache_key] = Draft202012Validator(ref, registry=self._registry)
            return _VALIDATORS[cache_key]

    def check(self, method: str, template: str, body: Any) -> dict[str, Any]:
        """Discord-shaped ``errors`` for a (normalised) body; empty when it is valid.

        Raises :class:`UncoveredRoute` when the contract has no schema for the route: an
        unchecked body must not pass for a valid one."""
        validator = self.validator(method, template)
        if validator is None:
            raise UncoveredRoute(route_key(method, template))
        errors: dict[str, Any] = {}
        for error in validator.iter_errors(body):
            merge_errors(errors, _to_discord(error))
        return errors


def _is_discriminator_miss(error: ValidationError, depth: int) -> bool:
    """A union branch that failed only because its ``type`` tag or JSON type differs."""
    rel = list(error.absolute_path)[depth:]
    if error.validator in ("enum", "const") and rel[-1:] == ["type"] and len(rel) == 1:
        return True
    return error.validator == "type" and not rel


def _pick_branch(error: ValidationError) -> list[ValidationError] | None:
    """For anyOf/oneOf, the errors of the branch the body most plausibly meant."""
    depth = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
    plausible = [
        errs
        for errs in branches.values()
        if not any(_is_discriminator_miss(e, depth) for e in _flatten(errs))
    ]
    if not plausible:
        return None
    return min(plausible, key=len)


def _flatten(errors: Iterable[ValidationError]) -> list[ValidationError]:
    out: list[ValidationError] = []
    for error in errors:
        out.append(error)
        if error.validator not in ("anyOf", "oneOf"):
            out.extend(_flatten(error.context or []))
    return out


def _to_discord(error: ValidationError) -> dict[str, Any]:
    path: list[str | int] = list(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        consts = [e.validator_value for e in error.context if e.validator == "const"]
        if consts and len(consts) == len(error.context):  # an enum written as oneOf of consts
            return field_error(path, "BASE_TYPE_CHOICES", f"Value must be one of {consts}.")
        branch = _pick_branch(error)
        if branch:
            merged: dict[str, Any] = {}
            for sub in branch:
                merge_errors(merged, _to_discord(sub))
            return merged
    validator, value = error.validator, error.validator_value
    if validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in value if p not in error.instance]
        return field_error(path + missing[:1], "BASE_TYPE_REQUIRED", "This field is required")
    codes = {
        "maxLength": ("BASE_TYPE_MAX_LENGTH", f"Must be {value} or fewer in length."),
        "minLength": ("BASE_TYPE_MIN_LENGTH", f"Must be {value} or more in length."),
        "maxItems": ("BASE_TYPE_MAX_LENGTH", f"Must be {value} or fewer in length."),
        "minItems": ("BASE_TYPE_MIN_LENGTH", f"Must be {value} or more in length."),
        "enum": ("BASE_TYPE_CHOICES", f"Value must be one of {value}."),
        "const": ("BASE_TYPE_CHOICES", f"Value must be one of ({value!r},)."),
        "maximum": ("NUMBER_TYPE_MAX", f"int value should be less than or equal to {value}."),
        "minimum": ("NUMBER_TYPE_MIN", f"int value should be greater than or equal to {value}."),
        "pattern": ("BASE_TYPE_BAD_FORMAT", "Value is not a valid snowflake."),
        "type": ("BASE_TYPE_BAD_TYPE", f"Must be of type {value}."),
        "uniqueItems": ("BASE_TYPE_UNIQUE", "Items must be unique."),
    }
    code, message = codes.get(validator, ("UNION_TYPE_CHOICES", error.message))  # type: ignore[arg-type]
    return field_error(path, code, message)


# -- the limits that live only in Discord's documentation --------------------------------------

CONTENT_LIMIT = 2000
EMBEDS_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
EMBED_FIELDS = 25
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER_TEXT = 2048
AUTHOR_NAME = 256


def _too_long(path: list[str | int], limit: int) -> dict[str, Any]:
    return field_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def message_limit_errors(body: Any, prefix: list[str | int] | None = None) -> dict[str, Any]:
    """Errors for a message body breaking the documented content and embed limits."""
    if not isinstance(body, dict):
        return {}
    at: list[str | int] = prefix or []
    errors: dict[str, Any] = {}
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        merge_errors(errors, _too_long([*at, "content"], CONTENT_LIMIT))
    mentions = body.get("allowed_mentions") or {}
    for kind in ("users", "roles"):
        if kind in (mentions.get("parse") or []) and mentions.get(kind):
            msg = f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.'
            merge_errors(errors, field_error([*at, "allowed_mentions"], "MENTION_CONFLICT", msg))
    embeds = body.get("embeds") or []
    if not isinstance(embeds, list):
        return errors
    if len(embeds) > EMBEDS_PER_MESSAGE:
        merge_errors(errors, _too_long([*at, "embeds"], EMBEDS_PER_MESSAGE))
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        where: list[str | int] = [*at, "embeds", i]
        for key, limit in (("title", EMBED_TITLE), ("description", EMBED_DESCRIPTION)):
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                merge_errors(errors, _too_long([*where, key], limit))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            merge_errors(errors, _too_long([*where, "fields"], EMBED_FIELDS))
        for j, fld in enumerate(fields):
            for key, limit in (("name", FIELD_NAME), ("value", FIELD_VALUE)):
                text = str(fld.get(key) or "")
                total += len(text)
                if len(text) > limit:
                    merge_errors(errors, _too_long([*where, "fields", j, key], limit))
        for key, sub, limit in (("footer", "text", FOOTER_TEXT), ("author", "name", AUTHOR_NAME)):
            text = (embed.get(key) or {}).get(sub) or ""
            total += len(text)
            if len(text) > limit:
                merge_errors(errors, _too_long([*where, key, sub], limit))
    if total > EMBEDS_TOTAL_LIMIT:
        msg = f"Embed size exceeds maximum size of {EMBEDS_TOTAL_LIMIT}"
        merge_errors(errors, field_error([*at, "embeds"], "MAX_EMBED_SIZE_EXCEEDED", msg))
    return errors
