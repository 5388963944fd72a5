"""The websocket gateway: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME and dispatch.

Frames are plain JSON text (discord.py inflates only binary frames, so ``compress=zlib-stream``
in its URL is harmless). Each session numbers its dispatches and keeps them, so a client that
lost its socket can RESUME and get what it missed, as on Discord.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .waiting import Changes
from .world import World

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, REQUEST_MEMBERS = 0, 1, 2, 6, 7, 8
INVALID_SESSION, HELLO, HEARTBEAT_ACK = 9, 10, 11
GUILD_MEMBERS_INTENT = 1 << 1


@dataclass
class Session:
    """One IDENTIFYed gateway session (a shard), which outlives its sockets until invalidated."""

    id: str
    shard_id: int
    shard_count: int
    intents: int | None
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    invalid: bool = False
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=2000))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def shard_for(guild_id: int, shard_count: int) -> int:
    """Discord's sharding formula."""
    return (guild_id >> 22) % shard_count


class Gateway:
    """Serves ``/gateway`` and lets the emulator push events to the right shard."""

    def __init__(
        self, world: World, resume_url: Callable[[], str], *, heartbeat_interval: int = 41250
    ) -> None:
        self.world = world
        self.resume_url = resume_url
        self.heartbeat_interval = heartbeat_interval
        self.sessions: dict[str, Session] = {}
        self.by_shard: dict[int, Session] = {}
        self.shard_count = 1
        self.ready_shards: set[int] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.dispatched: list[tuple[str, dict[str, Any]]] = []
        self.changes = Changes()
        self._sockets: set[web.WebSocketResponse] = set()

    # -- the websocket --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._send(
                ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval}}
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                await self._on_frame(ws, frame)
        finally:
            self._sockets.discard(ws)
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
            self.changes.bump()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await self._send(ws, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(ws, data or {})
        elif op == RESUME:
            await self._resume(ws, data or {})
        elif op == REQUEST_MEMBERS:
            await self._chunk(ws, data or {})

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.world.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        session = Session(secrets.token_hex(16), shard_id, shard_count, data.get("intents"), ws=ws)
        old = self.by_shard.get(shard_id)
        if old is not None and old.ws is not None and old.ws is not ws:
            await old.ws.close(code=4000, message=b"Replaced by a new session.")
        self.sessions[session.id] = session
        self.by_shard[shard_id] = session
        if shard_count != self.shard_count:
            self.ready_shards.clear()
        self.shard_count = shard_count
        self.ready_shards.discard(shard_id)
        self.identify_count += 1
        guilds = [g for g in self.world.guilds.values() if shard_for(g.id, shard_count) == shard_id]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.world.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url(),
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
        }
        if data.get("shard"):
            ready["shard"] = [shard_id, shard_count]
        await self.dispatch(session, "READY", ready)
        everyone = session.intents is None or bool(session.intents & GUILD_MEMBERS_INTENT)
        for guild in guilds:
            payload = guild.payload(bot_id=self.world.bot.id, all_members=everyone)
            await self.dispatch(session, "GUILD_CREATE", payload)
        self.ready_shards.add(shard_id)
        self.changes.bump()

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        session = self.sessions.get(data.get("session_id") or "")
        if session is None or session.invalid or data.get("token") != self.world.token:
            await self._send(ws, {"op": INVALID_SESSION, "d": False})
            return
        if session.ws is not None and session.ws is not ws:
            await session.ws.close(code=4000, message=b"Resumed elsewhere.")
        session.ws = ws
        last = data.get("seq") or 0
        async with session.lock:
            for frame in list(session.buffer):
                if frame["s"] > last:
                    await self._send(ws, frame)
        await self.dispatch(session, "RESUMED", {})
        self.resume_count += 1
        self.changes.bump()

    async def _chunk(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        session = next((s for s in self.sessions.values() if s.ws is ws), None)
        guild = self.world.guild(int(data.get("guild_id") or 0))
        if session is None or guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m.payload()
            for uid, m in guild.members.items()
            if (not wanted or uid in wanted) and m.user.username.lower().startswith(query)
        ]
        limit = data.get("limit") or 0
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members[:limit] if limit else members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - set(guild.members)],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- pushing events ---------------------------------------------------------------------

    async def dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        """Number, keep and (if connected) send one event on a session."""
        async with session.lock:
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.buffer.append(frame)
            self.dispatched.append((event, data))
            if session.ws is not None and not session.ws.closed:
                try:
                    await self._send(session.ws, frame)
                except ConnectionError:
                    session.ws = None

    async def dispatch_to_guild(self, guild_id: int, event: str, data: dict[str, Any]) -> None:
        """Send to the session of the shard that owns ``guild_id``."""
        session = self.by_shard.get(shard_for(guild_id, self.shard_count))
        if session is None or session.invalid:
            raise RuntimeError(f"no gateway session holds guild {guild_id}; is the bot connected?")
        await self.dispatch(session, event, data)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps({"s": None, "t": None, **frame}))

    # -- faults -----------------------------------------------------------------------------

    def _targets(self, shard_id: int | None) -> list[Session]:
        sessions = list(self.by_shard.values())
        return [s for s in sessions if shard_id is None or s.shard_id == shard_id]

    async def drop(self, shard_id: int | None = None, code: int = 4000) -> int:
        """Close the socket(s) under the client; the session stays resumable."""
        dropped = 0
        for session in self._targets(shard_id):
            if session.ws is not None:
                ws, session.ws = session.ws, None
                await ws.close(code=code, message=b"Connection dropped by the emulator.")
                dropped += 1
        self.changes.bump()
        return dropped

    async def request_reconnect(self, shard_id: int | None = None) -> None:
        """Op 7: ask the client to reconnect and RESUME."""
        for session in self._targets(shard_id):
            if session.ws is not None:
                await self._send(session.ws, {"op": RECONNECT, "d": None})

    async def invalidate(self, shard_id: int | None = None, *, resumable: bool = False) -> None:
        """Op 9: the session is gone (unless ``resumable``); the client must IDENTIFY again."""
        for session in self._targets(shard_id):
            session.invalid = not resumable
            if not resumable:
                self.ready_shards.discard(session.shard_id)
            if session.ws is not None:
                await self._send(session.ws, {"op": INVALID_SESSION, "d": resumable})
        self.changes.bump()

    def connected(self) -> bool:
        """Every shard has a live socket."""
        shards = range(self.shard_count)
        return all(
            s in self.by_shard and self.by_shard[s].ws is not None and not self.by_shard[s].invalid
            for s in shards
        )

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"Emulator shutting down.")
