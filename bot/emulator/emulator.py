"""The :class:`Emulator`: start a Discord look-alike, point discord.py at it, drive the bot.

Tests, benchmarks and consoles all use this one facade over a :class:`~.world.World` they
describe; the parts behind it (gateway, routes, rate limits, contract checks, faults, records)
stay replaceable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from .actions import UserActions
from .faults import Faults
from .gateway import Gateway
from .interactions import InteractionHub, LateAnswer
from .messages import MessageFactory
from .ratelimit import RateLimiter, RouteLimit
from .records import Attachment, BodyViolation, MessageRecord, Recorder, RequestRecord
from .registry import CommandRegistry
from .routes import Routes
from .server import Server
from .spec import SpecValidator
from .world import World

if TYPE_CHECKING:
    import discord


class Emulator(UserActions):
    """A Discord-compatible server on 127.0.0.1 that the real discord.py client talks to."""

    def __init__(
        self,
        world: World,
        *,
        global_limit: int = 50,
        route_limits: dict[str, RouteLimit | tuple[int, float]] | None = None,
        nonce_window: float = 300.0,
        interaction_deadline: float = 3.0,
        token_ttl: float = 900.0,
        recommended_shards: int = 1,
        heartbeat_interval: int = 41250,
        validate: bool = True,
        contract: Path | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world
        self.host, self.port = host, port
        self.store = Recorder()
        self.limiter = RateLimiter(global_limit=global_limit, route_limits=route_limits)
        self.faults = Faults(seed=seed)
        self.factory = MessageFactory(self.world, self._attachment_url)
        self.registry = CommandRegistry(self.world)
        self.hub = InteractionHub(
            self.world, self.store, self.factory, deadline=interaction_deadline, token_ttl=token_ttl
        )
        self.gateway = Gateway(
            self.world, lambda: self.gateway_url, heartbeat_interval=heartbeat_interval
        )
        self.routes = Routes(
            self.world,
            self.store,
            self.registry,
            self.hub,
            self.factory,
            gateway_url=lambda: self.gateway_url,
            recommended_shards=recommended_shards,
            nonce_window=nonce_window,
        )
        spec = SpecValidator(contract) if validate else None
        self.server = Server(
            routes=self.routes,
            store=self.store,
            limiter=self.limiter,
            faults=self.faults,
            hub=self.hub,
            gateway=self.gateway,
            spec=spec,
        )
        self._runner: web.AppRunner | None = None
        self._undo: list[Callable[[], None]] = []

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Bind (port 0 picks a free one) and serve."""
        runner = web.AppRunner(self.server.app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close sockets, release hanging requests, stop serving, undo discord.py patches."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        self.server.closing.set()
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        self.patch_discord()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def recommended_shards(self) -> int:
        """The shard count ``GET /gateway/bot`` recommends (AutoShardedClient follows it)."""
        return self.routes.recommended_shards

    @recommended_shards.setter
    def recommended_shards(self, count: int) -> None:
        self.routes.recommended_shards = count

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def patch_discord(self) -> Callable[[], None]:
        """Point discord.py's REST base and gateway here; returns the undo (also run by stop)."""
        import yarl
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.base_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        done = False

        def undo() -> None:
            nonlocal done
            if not done:
                Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
                done = True

        self._undo.append(undo)
        return undo

    @contextlib.asynccontextmanager
    async def connected(
        self, client: discord.Client, *, timeout: float = 10.0
    ) -> AsyncIterator[discord.Client]:
        """Log ``client`` in, run it until READY and its GUILD_CREATEs, close it afterwards."""
        await client.login(self.world.token)
        task = asyncio.create_task(client.connect(reconnect=True), name="emulated-client")
        try:
            await self.wait_ready(timeout=timeout)
            # The gateway remembers shards a client made ready before (a restarted client on
            # the same emulator): wait for this client's own READY too.
            await asyncio.wait_for(client.wait_until_ready(), timeout)
            yield client
        finally:
            await client.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- waiting on the bot -----------------------------------------------------------------

    async def wait_ready(self, shards: int | None = None, timeout: float = 10.0) -> None:
        """Until a client IDENTIFYed on every shard and got its GUILD_CREATEs."""
        gw = self.gateway

        def ready() -> bool:
            count = shards or gw.shard_count
            return gw.shard_count == count and gw.ready_shards >= set(range(count))

        await gw.changes.wait_until(ready, timeout, "the bot to connect (READY)")

    async def wait_synced(self, guild_id: int | None = None, timeout: float = 10.0) -> None:
        """Until commands were PUT (for ``guild_id``, or anywhere)."""

        def synced() -> bool:
            if guild_id is None:
                return self.registry.sync_count > 0
            return guild_id in self.registry.guild_commands

        await self.routes.synced.wait_until(synced, timeout, "the command sync")

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Until every shard has a live socket again (after a drop)."""
        await self.gateway.changes.wait_until(self.gateway.connected, timeout, "a reconnect")

    async def wait_resumed(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until the gateway has seen ``count`` RESUMEs in all."""
        gw = self.gateway
        await gw.changes.wait_until(lambda: gw.resume_count >= count, timeout, "a RESUME")

    async def wait_identified(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until the gateway has seen ``count`` IDENTIFYs in all (READY sent each time)."""
        gw = self.gateway
        await gw.changes.wait_until(lambda: gw.identify_count >= count, timeout, "an IDENTIFY")

    # -- faults -------------------------------------------------------------------------------

    def channel_id(self, channel: int | str, guild: int | None = None) -> int:
        return self._where(channel, guild)[1].id

    def break_channel(self, channel: int | str, code: int = 50001) -> None:
        """Every request on the channel answers 403 (50001, 50013) or 404 (10003)."""
        self.faults.break_channel(self.channel_id(channel), code)

    def fix_channel(self, channel: int | str) -> None:
        self.faults.fix_channel(self.channel_id(channel))

    def make_flaky(
        self,
        share: float,
        *,
        mode: str = "500",
        seed: int | None = None,
        hang_seconds: float = 60.0,
        routes: list[str] | None = None,
    ) -> None:
        """Fail ``share`` of REST calls (optionally only ``routes``) with 500s, hangs, or
        answers lost after the call was carried out (``mode="lost"``)."""
        self.faults.make_flaky(
            share, mode=mode, seed=seed, hang_seconds=hang_seconds, routes=routes
        )

    def set_route_limit(self, route: str, limit: int, per: float) -> None:
        """E.g. ``("POST /channels/{channel_id}/messages", 2, 1.0)``."""
        self.limiter.set_route_limit(route, limit, per)

    def set_global_limit(self, per_second: int) -> None:
        self.limiter.global_limit = per_second

    def reset_rate_limits(self) -> None:
        """Start every window and bucket afresh (e.g. so login traffic does not count)."""
        self.limiter.reset()

    async def drop_gateway(self, shard_id: int | None = None, code: int = 4000) -> int:
        """Close the bot's gateway socket(s); discord.py reconnects and RESUMEs."""
        return await self.gateway.drop(shard_id, code)

    async def request_reconnect(self, shard_id: int | None = None) -> None:
        await self.gateway.request_reconnect(shard_id)

    async def invalidate_session(
        self, shard_id: int | None = None, resumable: bool = False
    ) -> None:
        await self.gateway.invalidate(shard_id, resumable=resumable)

    # -- records --------------------------------------------------------------------------------

    def messages(self, channel: int | str, guild: int | None = None) -> list[MessageRecord]:
        """The channel's messages now (oldest first, deleted ones gone, no ephemerals)."""
        return self.store.messages(self.channel_id(channel, guild))

    def attachments(self, channel: int | str) -> list[Attachment]:
        return [a for m in self.messages(channel) for a in m.attachments]

    @property
    def requests(self) -> list[RequestRecord]:
        return self.store.requests

    @property
    def spec_errors(self) -> list[BodyViolation]:
        """Every body Discord would have refused (schema or documented limits), and every JSON
        body sent to a route the contract lacks (``uncovered``: it went unchecked)."""
        return self.store.spec_errors

    @property
    def emulator_errors(self) -> list[str]:
        """Tracebacks of the emulator's own failures (answered as 500s); should stay empty."""
        return self.store.emulator_errors

    @property
    def late_interactions(self) -> list[LateAnswer]:
        return self.hub.late

    def count_posts(self, channel: int | str) -> int:
        return self.store.posts_per_channel().get(self.channel_id(channel), 0)

    def posts_per_channel(self) -> dict[int, int]:
        return self.store.posts_per_channel()

    def duplicate_posts(self, channel: int | str | None = None) -> list[MessageRecord]:
        cid = None if channel is None else self.channel_id(channel)
        return self.store.duplicate_posts(cid)

    def rate_limited(self) -> list[RequestRecord]:
        return self.store.rate_limited()

    def invalid_requests(self) -> list[RequestRecord]:
        return self.store.invalid_requests()

    def schema_violations(self) -> list[BodyViolation]:
        return self.store.schema_violations()

    def _attachment_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        return f"http://{self.host}:{self.port}/attachments/{channel_id}/{attachment_id}/{filename}"
