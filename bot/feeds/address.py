"""Which addresses the bot may fetch from, and a resolver that pins each connection to one.

Moderators type feed URLs and the bot fetches them, so a URL must not reach the bot's own
machine, its cloud metadata service or the private network around it. Every address
must be global (`ipaddress`' `is_global`), judged after unwrapping the IPv6 forms that
carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4, the old
IPv4-compatible `::a.b.c.d`), so the verdict is the embedded address's whatever the
Python patch release does. Multicast is refused too: `is_global` passes 224.0.0.0/4.

The check runs where the connection is made: `CheckingResolver` is the only DNS lookup
aiohttp makes for a name; it checks every address the name has and hands aiohttp those
same addresses, so nothing resolves the name a second time between the check and the
connect (DNS rebinding). Literal IPs never reach a resolver, so `Fetcher` checks them
with `refusal` before each request. `[feeds] allow_hosts` exempts listed `host:port`
endpoints (tests, the sandbox's own feed server); nothing else about them is special.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: RFC 8215 local-use NAT64: translates to whatever the local network chooses.
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

#: Looks a name up: (host, port) -> its addresses as text. Injected by tests.
Lookup = Callable[[str, int], Awaitable[list[str]]]


class AddressRefused(Exception):
    """A name or literal that leads to an address the bot must not connect to. Not an
    OSError, so aiohttp lets it through unwrapped and the fetcher reports it as such."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} -> {address}")
        self.host = host
        self.address = address


def unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for, if it embeds one; else itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are not IPv4-compatible
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet, judged by what it really points at."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in NAT64_LOCAL:
        return False
    real = unwrap(ip)
    return real.is_global and not real.is_multicast


def parse_ip(host: str) -> IPAddress | None:
    """`host` as an IP address when it is a literal one (brackets and zone allowed)."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _normal_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    ip = parse_ip(host)
    return str(ip) if ip is not None else host


def parse_endpoint(text: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port` for IPv6) as a normalised pair; ValueError when it is not."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(text)
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise ValueError(text)  # a bare IPv6 address: its last group would pass for a port
    return _normal_host(host), int(port)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses, plus the exempt endpoints of `[feeds] allow_hosts`."""

    allowed: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def allowing(cls, endpoints: Iterable[str]) -> AddressPolicy:
        return cls(frozenset(parse_endpoint(e) for e in endpoints))

    def exempt(self, host: str, port: int) -> bool:
        return (_normal_host(host), port) in self.allowed

    def refusal(self, host: str, port: int, address: str) -> str | None:
        """None when `host` at `address` may be fetched on `port`, else the address that
        was refused (what a moderator is shown)."""
        if self.exempt(host, port) or self.exempt(address, port):
            return None
        ip = parse_ip(address)
        if ip is None or not is_public(ip):
            return address
        return None


async def system_lookup(host: str, port: int) -> list[str]:
    """The operating system's resolver, off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class CheckingResolver(AbstractResolver):
    """Resolves a name once, refuses it unless every address passes the policy, and returns
    exactly those addresses, so aiohttp connects to what was checked."""

    def __init__(self, policy: AddressPolicy, lookup: Lookup | None = None) -> None:
        self.policy = policy
        self.lookup = lookup or system_lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = await self.lookup(host, port)
        except socket.gaierror as exc:
            raise OSError(exc.errno, f"{host}: {exc.strerror}") from exc
        if not addresses:
            raise OSError(socket.EAI_NONAME, f"{host}: no address")
        results: list[ResolveResult] = []
        for address in addresses:
            refused = self.policy.refusal(host, port, address)
            if refused is not None:
                raise AddressRefused(host, refused)
            ip = parse_ip(address)
            if ip is None:  # only an exempt host gets here with one
                raise AddressRefused(host, address)
            v6 = isinstance(ip, ipaddress.IPv6Address)
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(ip),
                    port=port,
                    family=socket.AF_INET6 if v6 else socket.AF_INET,
                    proto=socket.IPPROTO_TCP,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        return results

    async def close(self) -> None:
        return None
