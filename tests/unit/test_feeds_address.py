"""Address safety: a feed URL a moderator types cannot make the bot reach a private address,
directly, through a name, or through a redirect; and the connection goes to the address
that was checked.

Network tests only ever target loopback: the "private" servers a fetch must not reach are
real servers on 127.0.0.1 that are not in allow_hosts, so a broken check shows up as a
request they received. Addresses off this machine (10.0.0.1, NAT64, metadata) are tested
against the policy and the resolver directly, which connect nowhere.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator

import pytest

from bot.feeds import Failed, FailureKind, Feed, Fetched, Fetcher, read_feed
from bot.feeds.address import (
    AddressPolicy,
    AddressRefused,
    CheckingResolver,
    is_public,
    parse_endpoint,
)
from tests.unit.feeds_support import FIXTURES, FeedServer, feed_server, fixture, static_lookup

RSS = fixture("rss20.xml")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1",
        "169.254.169.254", "0.0.0.0", "255.255.255.255", "224.0.0.1", "::1", "::",
        "fe80::1", "fc00::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",
        "2002:7f00:1::", "2002:a00:1::", "::7f00:1",
    ],
)  # fmt: skip
def test_private_and_special_addresses_are_refused(address: str) -> None:
    """Loopback, LAN, link-local (cloud metadata), multicast and the IPv6 spellings of
    IPv4 private addresses (mapped, NAT64, 6to4, IPv4-compatible) are all refused."""
    assert not is_public(ipaddress.ip_address(address))
    assert AddressPolicy().refusal("feeds.example", 443, address) == address


def test_ipv4_mapped_address_is_judged_by_its_ipv4_address() -> None:
    """::ffff:224.0.0.1 is multicast once unwrapped, though no IPv6 test says so."""
    assert not is_public(ipaddress.ip_address("::ffff:224.0.0.1"))
    assert is_public(ipaddress.ip_address("::ffff:93.184.216.34"))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::6810:84e5", "64:ff9b::5db8:d822"]
)
def test_public_addresses_pass(address: str) -> None:
    """Public addresses, including NAT64 spellings of public IPv4 ones, may be fetched."""
    assert AddressPolicy().refusal("feeds.example", 443, address) is None


def test_allow_hosts_exempts_exact_endpoints_only() -> None:
    """An allowed host:port is exempt; the same host on another port, or a neighbour, is not."""
    policy = AddressPolicy.allowing(["127.0.0.1:8080", "[::1]:9000", "Feeds.Local:80"])
    assert policy.refusal("127.0.0.1", 8080, "127.0.0.1") is None
    assert policy.refusal("127.0.0.1", 8081, "127.0.0.1") == "127.0.0.1"
    assert policy.refusal("127.0.0.2", 8080, "127.0.0.2") == "127.0.0.2"
    assert policy.refusal("::1", 9000, "::1") is None
    assert policy.refusal("feeds.local", 80, "10.1.2.3") is None


@pytest.mark.parametrize("text", ["127.0.0.1", "::1:80", "host:0", "host:70000", ":80", "a:b"])
def test_bad_allow_hosts_entries_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text)


async def test_resolver_refuses_a_name_with_any_private_address() -> None:
    """A name whose addresses include one private address is refused outright (the
    connector would try them all), without connecting anywhere."""
    names = {
        "mixed.test": ["93.184.216.34", "10.0.0.1"],
        "nat64.test": ["64:ff9b::a9fe:a9fe"],
        "meta.test": ["169.254.169.254"],
    }
    resolver = CheckingResolver(AddressPolicy(), static_lookup(names))
    for name, bad in [("mixed.test", "10.0.0.1"), ("nat64.test", "64:ff9b::a9fe:a9fe")]:
        with pytest.raises(AddressRefused) as info:
            await resolver.resolve(name, 80)
        assert info.value.address == bad
    with pytest.raises(AddressRefused):
        await resolver.resolve("meta.test", 80)


async def test_resolver_hands_back_exactly_the_checked_addresses() -> None:
    """What aiohttp connects to is what was checked: numeric, for the name asked."""
    resolver = CheckingResolver(AddressPolicy(), static_lookup({"ok.test": ["93.184.216.34"]}))
    [result] = await resolver.resolve("ok.test", 443)
    assert (result["hostname"], result["host"], result["port"]) == ("ok.test", "93.184.216.34", 443)


@pytest.fixture
async def allowed() -> AsyncIterator[FeedServer]:
    """The feed server the test allows."""
    async with feed_server() as s:
        yield s


@pytest.fixture
async def private() -> AsyncIterator[FeedServer]:
    """A server on loopback that is NOT allowed: it stands for the private network. It
    serves a real feed, so a fetch that wrongly reaches it succeeds and the test fails."""
    async with feed_server() as s:
        s.serve("/secret", RSS)
        yield s


async def test_literal_private_ip_url_is_refused(allowed: FeedServer, private: FeedServer) -> None:
    """A URL naming a private address is refused before any request is sent."""
    async with Fetcher([allowed.endpoint]) as fetcher:
        result = await fetcher.fetch(private.url("/secret"))
    assert isinstance(result, Failed) and result.kind == FailureKind.REFUSED_ADDRESS
    assert result.permanent and "127.0.0.1 is not a public" in result.reason
    assert private.requests == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "evil.test", "EVIL.test."]
)
async def test_redirect_from_allowed_server_to_private_address_is_refused(
    allowed: FeedServer, private: FeedServer, host: str
) -> None:
    """The allowed server redirecting elsewhere on the private network (another port, the
    IPv4-mapped spelling, a name that resolves there) is refused at that hop."""
    allowed.redirect("/feed", private.url("/secret", host=host))
    lookup = static_lookup({"evil.test": ["127.0.0.1"]})
    async with Fetcher([allowed.endpoint], lookup=lookup) as fetcher:
        result = await fetcher.fetch(allowed.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.REFUSED_ADDRESS
    assert result.url.endswith(f":{private.port}/secret")
    assert private.requests == []


async def test_redirect_to_another_address_on_the_same_port_is_refused(
    allowed: FeedServer,
) -> None:
    """Only the endpoint listed is exempt: 127.0.0.2 on the allowed port is not it."""
    allowed.redirect("/feed", allowed.url("/feed", host="127.0.0.2"))
    async with Fetcher([allowed.endpoint]) as fetcher:
        result = await fetcher.fetch(allowed.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.REFUSED_ADDRESS


async def test_name_resolving_to_private_address_is_refused(private: FeedServer) -> None:
    """A name is judged by the addresses it resolves to."""
    lookup = static_lookup({"evil.test": ["127.0.0.1"]})
    async with Fetcher([], lookup=lookup) as fetcher:
        result = await fetcher.fetch(private.url("/secret", host="evil.test"))
    assert isinstance(result, Failed) and result.kind == FailureKind.REFUSED_ADDRESS
    assert "127.0.0.1" in result.reason
    assert private.requests == []


async def test_system_resolver_answers_are_checked_too(private: FeedServer) -> None:
    """Without an injected lookup the operating system resolves: localhost is refused,
    unless localhost:port itself is listed."""
    url = private.url("/secret", host="localhost")
    async with Fetcher([]) as fetcher:
        refused = await fetcher.fetch(url)
    assert isinstance(refused, Failed) and refused.kind == FailureKind.REFUSED_ADDRESS
    assert private.requests == []
    async with Fetcher([f"localhost:{private.port}"]) as fetcher:
        allowed = await fetcher.fetch(url)
    assert isinstance(allowed, Fetched) and allowed.body == RSS


async def test_connection_goes_to_the_address_checked(allowed: FeedServer) -> None:
    """The name is looked up once and the connection pinned to that answer, so a second
    lookup (that would now say 127.0.0.3, where nothing listens) never happens; the server
    still sees the name in Host."""
    answers = [["127.0.0.1"], ["127.0.0.3"]]
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), 2) - 1]

    allowed.serve("/feed", RSS)
    endpoint = f"pinned.test:{allowed.port}"
    async with Fetcher([endpoint], lookup=rebinding) as fetcher:
        result = await read_feed(fetcher, allowed.url("/feed", host="pinned.test"))
    assert isinstance(result, Feed) and len(result.items) == 4
    assert calls == ["pinned.test"]
    assert allowed.requests[0].headers["Host"] == endpoint


async def test_https_to_a_pinned_address_keeps_the_name_for_tls() -> None:
    """Over https the certificate is checked against the name (SNI), not the address the
    connection was pinned to: a certificate for secure.test is accepted."""
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(FIXTURES / "secure.test.pem", FIXTURES / "secure.test.key")
    client_tls = ssl.create_default_context(cafile=str(FIXTURES / "secure.test.pem"))
    async with feed_server(tls=server_tls) as server:
        server.serve("/feed", RSS)
        lookup = static_lookup({"secure.test": ["127.0.0.1"]})
        endpoint = f"secure.test:{server.port}"
        async with Fetcher([endpoint], lookup=lookup, tls=client_tls) as fetcher:
            good = await fetcher.fetch(server.url("/feed", host="secure.test"))
        async with Fetcher([server.endpoint], tls=client_tls) as fetcher:
            by_address = await fetcher.fetch(server.url("/feed"))
    assert isinstance(good, Fetched) and good.body == RSS
    assert isinstance(by_address, Failed) and by_address.kind == FailureKind.TLS


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://feeds.example/rss",
        "gopher://feeds.example/",
        "javascript:alert(1)",
        "feeds.example/rss",
        "http:///no-host",
    ],
)
async def test_non_web_urls_are_refused(url: str) -> None:
    """Only http and https addresses with a host are fetched."""
    async with Fetcher([]) as fetcher:
        result = await fetcher.fetch(url)
    assert isinstance(result, Failed) and result.kind == FailureKind.BAD_URL
    assert result.permanent and "http://" in result.reason


async def test_redirect_to_a_file_url_is_refused(allowed: FeedServer) -> None:
    allowed.redirect("/feed", "file:///etc/passwd")
    async with Fetcher([allowed.endpoint]) as fetcher:
        result = await fetcher.fetch(allowed.url("/feed"))
    assert isinstance(result, Failed) and result.kind == FailureKind.BAD_URL
    assert result.url == "file:///etc/passwd"
