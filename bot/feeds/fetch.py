"""Safe HTTP for feeds: conditional GET, bounded in time and size, redirects checked.

Every hop of a fetch goes through the same gate: http or https only, a literal IP checked
here, a name checked by `CheckingResolver` at the one lookup the connection uses. The bot
follows redirects itself (at most `max_redirects`) so each target is checked before a
byte is sent to it. The whole fetch, redirects and body included, has one deadline; the
body is read in chunks and abandoned past `max_bytes`, counted after decompression (the
fetcher decodes gzip and deflate itself, a bounded chunk at a time), so neither a huge
body nor a small compressed one that inflates becomes a memory spike.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
from yarl import URL

from bot import __version__
from bot.feeds.address import AddressPolicy, AddressRefused, CheckingResolver, Lookup, parse_ip
from bot.feeds.items import Failed, FailureKind, Fetched, FetchResult, NotModified, Validators

#: Names the bot and what it does; the project publishes no address of its own to add.
USER_AGENT = f"LaunchWatch/{__version__} (feed reader of a Discord alert bot)"
TIMEOUT = 10.0
MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
)
CHUNK = 64 * 1024


class _Redirect(Exception):
    def __init__(self, target: URL) -> None:
        self.target = target


class _Stop(Exception):
    """Ends a fetch with a result decided inside a hop."""

    def __init__(self, failure: Failed) -> None:
        self.failure = failure


class Fetcher:
    """One HTTP client for every feed: pooled connections, no cookies, no proxy from the
    environment, and the address policy on every connection. Use `async with`."""

    def __init__(
        self,
        allow_hosts: Iterable[str] = (),
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        lookup: Lookup | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`lookup` and `tls` replace the system resolver and trust store (tests use them
        to give names to loopback servers and trust a test certificate)."""
        self.policy = AddressPolicy.allowing(allow_hosts)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._lookup = lookup
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=CheckingResolver(self.policy, self._lookup),
                use_dns_cache=False,
                ssl=self._tls if self._tls is not None else True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
            )
        return self._session

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """GET `url`, sending `validators` for a conditional GET; never raises for anything
        the remote side or the URL can cause."""
        current = url
        try:
            async with asyncio.timeout(self.timeout):
                for _ in range(self.max_redirects + 1):
                    try:
                        return await self._hop(self._target(current), validators)
                    except _Redirect as hop:
                        current = str(hop.target)
                return Failed(
                    FailureKind.TOO_MANY_REDIRECTS, current, limit=float(self.max_redirects)
                )
        except _Stop as stop:
            return stop.failure
        except TimeoutError:
            return Failed(FailureKind.TIMEOUT, current, limit=self.timeout)
        except AddressRefused as exc:
            return Failed(FailureKind.REFUSED_ADDRESS, current, detail=exc.address)
        except (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError) as exc:
            return Failed(FailureKind.TLS, current, detail=_describe(exc))
        except (aiohttp.InvalidURL, ValueError) as exc:
            return Failed(FailureKind.BAD_URL, current, detail=_describe(exc))
        except (aiohttp.ClientError, OSError) as exc:
            return Failed(FailureKind.CONNECTION, current, detail=_describe(exc))

    def _target(self, text: str) -> URL:
        """The URL to request, or a stop: only http(s) with a host, a literal IP only when
        the policy passes it."""
        try:
            url = URL(text)
        except (ValueError, TypeError):
            raise _Stop(Failed(FailureKind.BAD_URL, text, detail="not a web address")) from None
        if url.scheme not in ("http", "https"):
            shown = f"{url.scheme}: is not http or https" if url.scheme else "no scheme"
            raise _Stop(Failed(FailureKind.BAD_URL, text, detail=shown))
        host = url.raw_host
        if not host:
            raise _Stop(Failed(FailureKind.BAD_URL, text, detail="no host"))
        ip = parse_ip(host)
        if ip is not None:
            refused = self.policy.refusal(host, url.port or 0, str(ip))
            if refused is not None:
                raise AddressRefused(host, refused)
        return url

    async def _hop(self, url: URL, validators: Validators | None) -> FetchResult:
        headers = {"Accept-Encoding": "gzip, deflate"}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._client().get(url, headers=headers, allow_redirects=False) as resp:
            if resp.status in REDIRECTS:
                raise _Redirect(_location(url, resp))
            if resp.status == 304:
                fresh, old = _validators(resp), validators or Validators()
                kept = Validators(fresh.etag or old.etag, fresh.last_modified or old.last_modified)
                return NotModified(str(url), kept)
            if not 200 <= resp.status < 300:
                return Failed(
                    FailureKind.HTTP_STATUS,
                    str(url),
                    status=resp.status,
                    detail=resp.reason or "",
                    retry_after=retry_after(resp.headers.get("Retry-After")),
                )
            body = await self._read(url, resp)
            return Fetched(str(url), body, resp.headers.get("Content-Type", ""), _validators(resp))

    async def _read(self, url: URL, resp: aiohttp.ClientResponse) -> bytes:
        """The body, decoded, or a stop the moment it passes `max_bytes`."""
        too_big = Failed(FailureKind.TOO_BIG, str(url), limit=float(self.max_bytes))
        if resp.content_length is not None and resp.content_length > self.max_bytes:
            resp.close()
            raise _Stop(too_big)
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflate: zlib._Decompress | None = zlib.decompressobj(wbits=47)  # zlib or gzip
        elif encoding in ("", "identity"):
            inflate = None
        else:
            resp.close()
            detail = f"unsupported Content-Encoding {encoding}"
            raise _Stop(Failed(FailureKind.MALFORMED, str(url), detail=detail))
        body = bytearray()
        wire = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            wire += len(chunk)
            if inflate is not None:
                room = self.max_bytes - len(body) + 1  # one byte past the cap is enough
                try:
                    chunk = inflate.decompress(chunk, room)
                except zlib.error as exc:
                    resp.close()
                    detail = f"the {encoding} body could not be decoded ({exc})"
                    raise _Stop(Failed(FailureKind.MALFORMED, str(url), detail=detail)) from None
            body += chunk
            if len(body) > self.max_bytes or wire > self.max_bytes:
                resp.close()
                raise _Stop(too_big)
        return bytes(body)


def _location(url: URL, resp: aiohttp.ClientResponse) -> URL:
    location = resp.headers.get("Location", "").strip()
    if not location:
        detail = f"HTTP {resp.status} without a Location"
        raise _Stop(Failed(FailureKind.BAD_REDIRECT, str(url), status=resp.status, detail=detail))
    try:
        return url.join(URL(location))
    except (ValueError, TypeError):
        detail = f"Location {location[:200]!r} is not an address"
        raise _Stop(Failed(FailureKind.BAD_REDIRECT, str(url), detail=detail)) from None


def _validators(resp: aiohttp.ClientResponse) -> Validators:
    return Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified"))


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe(exc: BaseException) -> str:
    """What went wrong, short: the OS's words for a socket error, else the exception's."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        inner = exc.os_error
        return inner.strerror or str(inner) or type(inner).__name__
    return str(exc) or type(exc).__name__
