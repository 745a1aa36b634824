"""``StampingRelay``: REST requests pass through a thread that notes when each one arrived.

The fake and the bot under test share one event loop, so whatever keeps that loop busy (the
bot's own work, the fake's handling of other requests, the test) delays the moment the
fake's handler runs. Discord's clock waits for nobody's loop: an interaction is acknowledged
when the callback request reaches Discord. So ``FakeDiscord`` points discord.py's REST base
at this relay, which reads requests in its own thread as they arrive, adds a
``X-Fakediscord-Received`` header to each request head (``time.monotonic()`` when the
request's first byte came in: the clock of asyncio's default event loop, ``loop.time()``)
and passes the bytes on to the fake's HTTP server unchanged otherwise. Responses are copied
back as they are.

The relay follows HTTP/1.1 message framing (``Content-Length``, chunked bodies, keep-alive,
several requests in one read) only far enough to find where each request head starts.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import socket
import threading
import time

log = logging.getLogger(__name__)

STAMP_HEADER = "X-Fakediscord-Received"
_READ = 256 * 1024
_BACKLOG_LIMIT = 4 * 1024 * 1024  # stop reading a side while this much waits for the other


class _RequestFramer:
    """Splits the client's byte stream into requests and stamps each request head."""

    def __init__(self) -> None:
        self._state = "head"  # head | body | chunk-size | chunk-data | trailer | raw
        self._head = bytearray()
        self._remaining = 0
        self._line = bytearray()
        self._started: float | None = None

    def feed(self, data: bytes, now: float, arrivals: list[tuple[float, str]]) -> bytes:
        out = bytearray()
        view = memoryview(data)
        while view:
            if self._state == "raw":
                out += view
                break
            if self._state == "head":
                if self._started is None:
                    self._started = now
                end = self._find_head_end(view)
                if end < 0:
                    self._head += view
                    break
                self._head += view[:end]
                view = view[end:]
                out += self._finish_head(arrivals)
            elif self._state in ("body", "chunk-data"):
                take = min(self._remaining, len(view))
                out += view[:take]
                view = view[take:]
                self._remaining -= take
                if self._remaining == 0:
                    self._state = "head" if self._state == "body" else "chunk-size"
            else:  # chunk-size or trailer: line by line
                nl = bytes(view).find(b"\n")
                if nl < 0:
                    self._line += view
                    out += view
                    break
                self._line += view[:nl + 1]
                out += view[:nl + 1]
                view = view[nl + 1:]
                line = bytes(self._line).strip()
                self._line.clear()
                if self._state == "chunk-size":
                    size = int(line.split(b";", 1)[0] or b"0", 16)
                    if size == 0:
                        self._state = "trailer"
                    else:
                        self._state, self._remaining = "chunk-data", size + 2  # data + CRLF
                elif not line:  # the empty line that ends the trailer
                    self._state = "head"
        return bytes(out)

    def _find_head_end(self, view: memoryview) -> int:
        """Offset in ``view`` just past the head's blank line, or -1 (the blank line may
        straddle reads, so the tail of what is buffered is searched too)."""
        tail = bytes(self._head[-3:])
        joined = tail + bytes(view)
        at = joined.find(b"\r\n\r\n")
        if at < 0:
            return -1
        return at + 4 - len(tail)

    def _finish_head(self, arrivals: list[tuple[float, str]]) -> bytes:
        head = bytes(self._head)
        self._head.clear()
        started = self._started if self._started is not None else time.monotonic()
        self._started = None
        request_line, _, rest = head.partition(b"\r\n")
        arrivals.append((started, request_line.decode("latin-1")))
        length = 0
        chunked = upgrade = False
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip() or b"0")
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"upgrade":
                upgrade = True
        if upgrade:
            self._state = "raw"
        elif chunked:
            self._state = "chunk-size"
        elif length:
            self._state, self._remaining = "body", length
        else:
            self._state = "head"
        stamp = f"{STAMP_HEADER}: {started:.9f}\r\n".encode("ascii")
        return request_line + b"\r\n" + stamp + rest


class _Pipe:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.framer = _RequestFramer()
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        self.client_eof = False
        self.upstream_eof = False
        self.watching: dict[str, int] = {}  # side -> the selector events it is registered for
        self.connecting = False  # the upstream connection is not made yet


class StampingRelay:
    """Listens on 127.0.0.1 (a random port) and relays to ``upstream_port`` on 127.0.0.1."""

    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._pipes: set[_Pipe] = set()
        self._stopping = False
        self._held = False
        self._thread: threading.Thread | None = None
        # (arrival time, request line) of every request, in arrival order.
        self.arrivals: list[tuple[float, str]] = []

    def start(self) -> int:
        listener = socket.create_server((self.host, 0), backlog=1024)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._selector.register(listener, selectors.EVENT_READ, None)
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name="fakediscord-relay", daemon=True)
        self._thread.start()
        return self.port

    def hold(self) -> None:
        """Keep reading and stamping requests, but pass nothing on until ``release``: the
        fake's handlers then run late, as when its loop is busy."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def stop(self) -> None:
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for pipe in list(self._pipes):
            self._close(pipe)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the relay thread -------------------------------------------------
    def _run(self) -> None:
        while not self._stopping:
            for key, mask in self._selector.select(timeout=1.0):
                if key.data is None:
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(64)
                    for pipe in list(self._pipes):  # released: pass on what was held
                        try:
                            self._flush(pipe)
                            if pipe in self._pipes:
                                self._update(pipe)
                        except OSError as exc:
                            log.debug("relay connection closed: %r", exc)
                            self._close(pipe)
                else:
                    pipe, side = key.data
                    try:
                        self._service(pipe, side, mask)
                    except OSError as exc:
                        log.debug("relay connection closed: %r", exc)
                        self._close(pipe)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            # Connect upstream without waiting: this thread must go on reading (and stamping)
            # requests even while the fake's server is slow to accept connections.
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            for sock in (client, upstream):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = upstream.connect_ex((self.host, self.upstream_port))
            if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                log.warning("relay could not reach the fake's server: %s", os.strerror(err))
                client.close()
                upstream.close()
                continue
            pipe = _Pipe(client, upstream)
            pipe.connecting = err != 0
            self._pipes.add(pipe)
            self._update(pipe)

    def _service(self, pipe: _Pipe, side: str, mask: int) -> None:
        sock = pipe.client if side == "client" else pipe.upstream
        if side == "upstream" and pipe.connecting:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            pipe.connecting = False
            mask &= ~selectors.EVENT_READ  # writable now; it is read from the next round on
        if mask & selectors.EVENT_READ:
            try:
                data = sock.recv(_READ)
            except (BlockingIOError, InterruptedError):
                data = None
            now = time.monotonic()
            if data == b"":
                if side == "client":
                    pipe.client_eof = True
                else:
                    pipe.upstream_eof = True
            elif data:
                if side == "client":
                    pipe.to_upstream += pipe.framer.feed(data, now, self.arrivals)
                else:
                    pipe.to_client += data
        self._flush(pipe)
        if pipe in self._pipes:
            self._update(pipe)

    def _flush(self, pipe: _Pipe) -> None:
        for sock, buffer in ((pipe.upstream, pipe.to_upstream), (pipe.client, pipe.to_client)):
            if sock is pipe.upstream and (self._held or pipe.connecting):
                continue
            while buffer:
                try:
                    sent = sock.send(buffer)
                except (BlockingIOError, InterruptedError):
                    break
                del buffer[:sent]
        # Either side gone: deliver what is pending to the other side, then close both.
        if (pipe.client_eof and not pipe.to_upstream) or (pipe.upstream_eof and not pipe.to_client):
            self._close(pipe)

    def _update(self, pipe: _Pipe) -> None:
        """Watch each socket for what it can do now: read (unless at EOF or while the other
        side has a backlog), write (while something waits for it), or nothing."""
        for sock, side, outgoing, incoming, eof in (
            (pipe.client, "client", pipe.to_client, pipe.to_upstream, pipe.client_eof),
            (pipe.upstream, "upstream", pipe.to_upstream, pipe.to_client, pipe.upstream_eof),
        ):
            events = 0
            if side == "upstream" and pipe.connecting:
                events = selectors.EVENT_WRITE  # writable: the connection is made (or failed)
            else:
                if not eof and len(incoming) < _BACKLOG_LIMIT:
                    events |= selectors.EVENT_READ
                if outgoing and not (self._held and side == "upstream"):
                    events |= selectors.EVENT_WRITE
            registered = pipe.watching.get(side, 0)
            if events == registered:
                continue
            if not events:
                self._selector.unregister(sock)
            elif not registered:
                self._selector.register(sock, events, (pipe, side))
            else:
                self._selector.modify(sock, events, (pipe, side))
            pipe.watching[side] = events

    def _close(self, pipe: _Pipe) -> None:
        if pipe not in self._pipes:
            return
        self._pipes.discard(pipe)
        for sock, side in ((pipe.client, "client"), (pipe.upstream, "upstream")):
            if pipe.watching.pop(side, 0):
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self._selector.unregister(sock)
            with contextlib.suppress(OSError):
                sock.close()
