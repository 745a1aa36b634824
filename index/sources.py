"""Resolve ingest sources (paths, URLs, config, the bundled sample) into documents."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import SourceError
from .extract import (
    Document,
    extract_html,
    extract_markdown,
    feed_item_document,
    looks_like_feed,
    parse_feed,
)
from .fetch import Fetcher
from .settings import Settings
from .urls import canonical_url

log = logging.getLogger(__name__)

MARKDOWN = {".md", ".markdown"}
HTML = {".html", ".htm", ".xhtml"}
FEEDS = {".xml", ".rss", ".atom"}
# A page beats a Markdown copy, which beats a feed item's copy of the same URL, so
# that one article reached through several sources keeps one stable text.
PRIORITY = {"page": 3, "markdown": 2, "feed": 1}


def sample_dir() -> Path:
    """The bundled sample corpus inside the installed package."""
    return Path(str(resources.files("index") / "sample" / "articles"))


@dataclass
class Failure:
    source: str
    reason: str
    message: str


@dataclass
class Collected:
    documents: dict[str, Document] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # locator -> (raw hash, urls): what each source produced, to skip it next time.
    source_hashes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    unchanged_sources: int = 0
    seen_urls: set[str] = field(default_factory=set)
    skipped_items: int = 0

    def add(self, doc: Document) -> None:
        self.seen_urls.add(doc.url)
        old = self.documents.get(doc.url)
        if old is None or PRIORITY[doc.kind] > PRIORITY[old.kind]:
            self.documents[doc.url] = doc

    def fail(self, source: str, reason: str, message: str) -> None:
        log.warning("%s: %s", reason, message)
        self.failures.append(Failure(source, reason, message))


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def expand_paths(sources: Iterable[str], collected: Collected) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    urls: list[str] = []
    for source in sources:
        if is_url(source):
            urls.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files.append(path)
        else:
            collected.fail(source, "missing", f"{source}: no such file or directory")
    return files, urls


def _documents_from_bytes(raw: bytes, *, source: str, suffix: str,
                          url_hint: str | None, collected: Collected,
                          max_items: int) -> tuple[list[Document], list[str]]:
    """Documents in one file or response body, plus links of summary-only feed items."""
    if b"\x00" in raw[:8192]:
        raise SourceError("binary", f"{source}: binary data, not text")
    if suffix in MARKDOWN:
        return [extract_markdown(raw, source=source)], []
    if suffix in FEEDS or looks_like_feed(raw):
        # fetch.max_items_per_feed bounds the work a feed can ask for (a feed of 10,000 items
        # would otherwise give parse_feed's default of 500 articles or page fetches).
        feed = parse_feed(raw, source=source, max_items=max_items)
        docs: list[Document] = []
        links: list[str] = []
        for item in feed.items:
            if item.full_text:
                try:
                    docs.append(feed_item_document(item, feed, source=source))
                except SourceError as exc:
                    collected.fail(source, exc.reason, str(exc))
            elif item.link:
                links.append(item.link)
        return docs, links
    if suffix in HTML or b"<html" in raw[:4096].lower() or b"<!doctype" in raw[:4096].lower():
        return [extract_html(raw, source=source, url_hint=url_hint)], []
    raise SourceError("unsupported", f"{source}: not HTML, Markdown or a feed")


async def collect(sources: Iterable[str], settings: Settings,
                  known_sources: dict[str, tuple[str, list[str]]],
                  known_urls: set[str]) -> Collected:
    """Read every source; failures are recorded and the rest goes on."""
    collected = Collected()
    files, urls = expand_paths(sources, collected)
    pending_links: list[tuple[str, str]] = []
    for path in files:
        locator = str(path.resolve())
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
            if size > settings.fetch.max_file_bytes:
                collected.fail(locator, "too_large", f"{path} is {size} bytes "
                               f"(limit {settings.fetch.max_file_bytes}: fetch.max_file_bytes)")
                continue
            raw = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            collected.fail(locator, "unreadable", f"{path}: {exc.strerror or exc}")
            continue
        read = await _read_source(raw, locator, collected, known_sources, suffix=path.suffix.lower(),
                                  url_hint=None, max_items=settings.fetch.max_items_per_feed)
        if read is None:
            continue
        docs, links = read
        for doc in docs:
            collected.add(doc)
        for link in links:
            # A local feed's summary-only item counts when its page is (or will be) indexed.
            collected.skipped_items += 1
            collected.seen_urls.add(canonical_url(link))
    if urls:
        async with Fetcher(settings.fetch) as fetcher:
            for url in urls:
                await _collect_url(fetcher, url, collected, known_sources, pending_links)
            for feed_url, link in pending_links:
                if canonical_url(link) in collected.documents or canonical_url(link) in known_urls:
                    collected.seen_urls.add(canonical_url(link))
                    continue
                await _collect_url(fetcher, link, collected, known_sources, [], page_only=True,
                                   via=feed_url)
    return collected


async def _collect_url(fetcher: Fetcher, url: str, collected: Collected,
                       known_sources: dict[str, tuple[str, list[str]]],
                       pending_links: list[tuple[str, str]], *, page_only: bool = False,
                       via: str | None = None) -> None:
    try:
        result = await fetcher.get(url)
    except SourceError as exc:
        collected.fail(url, exc.reason, str(exc))
        return
    read = await _read_source(result.body, url, collected, known_sources,
                              suffix=".html" if page_only else "", url_hint=result.url,
                              max_items=fetcher.settings.max_items_per_feed,
                              note=f" (linked from {via})" if via else "")
    if read is None:
        return
    docs, links = read
    for doc in docs:
        collected.add(doc)
    pending_links.extend((url, link) for link in links)


async def _read_source(raw: bytes, locator: str, collected: Collected,
                       known_sources: dict[str, tuple[str, list[str]]], *, suffix: str,
                       url_hint: str | None, max_items: int,
                       note: str = "") -> tuple[list[Document], list[str]] | None:
    """The documents and summary-only links in one source's bytes; None when the source
    is unchanged since the last run or could not be read (recorded in `collected`)."""
    digest = hashlib.sha256(raw).hexdigest()
    known = known_sources.get(locator)
    if known and known[0] == digest:
        collected.unchanged_sources += 1
        collected.seen_urls.update(known[1])
        collected.source_hashes[locator] = known
        return None
    try:
        docs, links = await asyncio.to_thread(
            _documents_from_bytes, raw, source=locator, suffix=suffix, url_hint=url_hint,
            collected=collected, max_items=max_items)
    except SourceError as exc:
        collected.fail(locator, exc.reason, str(exc) + note)
        return None
    except Exception as exc:  # a parser bug must not sink the run
        log.exception("unexpected error reading %s", locator)
        collected.fail(locator, "error", f"{locator}: {type(exc).__name__}: {exc}")
        return None
    collected.source_hashes[locator] = (digest, [d.url for d in docs])
    return docs, links
