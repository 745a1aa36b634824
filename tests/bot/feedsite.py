"""A news site on 127.0.0.1 for the bot's feed tests: scripted RSS feeds and pages.

Feeds answer with an ETag and Last-Modified and honour If-None-Match with a 304, like a
well-behaved publisher; a path can also be made to fail with a status or to stall. Every
request is recorded with its headers. Nothing here talks to any other address.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0
    last_modified: str = field(default_factory=lambda: formatdate(usegmt=True))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        path = urlsplit(self.path).path
        site.record(path, dict(self.headers.items()))
        route = site.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        try:
            if route.delay_s:
                site.stopping.wait(route.delay_s)
            if route.status != 200:
                self.send_response(route.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", route.last_modified)
            self.end_headers()
            self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: FeedSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FeedSite:
    """Serves `routes` from a thread on 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.site = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self) -> FeedSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((path, headers))

    def hits(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for `path`, oldest first."""
        with self._lock:
            return [h for p, h in self.requests if p == path]

    def serve(self, path: str, body: str | bytes, content_type: str | None = None) -> str:
        """Serve a body at `path` (its ETag changes with it); returns the URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, last_modified=formatdate(time.time(), usegmt=True))
        if content_type:
            route.content_type = content_type
        self.routes[path] = route
        return self.url(path)

    def fail(self, path: str, status: int) -> str:
        self.routes[path] = Route(status=status)
        return self.url(path)


@dataclass
class Item:
    """One feed item carrying its full text (so no page is fetched)."""

    title: str
    link: str
    paragraphs: list[str]
    date: str = "Mon, 03 Nov 2025 10:00:00 GMT"
    guid: str | None = None


def rss(items: list[Item], *, title: str = "Docket Test Wire") -> str:
    parts = []
    for item in items:
        body = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
        parts.append(f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
                     f"<guid isPermaLink=\"false\">{escape(item.guid or item.link)}</guid>"
                     f"<pubDate>{item.date}</pubDate>"
                     f"<content:encoded><![CDATA[{body}]]></content:encoded></item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>{escape(title)}</title><link>https://wire.example.org/</link>"
            f"<description>Test feed</description>{''.join(parts)}</channel></rss>\n")
