"""Fetching feeds over real HTTP on loopback: conditional GET, failures as typed results,
the size cap, the deadline and the redirect limit."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.feeds import (
    Failed,
    FailureKind,
    Feed,
    Fetched,
    Fetcher,
    NotModified,
    Validators,
    read_feed,
)
from bot.feeds.fetch import MAX_BYTES, retry_after
from tests.unit.feeds_support import FeedServer, feed_server, fixture

RSS = fixture("rss20.xml")
MB = 1024 * 1024


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with feed_server() as s:
        yield s


@pytest.fixture
async def fetcher(server: FeedServer) -> AsyncIterator[Fetcher]:
    """The default deadline (10 s): only the time-out tests shorten it, so a busy machine
    cannot turn another test's result into a time-out."""
    async with Fetcher([server.endpoint]) as f:
        yield f


@pytest.fixture
async def impatient(server: FeedServer) -> AsyncIterator[Fetcher]:
    """A short deadline; the stalled handlers wait far longer (feeds_support.STALL)."""
    async with Fetcher([server.endpoint], timeout=0.3) as f:
        yield f


def etag_route(server: FeedServer) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=RSS, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    server.routes["/feed"] = handler


async def test_etag_round_trip_gives_not_modified(server: FeedServer, fetcher: Fetcher) -> None:
    """The second poll sends the ETag it got and learns that nothing changed."""
    etag_route(server)
    first = await read_feed(fetcher, server.url("/feed"))
    assert isinstance(first, Feed) and first.validators.etag == '"v1"'
    assert len(first.items) == 4
    second = await read_feed(fetcher, server.url("/feed"), first.validators)
    assert isinstance(second, NotModified)
    assert second.validators.etag == '"v1"'
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'


async def test_last_modified_round_trip(server: FeedServer, fetcher: Fetcher) -> None:
    """A server that only dates its feed gets If-Modified-Since back, and may answer 304;
    the 304 keeps the validators the caller had."""
    stamp = "Thu, 25 Jan 2024 10:22:00 GMT"

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return web.Response(status=304)
        return web.Response(body=RSS, headers={"Last-Modified": stamp})

    server.routes["/feed"] = handler
    first = await fetcher.fetch(server.url("/feed"))
    assert isinstance(first, Fetched)
    assert first.validators == Validators(etag=None, last_modified=stamp)
    second = await fetcher.fetch(server.url("/feed"), first.validators)
    assert second == NotModified(server.url("/feed"), Validators(None, stamp))


async def test_user_agent_names_launchwatch(server: FeedServer, fetcher: Fetcher) -> None:
    """Site owners can tell who is polling them and what it is."""
    server.serve("/feed", RSS)
    await fetcher.fetch(server.url("/feed"))
    agent = server.requests[0].headers["User-Agent"]
    assert agent == "LaunchWatch/0.1.0 (feed reader of a Discord alert bot)"


async def test_server_error_is_a_typed_failure(server: FeedServer, fetcher: Fetcher) -> None:
    """A 500 is reported with its status, in words a moderator can read."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    server.routes["/feed"] = handler
    result = await read_feed(fetcher, server.url("/feed"))
    assert isinstance(result, Failed)
    assert (result.kind, result.status, result.permanent) == (FailureKind.HTTP_STATUS, 500, False)
    assert "HTTP 500" in result.reason and server.url("/feed") in result.reason


async def test_retry_after_is_reported(server: FeedServer, fetcher: Fetcher) -> None:
    """A 429 with Retry-After tells the caller how long the site wants it to wait."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "120"})

    server.routes["/feed"] = handler
    result = await fetcher.fetch(server.url("/feed"))
    assert isinstance(result, Failed) and result.retry_after == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert retry_after("soon") is None


async def test_server_that_never_answers_times_out(server: FeedServer, impatient: Fetcher) -> None:
    """A server that accepts the request and then says nothing is a time-out."""

    async def handler(request: web.Request) -> web.Response:
        await server.stall()
        return web.Response(body=RSS)

    server.routes["/feed"] = handler
    result = await impatient.fetch(server.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.TIMEOUT
    assert "did not answer" in result.reason


async def test_body_that_stalls_midway_times_out(server: FeedServer, impatient: Fetcher) -> None:
    """The deadline covers reading the body, not only the headers."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(RSS[:100])
        await server.stall()
        await response.write(RSS[100:])
        return response

    server.routes["/feed"] = handler
    result = await impatient.fetch(server.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.TIMEOUT


async def test_malformed_xml_is_a_typed_failure(server: FeedServer, fetcher: Fetcher) -> None:
    """A document cut off mid-way is reported as malformed, with the parser's complaint."""
    server.serve("/feed", fixture("malformed.xml"))
    result = await read_feed(fetcher, server.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.MALFORMED
    assert "XML" in result.reason and "line 2" in result.reason


async def test_web_page_is_not_a_feed(server: FeedServer, fetcher: Fetcher) -> None:
    """A moderator who pastes a site's home page is told it is not a feed."""
    server.serve("/", b"<html><body><h1>News</h1></body></html>", "text/html")
    result = await read_feed(fetcher, server.url("/"))
    assert isinstance(result, Failed) and result.kind == FailureKind.MALFORMED


def streaming_route(server: FeedServer, total: int, *, length: bool) -> None:
    """Send `total` bytes of a feed-looking body in 64 KiB writes, chunked unless `length`."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if length:
            response.content_length = total
        await response.prepare(request)
        block = b" " * (64 * 1024)
        sent = 0
        try:
            await response.write(b'<rss version="2.0"><channel>')
            while sent < total:
                await response.write(block)
                sent += len(block)
        except (ConnectionResetError, ConnectionError):
            pass  # the fetcher hung up, as it should
        return response

    server.routes["/big"] = handler


@pytest.mark.parametrize("length", [False, True], ids=["chunked", "content-length"])
async def test_oversize_body_is_refused(server: FeedServer, fetcher: Fetcher, length: bool) -> None:
    """6 MB is past the 5 MB cap: a clear failure, whether or not the size was announced."""
    streaming_route(server, 6 * MB, length=length)
    result = await fetcher.fetch(server.url("/big"))
    assert isinstance(result, Failed) and result.kind == FailureKind.TOO_BIG
    assert result.limit == MAX_BYTES and "MB" in result.reason


async def test_compressed_body_is_capped_after_decoding(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """6 MB that gzip squeezes into a few KB is still 6 MB once decoded: refused."""
    bomb = gzip.compress(b'<rss version="2.0"><channel>' + b" " * (6 * MB))
    assert len(bomb) < 64 * 1024

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    server.routes["/bomb"] = handler
    result = await fetcher.fetch(server.url("/bomb"))
    assert isinstance(result, Failed) and result.kind == FailureKind.TOO_BIG


async def test_compressed_feed_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    """A gzip-encoded feed (what most servers send) reads normally."""

    async def handler(request: web.Request) -> web.Response:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        return web.Response(body=gzip.compress(RSS), headers=headers)

    server.routes["/feed"] = handler
    result = await read_feed(fetcher, server.url("/feed"))
    assert isinstance(result, Feed) and result.title == "Korea Watch & Wire"
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]


def chain(server: FeedServer, hops: int) -> str:
    """/r/<hops> -> ... -> /r/0, which serves the feed; relative Locations."""
    for n in range(1, hops + 1):
        server.redirect(f"/r/{n}", f"/r/{n - 1}", 301 if n % 2 else 307)
    server.serve("/r/0", RSS)
    return server.url(f"/r/{hops}")


async def test_five_redirects_are_followed(server: FeedServer, fetcher: Fetcher) -> None:
    """A feed that moved five times is still read, from its final address."""
    result = await fetcher.fetch(chain(server, 5))
    assert isinstance(result, Fetched) and result.url == server.url("/r/0")


async def test_six_redirects_are_too_many(server: FeedServer, fetcher: Fetcher) -> None:
    """The sixth redirect is not followed."""
    result = await fetcher.fetch(chain(server, 6))
    assert isinstance(result, Failed) and result.kind == FailureKind.TOO_MANY_REDIRECTS
    assert "more than 5" in result.reason
    assert not any(r.path == "/r/0" for r in server.requests)


async def test_redirect_without_location_is_reported(server: FeedServer, fetcher: Fetcher) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=302)

    server.routes["/feed"] = handler
    result = await fetcher.fetch(server.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.BAD_REDIRECT


async def test_connection_refused_is_a_typed_failure() -> None:
    """Nothing listening is a connection failure, not an exception."""
    async with feed_server() as gone:
        url, endpoint = gone.url("/feed"), gone.endpoint
    async with Fetcher([endpoint]) as f:
        result = await f.fetch(url)
    assert isinstance(result, Failed) and result.kind == FailureKind.CONNECTION
    assert "could not be reached" in result.reason
