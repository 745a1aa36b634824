"""Resolve ingest sources (paths, URLs, config, the bundled sample) into documents."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import SourceError
from .extract import (
    Document,
    extract_html,
    extract_markdown,
    extract_text,
    feed_item_document,
    html_fragment_text,
    looks_like_feed,
    mentions_keyword,
    parse_feed,
)
from .fetch import Fetcher
from .settings import Settings
from .urls import canonical_url

log = logging.getLogger(__name__)

MARKDOWN = {".md", ".markdown"}
TEXT = {".txt", ".text"}
HTML = {".html", ".htm", ".xhtml"}
FEEDS = {".xml", ".rss", ".atom"}
# A page beats a Markdown copy, which beats a feed item's copy of the same URL, so
# that one article reached through several sources keeps one stable text.
PRIORITY = {"page": 3, "markdown": 2, "text": 2, "feed": 1}

# Why feed items were left out, in words, for the summary line (see IngestSummary.line).
SKIPPED_WORDS = {
    "summary_only": ("{n} feed items have only a summary; their pages are fetched only when "
                     "the feed is a URL",
                     "1 feed item has only a summary; its page is fetched only when the feed "
                     "is a URL"),
    "no_link": ("{n} feed items have only a summary and no link",
                "1 feed item has only a summary and no link"),
    "keywords": ("{n} feed items mention none of their feed's keywords",
                 "1 feed item mentions none of its feed's keywords"),
}


def skipped_words(reason: str, count: int) -> str:
    many, one = SKIPPED_WORDS.get(reason, ("{n} items skipped (" + reason + ")",
                                           "1 item skipped (" + reason + ")"))
    return one if count == 1 else many.format(n=count)


def sample_dir() -> Path:
    """The bundled sample corpus inside the installed package."""
    return Path(str(resources.files("index") / "sample" / "articles"))


@dataclass
class Failure:
    source: str  # the locator: a resolved path or a URL
    reason: str  # a short code (missing, http_404, ...)
    message: str  # one line in words that names the source (as the user gave it) once


@dataclass
class UrlRead:
    """What one URL given as a source (not a page linked from a feed) came to: the feed
    poller's health record is written from this when the URL is a known feed."""

    url: str
    status: str  # ok, unchanged, or the failure's reason
    message: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    title: str | None = None
    article_urls: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in {"ok", "unchanged"}


@dataclass
class Collected:
    documents: dict[str, Document] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # locator -> (raw hash, urls): what each source produced, to skip it next time.
    source_hashes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    unchanged_sources: int = 0
    read_sources: int = 0  # files and responses read (or unchanged since the last run)
    seen_urls: set[str] = field(default_factory=set)
    # Feed items left out, by reason (see SKIPPED_WORDS).
    skipped: Counter[str] = field(default_factory=Counter)
    # Links of summary-only items in local feed files: skipped unless their page is indexed.
    summary_links: set[str] = field(default_factory=set)
    urls: dict[str, UrlRead] = field(default_factory=dict)

    @property
    def skipped_items(self) -> int:
        return sum(self.skipped.values())

    def add(self, doc: Document) -> None:
        self.seen_urls.add(doc.url)
        old = self.documents.get(doc.url)
        if old is None or PRIORITY[doc.kind] > PRIORITY[old.kind]:
            self.documents[doc.url] = doc

    def fail(self, source: str, reason: str, message: str) -> None:
        # Reported once, by whoever shows the summary (the CLI prints one line a failure).
        log.info("%s: %s", reason, message)
        self.failures.append(Failure(source, reason, message))


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def expand_paths(sources: Iterable[str],
                 collected: Collected) -> tuple[list[tuple[Path, str]], list[str]]:
    """The files (each with its name as the user gave it) and URLs the sources name."""
    files: list[tuple[Path, str]] = []
    urls: list[str] = []
    for source in sources:
        if is_url(source):
            urls.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            files.extend((p, str(p)) for p in sorted(path.rglob("*"))
                         if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files.append((path, source))
        elif "://" in source:
            collected.fail(source, "bad_url", f"{source}: only http:// and https:// URLs can be "
                           "fetched")
        else:
            collected.fail(source, "missing", f"{source}: no such file or directory")
    return files, urls


@dataclass
class _Read:
    """The documents in one file or response body, the links of its summary-only feed items,
    and the feed's title when it is a feed."""

    docs: list[Document]
    links: list[str] = field(default_factory=list)
    feed_title: str | None = None


def _documents_from_bytes(raw: bytes, *, source: str, suffix: str,
                          url_hint: str | None, collected: Collected,
                          max_items: int, keywords: Sequence[str] = ()) -> _Read:
    if b"\x00" in raw[:8192]:
        raise SourceError("binary", f"{source}: binary data, not text")
    if suffix in MARKDOWN:
        return _Read([extract_markdown(raw, source=source)])
    if suffix in TEXT:
        return _Read([extract_text(raw, source=source)])
    if suffix in FEEDS or looks_like_feed(raw):
        # fetch.max_items_per_feed bounds the work a feed can ask for (a feed of 10,000 items
        # would otherwise give parse_feed's default of 500 articles or page fetches).
        feed = parse_feed(raw, source=source, max_items=max_items)
        read = _Read([], feed_title=feed.title or None)
        wanted = [k.lower() for k in keywords]
        for item in feed.items:
            if wanted and not mentions_keyword(item.title, html_fragment_text(item.html), wanted):
                collected.skipped["keywords"] += 1
            elif item.full_text:
                try:
                    read.docs.append(feed_item_document(item, feed, source=source))
                except SourceError as exc:
                    collected.fail(source, exc.reason, str(exc))
            elif item.link:
                read.links.append(item.link)
            else:
                collected.skipped["no_link"] += 1
        return read
    if suffix in HTML or b"<html" in raw[:4096].lower() or b"<!doctype" in raw[:4096].lower():
        return _Read([extract_html(raw, source=source, url_hint=url_hint)])
    raise SourceError("unsupported", f"{source}: not HTML, Markdown, plain text or a feed")


async def collect(sources: Iterable[str], settings: Settings,
                  known_sources: dict[str, tuple[str, list[str]]],
                  known_urls: set[str], *,
                  keywords: Mapping[str, Sequence[str]] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Collected:
    """Read every source; failures are recorded and the rest goes on.

    `keywords` maps feed URLs to the words their items must mention (feeds.toml's
    `keywords`); items that mention none are left out. `progress(done, total)` is told
    as each file and URL is read (pages linked from feeds add to the total when found).
    """
    collected = Collected()
    files, urls = expand_paths(sources, collected)
    pending_links: list[tuple[str, str]] = []
    done, total = 0, len(files) + len(urls)

    def advance() -> None:  # a file or URL is being read
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    for path, label in files:
        advance()
        locator = str(path.resolve())
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
            if size > settings.fetch.max_file_bytes:
                collected.fail(locator, "too_large", f"{label}: {size:,} bytes, over the limit "
                               f"of {settings.fetch.max_file_bytes:,} (fetch.max_file_bytes)")
                continue
            raw = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            collected.fail(locator, "unreadable", f"{label}: {_os_words(exc)}")
            continue
        read = await _read_source(raw, locator, collected, known_sources, suffix=path.suffix.lower(),
                                  url_hint=None, max_items=settings.fetch.max_items_per_feed,
                                  label=label)
        if read is None:
            continue
        for doc in read.docs:
            collected.add(doc)
        for link in read.links:
            # A local feed's summary-only item counts when its page is (or will be) indexed.
            collected.summary_links.add(canonical_url(link))
            collected.seen_urls.add(canonical_url(link))
        if not read.docs and read.links:
            # Read again next time, so that the next run says again what it left out.
            collected.source_hashes.pop(locator, None)
    if urls:
        async with Fetcher(settings.fetch) as fetcher:
            for url in urls:
                advance()
                await _collect_url(fetcher, url, collected, known_sources, pending_links,
                                   keywords=(keywords or {}).get(url, ()))
            total += len(pending_links)
            for feed_url, link in pending_links:
                advance()
                if canonical_url(link) in collected.documents or canonical_url(link) in known_urls:
                    collected.seen_urls.add(canonical_url(link))
                    continue
                before = set(collected.documents)
                await _collect_url(fetcher, link, collected, known_sources, [], page_only=True,
                                   via=feed_url)
                if feed_url in collected.urls:
                    collected.urls[feed_url].article_urls.extend(
                        u for u in collected.documents if u not in before)
    collected.skipped["summary_only"] += len(collected.summary_links - set(collected.documents)
                                             - known_urls)
    collected.skipped = +collected.skipped  # drop zero counts
    return collected


def _os_words(exc: OSError) -> str:
    """An OSError in words, without the path it repeats ("permission denied")."""
    return exc.strerror.lower() if exc.strerror else str(exc)


async def _collect_url(fetcher: Fetcher, url: str, collected: Collected,
                       known_sources: dict[str, tuple[str, list[str]]],
                       pending_links: list[tuple[str, str]], *, page_only: bool = False,
                       via: str | None = None, keywords: Sequence[str] = ()) -> None:
    try:
        result = await fetcher.get(url)
    except SourceError as exc:
        message = str(exc) + (f" (linked from {via})" if via else "")
        collected.fail(url, exc.reason, message)
        if not page_only:
            collected.urls[url] = UrlRead(url, exc.reason, message)
        return
    failures = len(collected.failures)
    read = await _read_source(result.body, url, collected, known_sources,
                              suffix=".html" if page_only else "", url_hint=result.url,
                              max_items=fetcher.settings.max_items_per_feed,
                              note=f" (linked from {via})" if via else "", keywords=keywords)
    if not page_only:
        outcome = UrlRead(url, "ok", etag=result.etag, last_modified=result.last_modified,
                          body_hash=hashlib.sha256(result.body).hexdigest())
        if read is None:
            failed = [f for f in collected.failures[failures:] if f.source == url]
            if failed:
                outcome.status, outcome.message = failed[-1].reason, failed[-1].message
            else:
                outcome.status = "unchanged"
        else:
            outcome.title = read.feed_title
            outcome.article_urls = [d.url for d in read.docs]
        collected.urls[url] = outcome
    if read is None:
        return
    for doc in read.docs:
        collected.add(doc)
    pending_links.extend((url, link) for link in read.links)


async def _read_source(raw: bytes, locator: str, collected: Collected,
                       known_sources: dict[str, tuple[str, list[str]]], *, suffix: str,
                       url_hint: str | None, max_items: int, note: str = "",
                       label: str | None = None, keywords: Sequence[str] = ()) -> _Read | None:
    """The documents and summary-only links in one source's bytes; None when the source
    is unchanged since the last run or could not be read (recorded in `collected`)."""
    digest = hashlib.sha256(raw).hexdigest()
    known = known_sources.get(locator)
    if known and known[0] == digest:
        collected.unchanged_sources += 1
        collected.read_sources += 1
        collected.seen_urls.update(known[1])
        collected.source_hashes[locator] = known
        return None
    try:
        read = await asyncio.to_thread(
            _documents_from_bytes, raw, source=locator, suffix=suffix, url_hint=url_hint,
            collected=collected, max_items=max_items, keywords=keywords)
    except SourceError as exc:
        message = str(exc)
        if label and label != locator and message.startswith(locator):
            message = label + message[len(locator):]  # the path as the user gave it
        collected.fail(locator, exc.reason, message + note)
        return None
    except Exception as exc:  # a parser bug must not sink the run
        log.exception("unexpected error reading %s", locator)
        collected.fail(locator, "error", f"{label or locator}: {type(exc).__name__}: {exc}")
        return None
    collected.read_sources += 1
    collected.source_hashes[locator] = (digest, [d.url for d in read.docs])
    return read
