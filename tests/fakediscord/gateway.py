"""The fake gateway: HELLO/IDENTIFY/READY/RESUME over an aiohttp websocket.

discord.py connects with ``?v=10&encoding=json&compress=zlib-stream``. For zlib-stream the
fake keeps one deflate stream per connection and ends every message with a
``Z_SYNC_FLUSH`` (``00 00 ff ff``), which is what discord.py's inflater waits for. Any
other ``compress`` value (e.g. ``zstd-stream`` when discord.py finds a zstd module) is
answered with plain text frames, which discord.py also accepts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

_log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11


class GatewayConnection:
    """One websocket connection from the bot."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compress: str | None):
        self.ws = ws
        self.transport = request.transport
        self.compress = compress
        self._deflate = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: GatewaySession | None = None
        self.dead = False
        self.close_code: int | None = None
        self.sent: list[dict[str, Any]] = []

    async def send(self, payload: dict[str, Any]) -> bool:
        """Send one gateway message; False if the socket is gone."""
        if self.dead or self.ws.closed:
            self.dead = True
            return False
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            try:
                if self._deflate is not None:
                    data = self._deflate.compress(text.encode()) + self._deflate.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError, OSError) as exc:
                _log.debug("gateway send failed: %r", exc)
                self.dead = True
                return False
        self.sent.append(payload)
        return True


@dataclass
class GatewaySession:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Gateway:
    """Gateway state, owned by ``FakeDiscord`` (``fake.gateway``)."""

    def __init__(self, fake: FakeDiscord, heartbeat_interval_ms: int = 41250) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.session: GatewaySession | None = None
        self.connections: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.connect_count = 0
        self.invalid_session_count = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.resume_payloads: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.member_requests: list[dict[str, Any]] = []
        self.close_codes: list[int | None] = []
        # Events handed to ``dispatch`` and not yet logged and sent (e.g. waiting for the
        # session lock): a test that waits for the bot to catch up waits for these too.
        self.dispatching = 0

    # -- state -----------------------------------------------------------
    @property
    def connected(self) -> bool:
        s = self.session
        return s is not None and s.conn is not None and not s.conn.dead

    @property
    def intents(self) -> int:
        return self.session.intents if self.session else 0

    # -- websocket handler ----------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request, request.query.get("compress"))
        self.connections.append(conn)
        self.connect_count += 1
        await conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    raw = msg.data if isinstance(msg.data, str) else msg.data.decode()
                    try:
                        payload = json.loads(raw)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    await self._on_message(conn, payload)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            conn.dead = True
            conn.close_code = ws.close_code
            self.close_codes.append(ws.close_code)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self.fake.notifier.notify()
        return ws

    async def _on_message(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        d = payload.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        elif op == OP_PRESENCE:
            self.presence_updates.append(d or {})
        elif op == OP_REQUEST_MEMBERS:
            self.member_requests.append(d or {})
            await self._request_members(d or {})
        elif op == OP_VOICE_STATE:
            pass
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        self.fake.notifier.notify()

    async def _identify(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.identify_payloads.append(d)
        if d.get("token") != self.fake.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        self.identify_count += 1
        session = GatewaySession(
            id=secrets.token_hex(16), intents=int(d.get("intents") or 0), shard=d.get("shard")
        )
        old = self.session
        self.session = session
        if old is not None and old.conn is not None and old.conn is not conn:
            old.conn = None
        async with session.lock:
            session.conn = conn
            conn.session = session
            await self._dispatch_locked(session, "READY", self.fake._ready_payload(session))
            for guild_payload in self.fake._guild_create_payloads():
                await self._dispatch_locked(session, "GUILD_CREATE", guild_payload)

    async def _resume(self, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.resume_payloads.append(d)
        session = self.session
        if (
            d.get("token") != self.fake.token
            or session is None
            or d.get("session_id") != session.id
        ):
            self.invalid_session_count += 1
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        last = d.get("seq") or 0
        async with session.lock:
            if session.conn is not None and session.conn is not conn:
                # Discord drops the older connection of a resumed session.
                session.conn.dead = True
            session.conn = conn
            conn.session = session
            for event in session.log:
                if event["s"] > last:
                    await conn.send(event)
            self.resume_count += 1
            await self._dispatch_locked(session, "RESUMED", {"_trace": ["fake"]})

    async def _request_members(self, d: dict[str, Any]) -> None:
        guild = self.fake.guild
        query = (d.get("query") or "").lower()
        user_ids = {int(x) for x in (d.get("user_ids") or [])}
        members = []
        for member in guild.members.values():
            if user_ids and member.user.id not in user_ids:
                continue
            if not user_ids and query and not member.user.username.lower().startswith(query):
                continue
            members.append(member.payload())
        limit = int(d.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatching -----------------------------------------------------
    async def _dispatch_locked(
        self,
        session: GatewaySession,
        t: str,
        d: Any,
        on_send: Callable[[float], None] | None = None,
    ) -> int:
        session.seq += 1
        event = {"op": OP_DISPATCH, "t": t, "s": session.seq, "d": d}
        session.log.append(event)
        conn = session.conn
        if conn is not None:
            if on_send is not None:
                on_send(time.monotonic())
            if not await conn.send(event) and session.conn is conn:
                session.conn = None
        return session.seq

    async def dispatch(
        self, t: str, d: Any, *, on_send: Callable[[float], None] | None = None
    ) -> int:
        """Send a DISPATCH event with the next sequence number.

        If the bot is momentarily disconnected the event is kept and replayed on RESUME.
        ``on_send`` is called with the loop-clock time (``time.monotonic()``) just before
        the frame is written to a live connection (not when it is only kept for a replay).
        Returns the sequence number.
        """
        session = self.session
        if session is None:
            raise RuntimeError("no gateway session: the bot has not identified yet")
        self.dispatching += 1
        try:
            async with session.lock:
                seq = await self._dispatch_locked(session, t, d, on_send)
        finally:
            self.dispatching -= 1
        self.fake.notifier.notify()
        return seq

    def events(self, t: str) -> list[dict[str, Any]]:
        """The DISPATCH events of type ``t`` this session has delivered or will replay on
        RESUME, oldest first (each once, whatever the number of connections)."""
        session = self.session
        return [e for e in session.log if e["t"] == t] if session is not None else []

    async def _wait_reconnected(self, before: tuple[int, int], timeout: float) -> None:  # noqa: ASYNC109
        await self.fake.notifier.wait_until(
            lambda: (self.resume_count, self.identify_count) != before and self.connected,
            timeout,
            lambda: (
                f"bot did not reconnect (resumes={self.resume_count}, "
                f"identifies={self.identify_count})"
            ),
        )

    async def request_reconnect(self, *, wait: bool = True, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Send op 7 RECONNECT; with ``wait`` return once the bot resumed (or re-identified)."""
        session = self.session
        if session is None or session.conn is None:
            raise RuntimeError("bot is not connected")
        before = (self.resume_count, self.identify_count)
        await session.conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})
        if wait:
            await self._wait_reconnected(before, timeout)

    async def drop_connection(
        self,
        close_code: int | None = None,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Drop the bot's socket: abort TCP (``close_code=None``) or close with a code."""
        session = self.session
        if session is None or session.conn is None:
            raise RuntimeError("bot is not connected")
        conn = session.conn
        session.conn = None
        conn.dead = True
        before = (self.resume_count, self.identify_count)
        if close_code is None:
            if conn.transport is not None:
                conn.transport.abort()
        else:
            await conn.ws.close(code=close_code, message=b"fake: dropped")
        self.fake.notifier.notify()
        if wait:
            await self._wait_reconnected(before, timeout)

    async def invalidate_session(
        self,
        resumable: bool = False,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Send op 9 INVALID_SESSION; non-resumable forgets the session (bot re-identifies)."""
        session = self.session
        if session is None or session.conn is None:
            raise RuntimeError("bot is not connected")
        before = (self.resume_count, self.identify_count)
        conn = session.conn
        if not resumable:
            self.session = None
        await conn.send({"op": OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})
        if wait:
            await self._wait_reconnected(before, timeout)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                try:
                    await conn.ws.close(code=1001, message=b"fake shutting down")
                except (ConnectionError, RuntimeError, OSError):
                    pass
