"""The aiohttp application: one pipeline every REST call goes through, in Discord's order.

faults -> auth -> rate limits -> broken channels -> body parsing -> contract and documented limits
-> the route's handler; every call is recorded with its answer. JSON answers carry exactly
``Content-Type: application/json`` (discord.py parses nothing else as JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import traceback
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.errors import INVALID_FORM_BODY, DiscordError, http_error, merge_errors
from bot.sandbox.faults import Faults
from bot.sandbox.gateway import Gateway
from bot.sandbox.interactions import InteractionHub
from bot.sandbox.messages import Body, Upload
from bot.sandbox.ratelimit import RateLimiter
from bot.sandbox.records import BodyViolation, RequestRecord, Store
from bot.sandbox.routes import Call, Handler, Routes
from bot.sandbox.spec import SpecValidator, UncoveredRoute, message_limit_errors, normalize

_log = logging.getLogger(__name__)
MAX_UPLOAD = 25 * 1024 * 1024
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
# Routes whose bodies are messages, so Discord's documented content/embed limits apply.
_MESSAGE_ROUTES = {
    "POST /channels/{channel_id}/messages",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "POST /webhooks/{webhook_id}/{webhook_token}",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
}
_CALLBACK = "POST /interactions/{interaction_id}/{interaction_token}/callback"


@dataclass
class _Entry:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(f"(?P<{p}>[^/]+)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"^{pattern}$")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A response discord.py will parse: Content-Type exactly ``application/json``."""
    all_headers = dict(headers or {})
    if status == 204 or payload is None:
        return web.Response(status=204, headers=all_headers)
    all_headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(payload).encode(), headers=all_headers)


class Server:
    """Routes REST calls through Discord's checks and records them."""

    def __init__(
        self,
        *,
        routes: Routes,
        store: Store,
        limiter: RateLimiter,
        faults: Faults,
        hub: InteractionHub,
        gateway: Gateway,
        spec: SpecValidator | None,
    ) -> None:
        self.routes = routes
        self.world = routes.world
        self.store = store
        self.limiter = limiter
        self.faults = faults
        self.hub = hub
        self.gateway = gateway
        self.spec = spec
        self.closing = asyncio.Event()
        self._table = [
            _Entry(method, template, _compile(template), handler, auth)
            for method, template, handler, auth in routes.table()
        ]
        self.app = web.Application(client_max_size=MAX_UPLOAD)
        self.app.router.add_get("/gateway", gateway.handle)
        self.app.router.add_get("/attachments/{channel_id}/{attachment_id}/{name}", self.attachment)
        self.app.router.add_route("*", r"/api/v{version:\d+}/{tail:.*}", self.api)

    def _match(self, method: str, path: str) -> tuple[_Entry | None, dict[str, str], bool]:
        """(entry, params, path exists with another method)."""
        other = False
        for entry in self._table:
            found = entry.regex.match(path)
            if found:
                if entry.method == method:
                    return entry, found.groupdict(), True
                other = True
        return None, {}, other

    async def api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        entry, params, exists = self._match(request.method, path)
        record = RequestRecord(request.method, path, entry.key if entry else "?", 0)
        record.query = dict(request.query)
        headers: dict[str, str] = {}
        status: int
        payload: Any
        try:
            if entry is None:
                status = 405 if exists else 404
                payload = http_error(status)
            else:
                status, payload = await self._pipeline(request, entry, params, headers, record)
        except DiscordError as exc:
            status, payload = exc.status, exc.body()
        except Exception:  # an emulator bug: answer like Discord's 500s, keep the traceback
            _log.exception("emulator failed on %s %s", request.method, path)
            self.store.emulator_errors.append(traceback.format_exc())
            status, payload = 500, {"message": "500: Internal Server Error", "code": 0}
        record.status = status
        if isinstance(payload, dict) and status >= 400:
            record.code = payload.get("code")
        self.store.requests.append(record)
        return json_response(status, payload, headers)

    async def _pipeline(
        self,
        request: web.Request,
        entry: _Entry,
        params: dict[str, str],
        headers: dict[str, str],
        record: RequestRecord,
    ) -> tuple[int, Any]:
        flaky = self.faults.roll(entry.key)
        if flaky is not None and flaky.mode != "lost":
            if flaky.mode == "hang":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.closing.wait(), flaky.hang_seconds)
            return 500, {"message": "500: Internal Server Error", "code": 0}
        if entry.auth and request.headers.get("Authorization") != f"Bot {self.world.token}":
            return 401, http_error(401)
        token = params.get("webhook_token") or params.get("interaction_token") or ""
        exempt = entry.key == _CALLBACK or self.hub.is_interaction_token(token)
        major = "+".join(params[k] for k in ("channel_id", "guild_id", "webhook_id") if k in params)
        verdict = self.limiter.check(entry.key, major + token, exempt_global=exempt)
        headers.update(verdict.headers)
        if not verdict.allowed:
            headers["Via"] = "1.1 google"
            return 429, {
                "message": "You are being rate limited.",
                "retry_after": verdict.retry_after,
                "global": verdict.is_global,
                "code": 0,
            }
        if "channel_id" in params and params["channel_id"].isdigit():
            fault = self.faults.channel_fault(int(params["channel_id"]))
            if fault is not None:
                raise DiscordError(*fault)
        body = await self._read_body(request)
        record.body = body.json
        record.files = [u.filename for u in body.uploads]
        if body.json is not None:
            body.json = normalize(body.json)
            self._check_body(entry, record.path, body.json)
        answer = await entry.handler(Call(params, body, request.query))
        if flaky is not None:  # "lost": done, but the client hears a 500
            return 500, {"message": "500: Internal Server Error", "code": 0}
        return answer

    async def _read_body(self, request: web.Request) -> Body:
        if not request.body_exists:
            return Body()
        if request.content_type.startswith("multipart/"):
            body = Body()
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not take it either
                name = part.name or ""
                content = await part.read()
                match = _FILE_FIELD.match(name)
                if name == "payload_json":
                    body.json = self._parse_json(content)
                elif match:
                    filename = part.filename or f"file{match.group(1)}"
                    ctype = part.headers.get("Content-Type")
                    body.uploads.append(
                        Upload(int(match.group(1)), filename, bytes(content), ctype)
                    )
            return body
        raw = await request.read()
        return Body(self._parse_json(raw) if raw else None)

    @staticmethod
    def _parse_json(raw: bytes | bytearray) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise DiscordError(400, 50109) from None

    def _check_body(self, entry: _Entry, path: str, body: Any) -> None:
        """Contract schema, then the documented limits; 400 50035 and a recorded violation.

        A route the contract lacks is recorded as an ``uncovered`` violation (the body went
        unchecked, which must fail a test or a sandbox session) and then served."""
        errors: dict[str, Any] = {}
        kind = "schema"
        if self.spec is not None:
            try:
                errors = self.spec.check(entry.method, entry.template, body)
            except UncoveredRoute:
                violation = BodyViolation(entry.method, path, entry.key, "uncovered", body, {})
                self.store.spec_errors.append(violation)
        if not errors:
            kind = "limit"
            if entry.key in _MESSAGE_ROUTES:
                errors = message_limit_errors(body)
            elif entry.key == _CALLBACK and isinstance(body, dict) and body.get("type") in (4, 7):
                errors = message_limit_errors(body.get("data"), ["data"])
        if errors:
            self.store.spec_errors.append(
                BodyViolation(entry.method, path, entry.key, kind, body, errors)
            )
            raise DiscordError(400, INVALID_FORM_BODY, merge_errors({}, errors))

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        """Serve an uploaded file (so discord.py's ``Attachment.read()`` works too)."""
        raw_id = request.match_info["attachment_id"]
        wanted = int(raw_id) if raw_id.isdigit() else -1
        messages = [*self.store.by_id.values(), *self.store.deleted]
        for att in [a for m in messages for a in m.attachments] + self.store.extra_files:
            if att.id == wanted:
                ctype = att.content_type or "application/octet-stream"
                return web.Response(body=att.content, headers={"Content-Type": ctype})
        return json_response(404, http_error(404))
