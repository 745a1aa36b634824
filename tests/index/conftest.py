"""Local helpers for the index tests.

- `settings_for` / `net_settings`: settings for a data directory (the second allows
  fetching from 127.0.0.1 only, with no politeness delay and short timeouts);
- `index`: the sample index, opened once per test module;
- `http_server`: a real HTTP server on 127.0.0.1 that counts the requests it gets and
  can answer slowly, with errors, redirects or an endless body;
- `Live`: read-only views of a data directory's published snapshot;
- `small_base`: a data directory holding three sample articles, to copy and extend;
- `run_cli`: `python -m index` in a subprocess, isolated from the developer's setup;
- writers for Markdown, HTML, RSS and Atom sources.
- `cross_encoder_dir` / `reranker`: a small cross-encoder built from the bundled weights.

Every network test talks to 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
import pytest_asyncio

from index import snapshot, vectors
from index.embed import Encoder
from index.ingest import ingest
from index.rerank import Reranker, load_reranker
from index.service import DocketIndex
from index.settings import RerankSettings, Settings, load_settings
from index.sources import sample_dir

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sample_dir()

# The three sample articles every small corpus starts from (two HTML pages, one Markdown file).
BASE_FILES = ("japan-asks-openai-sora2.html", "getty-images-stability-ai-uk-high-court-ruling.html",
              "bartz-anthropic-fair-use-ruling.md")


# --------------------------------------------------------------------------- settings

def make_settings(data_dir: Path, **changes: Any) -> Settings:
    """The repository's documented defaults for data_dir (the same as tests/conftest.py)."""
    settings = load_settings(config=REPO / "config" / "settings.toml", data_dir=data_dir,
                             environ={})
    return settings.replace(**changes) if changes else settings


def make_net_settings(data_dir: Path, **fetch: Any) -> Settings:
    """Settings that may fetch from 127.0.0.1 (and only there), fast and with short timeouts."""
    base = make_settings(data_dir)
    options: dict[str, Any] = {"allow_private": ("127.0.0.1",), "per_host_delay_s": 0.0,
                               "timeout_s": 5.0, "connect_timeout_s": 2.0}
    options.update(fetch)
    return base.replace(fetch=dataclasses.replace(base.fetch, **options))


@pytest.fixture(scope="session")
def settings_for() -> Callable[..., Settings]:
    return make_settings


@pytest.fixture(scope="session")
def net_settings() -> Callable[..., Settings]:
    return make_net_settings


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def index(sample_index: Path, encoder: Encoder,
                settings_for: Callable[..., Settings]) -> AsyncIterator[DocketIndex]:
    """The sample index opened once per test module (a module may define its own)."""
    opened = await DocketIndex(settings_for(sample_index), encoder).open()
    yield opened
    await opened.close()


# --------------------------------------------------------------------------- snapshot readers

class Live:
    """Read-only views of the snapshot a data directory currently publishes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @property
    def name(self) -> str | None:
        return snapshot.current_name(self.data_dir)

    @property
    def path(self) -> Path:
        return snapshot.current_path(self.data_dir)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        uri = f"file:{self.path / snapshot.DB_FILE}?mode=ro&immutable=1"
        con = sqlite3.connect(uri, uri=True)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def articles(self) -> dict[str, sqlite3.Row]:
        return {r["url"]: r for r in self.query("SELECT * FROM articles")}

    def article(self, url: str) -> sqlite3.Row:
        rows = self.query("SELECT * FROM articles WHERE url = ?", (url,))
        assert rows, f"{url} is not in the live snapshot"
        return rows[0]

    def text_of(self, article_id: int) -> str:
        return str(self.query("SELECT text FROM articles WHERE id = ?", (article_id,))[0][0])

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def passage_ids(self) -> list[int]:
        return [int(r[0]) for r in self.query("SELECT id FROM passages ORDER BY id")]

    def flat(self) -> Any:
        return vectors.load(self.path / vectors.FLAT_FILE)

    def manifest(self) -> dict[str, Any]:
        return dict(json.loads((self.path / snapshot.MANIFEST).read_text(encoding="utf-8")))

    def snapshot_names(self) -> list[str]:
        root = snapshot.snapshots_dir(self.data_dir)
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


@pytest.fixture(scope="session")
def live() -> Callable[[Path], Live]:
    return Live


# --------------------------------------------------------------------------- source writers

def write_markdown(path: Path, *, title: str, url: str, body: str, published: str | None = "2025-03-01",
                   outlet: str | None = "Test Gazette") -> Path:
    lines = ["---", f"title: {json.dumps(title)}", f"url: {url}"]
    if published:
        lines.append(f"published: {published}")
    if outlet:
        lines.append(f"source: {json.dumps(outlet)}")
    # One Markdown paragraph per line of body.
    lines += ["---", "", "\n\n".join(body.split("\n")), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def html_page(*, title: str, paragraphs: list[str], canonical: str | None = None,
              og_url: str | None = None, published: str | None = "2025-03-01T09:00:00Z",
              site_name: str | None = "Test Gazette") -> str:
    head = [f"<title>{escape(title)} | {escape(site_name or 'Site')}</title>",
            f'<meta property="og:title" content="{escape(title)}">']
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    if og_url:
        head.append(f'<meta property="og:url" content="{escape(og_url)}">')
    if site_name:
        head.append(f'<meta property="og:site_name" content="{escape(site_name)}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published}">')
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n" + "\n".join(head)
            + "\n</head><body>\n<nav><a href=\"/\">Home</a> <a href=\"/news\">News</a></nav>\n"
            f"<main><article><h1>{escape(title)}</h1>\n{body}\n</article></main>\n"
            "<footer><p>Copyright Test Gazette.</p></footer>\n</body></html>\n")


def rss_feed(items: list[dict[str, str]], *, title: str = "Test Wire", full_text: bool = True) -> str:
    """RSS 2.0; each item: title, link, date (RFC 822), body (paragraphs joined by newlines)."""
    parts = []
    for item in items:
        paras = "".join(f"<p>{escape(p)}</p>" for p in item["body"].split("\n"))
        content = (f"<content:encoded><![CDATA[{paras}]]></content:encoded>" if full_text
                   else f"<description>{escape(item['body'].split('.')[0])}.</description>")
        parts.append(f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
                     f"<guid>{escape(item['link'])}</guid><pubDate>{item['date']}</pubDate>{content}</item>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{escape(title)}</title><link>https://wire.example.org/</link>"
            f"<description>Test feed</description>{''.join(parts)}</channel></rss>\n")


def atom_feed(items: list[dict[str, str]], *, title: str = "Test Atom") -> str:
    """Atom 1.0 with full <content type="html">; each item: title, link, date (ISO), body."""
    parts = []
    for item in items:
        paras = "".join(f"<p>{escape(p)}</p>" for p in item["body"].split("\n"))
        parts.append(f"<entry><title>{escape(item['title'])}</title><link href=\"{escape(item['link'])}\"/>"
                     f"<id>{escape(item['link'])}</id><updated>{item['date']}</updated>"
                     f"<published>{item['date']}</published>"
                     f"<content type=\"html\">{escape(paras)}</content></entry>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><id>urn:test:atom</id><updated>2025-01-01T00:00:00Z</updated>"
            f"{''.join(parts)}</feed>\n")


def invented_body(topic: str, n: int = 8) -> str:
    """An article body of n sentences about an invented topic (so it matches nothing else)."""
    templates = [
        "The {t} dispute reached a federal courtroom on a grey Tuesday morning.",
        "Lawyers for the {t} plaintiffs argued that the training copies were never licensed.",
        "A spokesperson for the defendant said the {t} case misunderstood how the models learn.",
        "The judge asked both sides to file further briefs about the {t} evidence within thirty days.",
        "Observers said the {t} ruling could shape how other courts treat machine learning.",
        "Several trade groups filed statements supporting the {t} claimants last month.",
        "The {t} complaint lists more than four hundred works said to have been copied.",
        "Neither side would say whether settlement talks over {t} had begun.",
        "An appeal in the {t} matter is widely expected whatever the outcome.",
        "Court records show the {t} hearing lasted a little over three hours.",
    ]
    return "\n".join(templates[i % len(templates)].format(t=topic) for i in range(n))


@pytest.fixture(scope="session")
def writers() -> SimpleNamespace:
    """The source writers, for test modules (a conftest module cannot be imported by name)."""
    return SimpleNamespace(markdown=write_markdown, html=html_page, rss=rss_feed, atom=atom_feed,
                           body=invented_body)


# --------------------------------------------------------------------------- small base index

@pytest.fixture(scope="session")
def small_base(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """A data directory with three sample articles ingested from their own directory (read-only).

    Returns the data directory; the source files are in its sibling `sources/`.
    """
    root = tmp_path_factory.mktemp("small-base")
    sources = root / "sources"
    sources.mkdir()
    for name in BASE_FILES:
        shutil.copy(SAMPLE / name, sources / name)
    data_dir = root / "data"
    summary = asyncio.run(ingest([str(sources)], make_settings(data_dir), encoder))
    assert summary.failed == 0 and summary.new == len(BASE_FILES), summary.failures
    return data_dir


@pytest.fixture
def base_copy(small_base: Path, tmp_path: Path) -> Path:
    """A private, writable copy of small_base (data directory); its sources sit beside it."""
    target = tmp_path / "base"
    shutil.copytree(small_base.parent, target)
    return target / "data"


# --------------------------------------------------------------------------- HTTP server

class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        owner.record(path, self.headers.get("Host", ""))
        route = owner.routes.get(path)
        if route is None:
            self.send_error(404, "not here")
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: that is the point
            pass

    def log_message(self, *args: Any) -> None:
        pass


def _respond(h: _Handler, status: int, content_type: str, body: bytes) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # aborted connections are expected in these tests


class LocalServer:
    """A real HTTP/1.0 server on 127.0.0.1 with scripted routes and a request counter."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[_Handler], None]] = {}
        self.hits: Counter[str] = Counter()
        self.hosts: list[str] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def record(self, path: str, host: str) -> None:
        with self._lock:
            self.hits[path] += 1
            self.hosts.append(host)

    # Routes ---------------------------------------------------------------
    def page(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8",
             status: int = 200) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = lambda h: _respond(h, status, content_type, data)
        return self.url(path)

    def status(self, path: str, code: int) -> str:
        return self.page(path, f"<html><body><h1>{code}</h1></body></html>", "text/html", code)

    def redirect(self, path: str, location: str | Callable[[_Handler], str], code: int = 302) -> str:
        def serve(h: _Handler) -> None:
            h.send_response(code)
            h.send_header("Location", location(h) if callable(location) else location)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self.routes[path] = serve
        return self.url(path)

    def slow(self, path: str, seconds: float) -> str:
        """Say nothing for `seconds` (or until the server stops), then answer."""
        def serve(h: _Handler) -> None:
            self.stopping.wait(seconds)
            _respond(h, 200, "application/rss+xml",
                     b"<?xml version='1.0'?><rss version='2.0'><channel><title>late</title></channel></rss>")

        self.routes[path] = serve
        return self.url(path)

    def flood(self, path: str, total_bytes: int, *, declare_length: bool) -> str:
        """Stream total_bytes of XML-ish text, with or without announcing the length."""
        chunk = (b"<item><title>x</title><description>" + b"y" * 65000 + b"</description></item>")

        def serve(h: _Handler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            if declare_length:
                h.send_header("Content-Length", str(total_bytes))
            h.end_headers()
            sent = 0
            h.wfile.write(b"<?xml version='1.0'?><rss version='2.0'><channel><title>big</title>")
            self.flood_sent[path] = 0
            try:
                while sent < total_bytes and not self.stopping.is_set():
                    h.wfile.write(chunk)
                    sent += len(chunk)
                    self.flood_sent[path] = sent
            finally:
                self.flood_done.set()

        self.flood_sent: dict[str, int] = getattr(self, "flood_sent", {})
        self.flood_done = threading.Event()
        self.routes[path] = serve
        return self.url(path)

    def close(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def module_http_server() -> Iterator[LocalServer]:
    """One server for a whole module (for module-scoped fixtures); routes accumulate."""
    server = LocalServer()
    try:
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m index --data-dir D ...` from the repository root.

    The environment is the test's minus any DOCKET settings, plus `extra_env`; the
    feeds file is an empty one so that no configured feed can ever be fetched.
    """
    feeds = tmp_path / "no-feeds.toml"
    feeds.write_text("", encoding="utf-8")

    def run(data_dir: Path, *args: str, input: str | None = None,
            extra_env: dict[str, str] | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET")}
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                    "TOKENIZERS_PARALLELISM": "false", "DOCKET_FEEDS": str(feeds),
                    "PYTHONUNBUFFERED": "1"})
        env.update(extra_env or {})
        cmd = [sys.executable, "-m", "index", "--data-dir", str(data_dir), *args]
        return subprocess.run(cmd, cwd=REPO, env=env, input=input, capture_output=True,
                              text=True, timeout=timeout, check=False)

    return run


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.001) -> bool:
    """Poll predicate until it holds or timeout seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="session")
def poll() -> Callable[..., bool]:
    return wait_for


# --------------------------------------------------------------------------- cross-encoder

@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small cross-encoder built from the bundled MiniLM weights, saved with its tokenizer.

    The regression head is fresh (seeded, so every session builds the same model): its
    scores carry no meaning, but loading, batching, truncation and timing are the real ones.
    """
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    from index.embed import model_path

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    target = tmp_path_factory.mktemp("cross-encoder")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = BertForSequenceClassification.from_pretrained(str(model_path()), num_labels=1)
    model.save_pretrained(str(target))
    AutoTokenizer.from_pretrained(str(model_path())).save_pretrained(str(target))
    return target


@pytest.fixture(scope="session")
def reranker(cross_encoder_dir: Path) -> Reranker:
    """The test cross-encoder, loaded through `[rerank] model` like a deployment's."""
    loaded = load_reranker(RerankSettings(model=str(cross_encoder_dir)))
    assert loaded is not None
    return loaded
