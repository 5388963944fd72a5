"""Discord's JSON error shapes, so discord.py raises the same exceptions it would in production."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[int, str] = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50005: "Cannot edit a message authored by another user",
    50006: "Cannot send an empty message",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
}

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035


class DiscordError(Exception):
    """Raised inside route handlers; the server turns it into Discord's error response."""

    def __init__(self, status: int, code: int, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {MESSAGES.get(code, '')}")
        self.status = status
        self.code = code
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.errors)


def error_body(code: int, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"code", "message"}`` (+ ``errors`` for 50035), as Discord answers."""
    body: dict[str, Any] = {"message": MESSAGES.get(code, "Unknown error"), "code": code}
    if errors:
        body["errors"] = errors
    return body


def http_error(status: int) -> dict[str, Any]:
    """The bare ``{"message": "404: Not Found", "code": 0}`` shape."""
    reasons = {401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal"}
    return {"message": f"{status}: {reasons.get(status, 'Error')}", "code": 0}


def field_error(path: list[str | int], code: str, message: str) -> dict[str, Any]:
    """Nest one field error the way Discord does: ``{"a": {"0": {"_errors": [...]}}}``."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {str(key): node}
    return node


def merge_errors(target: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge nested error dicts (so several broken fields show up together)."""
    for key, value in extra.items():
        if key == "_errors":
            target.setdefault("_errors", []).extend(value)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_errors(target[key], value)
        else:
            target[key] = value
    return target
