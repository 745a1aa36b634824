"""Polite, bounded HTTP fetching: timeouts, size limit, bounded redirects, address guard."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from .errors import SourceError
from .netguard import AddressPolicy, GuardedResolver, guarded_url
from .settings import FetchSettings

log = logging.getLogger(__name__)


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    location: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """One aiohttp session with per-host politeness; use as an async context manager."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self.policy = AddressPolicy(settings.allow_private)
        self._session: aiohttp.ClientSession | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last: dict[str, float] = {}

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy), limit=8,
                                         ttl_dns_cache=60)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s,
                                        sock_connect=self.settings.connect_timeout_s,
                                        sock_read=self.settings.timeout_s)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout,
            headers={"User-Agent": self.settings.user_agent,
                     "Accept": "text/html,application/xhtml+xml,application/rss+xml,"
                               "application/atom+xml,application/xml;q=0.9,*/*;q=0.8"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _polite(self, host: str) -> asyncio.Lock:
        return self._host_locks.setdefault(host, asyncio.Lock())

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None) -> FetchResult:
        """GET url, following at most max_redirects redirects, each hop re-checked."""
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        # Every message starts with the URL asked for (and names the hop that failed after a
        # redirect), so that a caller can print it as the one line about this source.
        seen: set[str] = set()
        current = url
        for _ in range(self.settings.max_redirects + 1):
            where = url if current == url else f"{url} (redirected to {current})"
            parts = urlsplit(current)
            if parts.scheme not in {"http", "https"}:
                raise SourceError("bad_url", f"{where}: not an http(s) URL")
            if not parts.hostname:
                raise SourceError("bad_url", f"{where}: the URL has no host name")
            if current in seen:
                raise SourceError("redirect_loop", f"{url}: the redirects go round in a loop")
            seen.add(current)
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                # Refused, or rewritten to the canonical address, before aiohttp sees it.
                target = guarded_url(current, self.policy)
                result = await self._one(target, parts.hostname, headers)
            except SourceError as exc:
                raise SourceError(exc.reason, f"{where}: {exc}") from None
            if 300 <= result.status < 400 and result.status != 304:
                location = result.location
                if not location:
                    raise SourceError(f"http_{result.status}",
                                      f"{where}: a redirect (HTTP {result.status}) without a "
                                      "Location")
                current = urljoin(current, location)
                continue
            return result
        raise SourceError("too_many_redirects",
                          f"{url}: more than {self.settings.max_redirects} redirects")

    async def _one(self, url: str, host: str, headers: dict[str, str]) -> FetchResult:
        assert self._session is not None
        lock = await self._polite(host)
        async with lock:
            wait = self._host_last.get(host, 0.0) + self.settings.per_host_delay_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._request(url, headers)
            finally:
                self._host_last[host] = time.monotonic()

    async def _request(self, url: str, headers: dict[str, str]) -> FetchResult:
        assert self._session is not None
        limit = self.settings.max_bytes
        try:
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                if 300 <= resp.status < 400 and resp.status != 304:
                    return FetchResult(url, resp.status, b"", "", None, None,
                                       location=resp.headers.get("Location"))
                if resp.status >= 400:
                    raise SourceError(f"http_{resp.status}",
                                      f"HTTP {resp.status} {resp.reason or ''}".strip())
                declared = resp.content_length
                if declared is not None and declared > limit:
                    raise SourceError("too_large", f"{declared:,} bytes, over the limit of "
                                      f"{limit:,} (fetch.max_bytes)")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > limit:
                        raise SourceError("too_large", f"more than {limit:,} bytes, the limit "
                                          "(fetch.max_bytes)")
                    chunks.append(chunk)
                return FetchResult(
                    url=str(resp.url), status=resp.status, body=b"".join(chunks),
                    content_type=resp.headers.get("Content-Type", ""),
                    etag=resp.headers.get("ETag"), last_modified=resp.headers.get("Last-Modified"))
        except SourceError:
            raise
        except TimeoutError as exc:
            raise SourceError("timeout", f"timed out (fetch.timeout_s is "
                              f"{self.settings.timeout_s:g} s)") from exc
        except aiohttp.TooManyRedirects as exc:
            raise SourceError("too_many_redirects", "too many redirects") from exc
        except aiohttp.ClientConnectorError as exc:
            inner = exc.__cause__ or exc.os_error
            if isinstance(inner, SourceError):
                raise inner from None
            # asyncio words a refused connection "Connect call failed ('1.2.3.4', 80)".
            errno = getattr(exc.os_error, "errno", None)
            words = (os.strerror(errno).lower() if isinstance(errno, int) and errno > 0
                     else getattr(exc.os_error, "strerror", None) or str(exc.os_error))
            raise SourceError("connection", f"cannot connect: {words}") from exc
        except aiohttp.ClientError as exc:
            raise SourceError("connection", f"error while fetching: {exc}") from exc
