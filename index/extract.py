"""Turn HTML pages, Markdown files and feed items into documents: text plus metadata.

trafilatura does the page extraction (main text without menus, ads, comments;
title, canonical URL, date, site name); feedparser reads feeds; python-frontmatter
reads Markdown front matter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import xml.sax
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
import frontmatter
import lxml.html
import trafilatura
from markdown_it import MarkdownIt

from .errors import SourceError
from .urls import canonical_url, outlet_from_url

log = logging.getLogger(__name__)

MIN_ARTICLE_WORDS = 40
LOCAL_OUTLET = "local document"  # the outlet of a note read from a file, with no URL of its own
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = ("p", "li", *_HEADINGS, "blockquote", "pre", "td", "dd")


@dataclass
class Document:
    """One article ready to be chunked: its canonical URL is its identity."""

    url: str
    title: str
    text: str
    outlet: str
    published: str | None  # ISO date, YYYY-MM-DD
    source: str  # where it came from: a path or a URL
    kind: str = "page"  # page, markdown, text, feed


@dataclass
class FeedItem:
    guid: str
    link: str
    title: str
    published: str | None
    html: str  # full content when the feed carries it, else the summary
    full_text: bool


@dataclass
class Feed:
    title: str
    link: str
    items: list[FeedItem] = field(default_factory=list)


def _tidy(text: str) -> str:
    """Paragraphs separated by one newline, spaces within collapsed."""
    paras = [" ".join(p.split()) for p in text.splitlines()]
    return "\n".join(p for p in paras if p)


def iso_date(value: Any) -> str | None:
    """Parse common date shapes into YYYY-MM-DD, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):  # time.struct_time from feedparser
        return dt.date(value[0], value[1], value[2]).isoformat()
    text = str(value).strip()
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            return None
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _damaged_utf8(raw: bytes) -> str | None:
    """raw decoded as UTF-8 with its invalid bytes replaced by U+FFFD, if it is UTF-8 text
    with a few bad bytes rather than text in a legacy encoding; else None.

    Without this, one stray byte in a UTF-8 page or feed sent the whole text to an encoding
    guesser (trafilatura's, feedparser's), which picked a single-byte code page and turned every
    accented letter and curly quote into mojibake ("cafÃ©", "CafĂŠ"). Browsers replace only
    the bad bytes. Text in a legacy encoding has (almost) no valid multi-byte sequences, so it
    is still left to the guessers.
    """
    if b"\x00" in raw[:4096]:  # UTF-16/32, or binary: not ours to repair
        return None
    text = raw.decode("utf-8", errors="replace")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    bad = text.count("\ufffd")
    return text if non_ascii - bad > bad else None


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    if b"\x00" in raw[:4096]:
        raise SourceError("binary", "binary content, not a text document")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    repaired = _damaged_utf8(raw)
    if repaired is not None:
        return repaired
    # trafilatura guesses encodings well; here we only need a str for metadata checks.
    return str(trafilatura.utils.decode_file(raw))


def extract_html(raw: bytes | str, *, source: str, url_hint: str | None = None) -> Document:
    """Main text and metadata of a news page."""
    html = _decode(raw)
    if "<" not in html[:2048]:
        raise SourceError("not_html", f"{source}: not an HTML page")
    doc = trafilatura.bare_extraction(
        html, url=url_hint, with_metadata=True, include_comments=False, include_tables=False,
        include_images=False, include_links=False, favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True})
    if doc is None or not getattr(doc, "text", None):
        raise SourceError("no_article", f"{source}: no article text found")
    meta: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    text = _tidy(str(meta.get("text") or ""))
    if len(text.split()) < MIN_ARTICLE_WORDS:
        raise SourceError("no_article", f"{source}: too little article text ({len(text.split())} words)")
    url = _canonical_from_html(html) or meta.get("url") or url_hint
    if not url:
        raise SourceError("no_url", f"{source}: no canonical URL")
    url = canonical_url(url)
    title = " ".join(str(meta.get("title") or "").split()) or url
    text = _strip_head(text, title)
    outlet = (_meta_content(html, "og:site_name") or str(meta.get("sitename") or "").strip()
              or outlet_from_url(url))
    published = _published_from_html(html) or iso_date(meta.get("date"))
    return Document(url=url, title=title, text=text, outlet=outlet, published=published,
                    source=source, kind="page")


def _strip_head(text: str, title: str) -> str:
    """Drop a repeated headline and a byline line from the top of the extracted text."""
    lines = text.split("\n")
    norm_title = " ".join(title.lower().split())
    while lines:
        first = " ".join(lines[0].lower().split())
        if first and (first == norm_title or (norm_title and norm_title.startswith(first))
                      or (first.startswith("by ") and len(first.split()) <= 8)):
            lines.pop(0)
            continue
        break
    return "\n".join(lines)


def _canonical_from_html(html: str) -> str | None:
    # trafilatura prefers og:url; a page's rel=canonical is the stronger claim.
    try:
        tree = lxml.html.fromstring(html[:200_000].encode("utf-8", "replace"))
    except (ValueError, lxml.etree.ParserError):
        return None
    for href in tree.xpath('//link[@rel="canonical"]/@href'):
        if str(href).startswith(("http://", "https://")):
            return str(href)
    for content in tree.xpath('//meta[@property="og:url"]/@content'):
        if str(content).startswith(("http://", "https://")):
            return str(content)
    return None


def _meta_content(html: str, prop: str) -> str | None:
    """A <meta property=...> value as the page wrote it (trafilatura re-cases site names)."""
    try:
        tree = lxml.html.fromstring(html[:200_000].encode("utf-8", "replace"))
    except (ValueError, lxml.etree.ParserError):
        return None
    for content in tree.xpath(f'//meta[@property="{prop}" or @name="{prop}"]/@content'):
        value = " ".join(str(content).split())
        if value:
            return value
    return None


def _published_from_html(html: str) -> str | None:
    match = re.search(
        r'<meta[^>]+(?:property|name)=["\'](?:article:published_time|datePublished|'
        r'pubdate|publish-date|date)["\'][^>]*content=["\']([^"\']+)', html[:200_000], re.I)
    return iso_date(match.group(1)) if match else None


_md = MarkdownIt("commonmark")


def extract_markdown(raw: bytes | str, *, source: str) -> Document:
    """A Markdown file: an article when its YAML front matter names its url, else a local note
    (see `_local_document`)."""
    return _local_document(raw, source=source, markdown=True)


def extract_text(raw: bytes | str, *, source: str) -> Document:
    """A plain-text file (optional front matter, paragraphs separated by blank lines), read
    like a Markdown file but with its text kept as written."""
    return _local_document(raw, source=source, markdown=False)


def local_url(source: str) -> str:
    """The stable identity of a local document: its absolute file:// URL."""
    return Path(source).absolute().as_uri()


def _markdown_blocks(markdown: str) -> list[tuple[str, str]]:
    """(tag, text) of each block of rendered Markdown, in order."""
    rendered = _md.render(markdown)
    if not rendered.strip():
        return []
    tree = lxml.html.fromstring(f"<div>{rendered}</div>")
    blocks = [(str(el.tag), " ".join(el.text_content().split())) for el in tree.iter(*_BLOCKS)]
    return [(tag, text) for tag, text in blocks if text]


def _text_paragraphs(text: str) -> list[str]:
    paras = (" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text))
    return [p for p in paras if p]


def _local_document(raw: bytes | str, *, source: str, markdown: bool) -> Document:
    """A Markdown or text file as a document.

    With a url (or canonical_url) in its front matter it is that article: at least
    MIN_ARTICLE_WORDS words, titled and dated by its front matter. Without one it is a
    local note, however short: its identity is its file:// URL, its title the front
    matter's, else its first heading (then not repeated in the text), else its file name;
    its date is the front matter's or none, never the file's time; its outlet "local
    document" unless the front matter names one.
    """
    text = _decode(raw)
    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # YAML errors come in several types
        # A YAML error is several lines (the problem, then where it is); the problem is enough.
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise SourceError("bad_front_matter",
                          f"{source}: unreadable front matter: {problem}") from exc
    meta = post.metadata
    url = str(meta.get("url") or meta.get("canonical_url") or "").strip()
    title = " ".join(str(meta.get("title") or "").split())
    if markdown:
        blocks = _markdown_blocks(post.content)
        if not title and blocks and blocks[0][0] in _HEADINGS:
            title = blocks.pop(0)[1]
        elif not title:  # a top-level heading after a preamble still names the note
            title = next((b for tag, b in blocks if tag == "h1"), "")
        paragraphs = [b for _, b in blocks]
    else:
        paragraphs = _text_paragraphs(post.content)
    body = _tidy("\n".join(paragraphs))
    kind = "markdown" if markdown else "text"
    published = iso_date(meta.get("published") or meta.get("date"))
    named_outlet = str(meta.get("source") or meta.get("outlet") or "").strip()
    if not url:
        if not body:
            raise SourceError("no_text", f"{source}: no text to index")
        return Document(url=local_url(source), title=title or Path(source).stem, text=body,
                        outlet=named_outlet or LOCAL_OUTLET, published=published, source=source,
                        kind=kind)
    if len(body.split()) < MIN_ARTICLE_WORDS:
        raise SourceError("no_article", f"{source}: too little article text")
    url = canonical_url(url)
    return Document(url=url, title=title or url, text=body,
                    outlet=named_outlet or outlet_from_url(url), published=published,
                    source=source, kind=kind)


def html_fragment_text(fragment: str) -> str:
    """Text of a feed item's HTML content, one block per line."""
    if not fragment.strip():
        return ""
    try:
        tree = lxml.html.fromstring(f"<div>{fragment}</div>")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in tree.xpath("//script|//style|//iframe|//noscript"):
        bad.drop_tree()
    blocks = [" ".join(el.text_content().split()) for el in tree.iter(*_BLOCKS)]
    text = "\n".join(b for b in blocks if b)
    return _tidy(text or tree.text_content())


def parse_feed(raw: bytes, *, source: str, max_items: int = 500) -> Feed:
    """Items of an RSS 2.0 or Atom feed; SourceError('not_a_feed') for anything else."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        repaired = _damaged_utf8(raw)
        if repaired is not None:  # see _damaged_utf8: feedparser would guess a code page
            raw = repaired.encode("utf-8")
    parsed = feedparser.parse(raw)
    version = getattr(parsed, "version", "")
    if not version and not parsed.entries:
        problem = getattr(parsed, "bozo_exception", None)
        raise SourceError("not_a_feed", f"{source}: not an RSS or Atom feed"
                          + (f" ({problem})" if problem else ""))
    broken = isinstance(getattr(parsed, "bozo_exception", None), xml.sax.SAXParseException)
    usable = [e for e in parsed.entries if e.get("link") and (e.get("content") or e.get("summary"))]
    if (parsed.bozo and not parsed.entries) or (broken and not usable):
        raise SourceError("malformed_feed", f"{source}: malformed feed ({parsed.bozo_exception})")
    if broken:
        log.warning("%s: malformed feed, %d usable items recovered (%s)", source, len(usable),
                    parsed.bozo_exception)
    feed = Feed(title=str(parsed.feed.get("title", "")), link=str(parsed.feed.get("link", "")))
    if len(parsed.entries) > max_items:
        log.info("%s: %d items, keeping the first %d", source, len(parsed.entries), max_items)
    for entry in parsed.entries[:max_items]:
        link = str(entry.get("link") or "")
        content = ""
        full = False
        if entry.get("content"):
            content = str(entry.content[0].get("value", ""))
            full = len(html_fragment_text(content).split()) >= MIN_ARTICLE_WORDS
        if not content:
            content = str(entry.get("summary", ""))
        published = (iso_date(entry.get("published_parsed")) or iso_date(entry.get("updated_parsed"))
                     or iso_date(entry.get("published")))
        feed.items.append(FeedItem(guid=str(entry.get("id") or link), link=link,
                                   title=" ".join(str(entry.get("title", "")).split()),
                                   published=published, html=content, full_text=full))
    return feed


def looks_like_feed(raw: bytes) -> bool:
    head = raw[:1024].lstrip().lower()
    return (head.startswith(b"<?xml") and (b"<rss" in raw[:4096].lower() or b"<feed" in raw[:4096].lower())) \
        or head.startswith((b"<rss", b"<feed"))


def mentions_keyword(title: str, text: str, keywords: Sequence[str]) -> bool:
    """Whether a feed item's title or text contains one of `keywords` (lower-cased)."""
    haystack = f"{title} {text}".lower()
    return any(k in haystack for k in keywords)


def feed_item_document(item: FeedItem, feed: Feed, *, source: str) -> Document:
    """A document from a feed item that carries its full text."""
    text = html_fragment_text(item.html)
    if len(text.split()) < MIN_ARTICLE_WORDS:
        raise SourceError("summary_only", f"{item.link or source}: item has only a summary")
    if not item.link:
        raise SourceError("no_url", f"{source}: item without a link")
    url = canonical_url(item.link)
    return Document(url=url, title=item.title or url, text=text,
                    outlet=feed.title or outlet_from_url(url), published=item.published,
                    source=source, kind="feed")
