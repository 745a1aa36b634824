"""Helpers for the bot's tests: the real DocketBot against tests/fakediscord.

Not a conftest (a second rootless conftest.py would clash with tests/conftest.py by
module name); test modules import what they need from here.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import html
import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakediscord import FakeDiscord

from bot.__main__ import serve
from bot.client import DocketBot
from bot.service import DocketService, open_service
from bot.settings import BotSettings, Secret
from index.embed import Encoder
from index.settings import Settings, load_settings
from index.snapshot import DB_FILE, MANIFEST, current_name, snapshots_dir
from index.sources import sample_dir

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "settings.toml"
JAPAN = "What did Japan ask OpenAI about Sora 2?"
EPHEMERAL = 1 << 6
ZWSP = "\u200b"

# Bot tests never read config/feeds.toml, whose feeds are real outlets': unless a test sets
# DOCKET_FEEDS itself (monkeypatch.setenv wins over this), the feeds file is an empty one.
_NO_FEEDS = Path(tempfile.mkdtemp(prefix="docket-no-feeds-")) / "feeds.toml"
_NO_FEEDS.write_text("", encoding="utf-8")
atexit.register(shutil.rmtree, _NO_FEEDS.parent, True)
os.environ.setdefault("DOCKET_FEEDS", str(_NO_FEEDS))


def index_settings(data_dir: Path, **changes: Any) -> Settings:
    settings = load_settings(config=CONFIG, data_dir=data_dir, environ={})
    return settings.replace(**changes) if changes else settings


def bot_config(**changes: Any) -> BotSettings:
    """Bot settings for tests: fast timers, a generous cooldown, no sync of a real guild,
    no feed polling (tests of the feeds turn it on)."""
    base: dict[str, Any] = {"guild_ready_timeout_s": 0.1, "reload_interval_s": 0.3,
                            "progress_interval_s": 0.3, "cooldown_rate": 1000,
                            "poll_feeds": False}
    base.update(changes)
    return BotSettings(**base)


@dataclass
class Docket:
    fake: FakeDiscord
    bot: DocketBot
    service: DocketService
    settings: Settings


async def start_serving(fake: FakeDiscord, encoder: Encoder, data_dir: Path, state: Path,
                        token: str) -> tuple[DocketBot, asyncio.Task[int]]:
    """A DocketBot started the way `python -m bot` starts it (`serve`), with this token."""
    config = bot_config(token=Secret(token), guild_id=fake.guild_id, state_dir=state)
    settings = index_settings(data_dir)
    bot = DocketBot(settings=settings, config=config,
                    service=await open_service(settings, config, encoder))
    return bot, asyncio.create_task(serve(bot, Secret(token)))


@contextlib.asynccontextmanager
async def running_docket(encoder: Encoder, data_dir: Path, state_dir: Path, *,
                         fake: FakeDiscord | None = None, guild: bool = True,
                         settings_changes: dict[str, Any] | None = None,
                         **config_changes: Any) -> AsyncIterator[Docket]:
    """A FakeDiscord (or the given one) with a DocketBot logged in and ready."""
    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeDiscord())
        settings = index_settings(data_dir, **(settings_changes or {}))
        config = bot_config(guild_id=fake.guild_id if guild else None, state_dir=state_dir,
                             **config_changes)
        service = await open_service(settings, config, encoder)
        bot = DocketBot(settings=settings, config=config, service=service)
        await stack.enter_async_context(fake.running(bot))
        yield Docket(fake, bot, service, settings)


async def caught_up(d: Docket, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has finished with every message and /ask the gateway delivered.

    Before a test checks that nothing more was sent: the fake's session log holds each
    MESSAGE_CREATE and INTERACTION_CREATE once (replayed or not), and the Ask cog counts
    the events it has finished with. Their own echoes and replies are covered too: a reply
    is stored and its MESSAGE_CREATE logged before the bot's request returns.
    """
    # Not isinstance: discord.py loads the extension as a fresh module, with its own class.
    cog: Any = d.bot.get_cog("Ask")
    assert cog is not None and hasattr(cog, "messages_handled"), "the Ask cog is not loaded"
    gateway = d.fake.gateway

    def counts() -> tuple[int, int, int]:
        asks = sum(1 for e in gateway.events("INTERACTION_CREATE")
                   if e["d"].get("type") == 2 and e["d"].get("data", {}).get("name") == "ask")
        return gateway.dispatching, len(gateway.events("MESSAGE_CREATE")), asks

    def done() -> bool:
        dispatching, messages, asks = counts()
        return not dispatching and cog.messages_handled >= messages and cog.asks_handled >= asks

    await d.fake.notifier.wait_until(done, timeout, lambda: (
        f"(dispatching, messages, asks) delivered {counts()}, handled "
        f"{(cog.messages_handled, cog.asks_handled)}"))


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c.get("custom_id", "") for row in message.get("components") or []
            for c in row.get("components") or []]


def write_article(directory: Path, slug: str, *, title: str, url: str, published: str,
                  outlet: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{slug}.md"
    path.write_text(f'---\ntitle: "{title}"\nurl: {url}\npublished: {published}\n'
                    f"source: {outlet}\n---\n\n{body}\n", encoding="utf-8")
    return path


def write_html_article(directory: Path, slug: str, *, title: str, url: str, published: str,
                       outlet: str, paragraphs: list[str]) -> Path:
    """A news page like the sample corpus's; text is HTML-escaped, so it reaches the index as is."""
    directory.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            f'<link rel="canonical" href="{html.escape(url)}">'
            f'<meta property="og:title" content="{html.escape(title)}">'
            f'<meta property="og:site_name" content="{html.escape(outlet)}">'
            f'<meta property="article:published_time" content="{published}T10:00:00Z">'
            f"</head><body><main><article><h1>{html.escape(title)}</h1>\n{body}"
            f"</article></main></body></html>")
    path = directory / f"{slug}.html"
    path.write_text(page, encoding="utf-8")
    return path


def sample_article_count() -> int:
    """How many articles the bundled sample corpus has, counted from its files (one article
    a file; the corpus grows, so no test pins the number)."""
    return sum(1 for path in sample_dir().iterdir() if path.suffix in {".md", ".html"})


def published_manifest(data_dir: Path) -> dict[str, Any]:
    """The live snapshot's manifest as the ingest wrote it to disk (articles, passages...)."""
    name = current_name(data_dir)
    assert name is not None, f"no published snapshot in {data_dir}"
    manifest: dict[str, Any] = json.loads(
        (snapshots_dir(data_dir) / name / MANIFEST).read_text(encoding="utf-8"))
    return manifest


def published_outlets(data_dir: Path) -> Counter[str]:
    """Articles per outlet in the live snapshot, read from its SQLite file directly."""
    name = current_name(data_dir)
    assert name is not None, f"no published snapshot in {data_dir}"
    db = snapshots_dir(data_dir) / name / DB_FILE
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        return Counter(outlet for (outlet,) in conn.execute("SELECT outlet FROM articles"))


def sample_subset(target: Path, count: int) -> Path:
    """The first `count` sample articles, copied into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(sample_dir().iterdir())[:count]:
        shutil.copy(path, target / path.name)
    return target


# -- checking rendered text --------------------------------------------------------------

_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def assert_inert(text: str) -> None:
    """No mention, link or invite that Discord would act on survives in `text`,
    except Docket's own masked links `[...](https://...)`."""
    assert "@everyone" not in text and "@here" not in text, text
    for match in re.finditer("[@<]", text):
        assert text[match.end():match.end() + 1] == ZWSP, f"live {match.group()} in {text!r}"
    without_links = _LINK.sub("]", text)
    assert not re.search(r"[A-Za-z]://", without_links), f"live URL in {without_links!r}"
    assert not re.search(r"(?i)discord(app)?\.(gg|com/invite|me)", without_links), text


def public_bot_messages(fake: FakeDiscord, channel: Any) -> list[dict[str, Any]]:
    """What everyone in the channel sees from the bot (no ephemeral or deleted messages)."""
    return [m for m in fake.bot_messages(channel)
            if not int(m.get("flags") or 0) & EPHEMERAL and not m.get("_deleted")]


# -- a larger corpus for load tests ------------------------------------------------------

_PARAGRAPH = re.compile(r"<p[^>]*>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


def sample_sentences() -> list[str]:
    """The sample corpus's sentences (plain text, 40 to 300 characters), in a stable order."""
    out: list[str] = []
    for path in sorted(sample_dir().iterdir()):
        if path.suffix != ".html":
            continue
        for raw in _PARAGRAPH.findall(path.read_text(encoding="utf-8")):
            text = " ".join(html.unescape(_TAG.sub(" ", raw)).split())
            out.extend(s for s in _SENTENCE_END.split(text) if 40 <= len(s) <= 300)
    return out


def synthetic_corpus(target: Path, articles: int, *, paragraphs: int = 4,
                     sentences_per_paragraph: int = 4, seed: int = 7) -> Path:
    """`articles` Markdown articles stitched from the sample's real sentences, recombined
    (deterministic for a seed): a corpus with the sample's vocabulary, as large as wanted."""
    import random

    rng = random.Random(seed)
    sentences = sample_sentences()
    for i in range(articles):
        body = "\n\n".join(" ".join(rng.sample(sentences, sentences_per_paragraph))
                           for _ in range(paragraphs))
        write_article(target, f"synthetic-{i:05d}", title=f"Synthetic report {i}",
                      url=f"https://synthetic.example/report-{i}",
                      published=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                      outlet=f"Synthetic Wire {i % 7}", body=body)
    return target
