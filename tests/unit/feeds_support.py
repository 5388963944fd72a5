"""Real HTTP servers on 127.0.0.1 for the feed tests, and the fixtures they serve.

`FeedServer` is an aiohttp web server whose routes a test sets as it goes
(`server.routes["/feed"] = handler`) and which records every request it gets, so a test
can assert that a refused address was never contacted. Handlers that stall wait on
`server.release` (set at teardown), never on a fixed sleep longer than the test needs.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: How long a stalled handler waits for release before answering anyway: far past any
#: test fetcher's deadline, so a fetcher that ignores its deadline gets a late answer
#: (and the test fails) instead of hanging the run.
STALL = 5.0


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FeedServer:
    """One loopback HTTP(S) server; `routes` maps a path to its handler."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[web.Request] = []
        self.release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._server = TestServer(app, host="127.0.0.1", scheme="https" if tls else "http")
        self._tls = tls

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    async def start(self) -> None:
        await self._server.start_server(ssl=self._tls)

    async def close(self) -> None:
        self.release.set()
        await self._server.close()

    @property
    def port(self) -> int:
        assert self._server.port is not None
        return self._server.port

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, content_type: str = "application/rss+xml") -> None:
        """Answer `path` with a fixed body."""

        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type=content_type)

        self.routes[path] = handler

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=status, headers={"Location": location})

        self.routes[path] = handler

    async def stall(self) -> None:
        """Wait until teardown (or STALL seconds) before going on."""
        try:
            await asyncio.wait_for(self.release.wait(), STALL)
        except TimeoutError:
            pass


@asynccontextmanager
async def feed_server(tls: ssl.SSLContext | None = None) -> AsyncIterator[FeedServer]:
    server = FeedServer(tls)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def static_lookup(
    names: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver for made-up names (no real DNS); records each lookup in `calls`."""

    async def lookup(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        host = host.lower().rstrip(".")  # as DNS would
        if host not in names:
            raise OSError(f"{host}: no such test name")
        return names[host]

    return lookup
