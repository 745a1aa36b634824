"""What the crash tests (test_crash.py, test_crash_loop.py) share: the ingest run in a child
process that writes a marker line before and after each step, and holds still at a named
marker until it is killed; the child's environment; reading the markers back.

The child is the real CLI with its steps wrapped (see HELPER). Each marker line is
"<time.monotonic()> <event>". When CRASH_HOLD_AT names a marker, the child writes it, then a
line "held", and waits until it is killed: a test kills at that moment whatever the
machine's speed, and no window has to be hit by timing. For the hold inside the embedding
("embedded half"), the encode call is split in two halves (only then), with the marker
between them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
JAPAN_QUESTION = "What did Japan ask OpenAI about Sora 2?"
JAPAN_URL = ("https://www.gamesradar.com/entertainment/anime-shows/japanese-government-officials-say-"
             "manga-and-anime-are-irreplaceable-treasures-ask-openai-to-prevent-copyright-"
             "infringement-and-insist-japan-should-take-the-lead-in-regulating-ai")
HELD = "held"  # the line the child writes once it holds still

HELPER = """
import functools, inspect, os, sys, threading, time

_FD = os.open(os.environ["CRASH_MARKS"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
_HOLD_AT = os.environ.get("CRASH_HOLD_AT", "")


def mark(event):
    os.write(_FD, f"{time.monotonic():.6f} {event}\\n".encode())
    if event == _HOLD_AT:
        os.write(_FD, f"{time.monotonic():.6f} held\\n".encode())
        threading.Event().wait()  # until the test kills this process


def around(owner, name, before, after):
    original = getattr(owner, name)
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(*args, **kwargs):
            mark(before)
            result = await original(*args, **kwargs)
            mark(after)
            return result
    else:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            mark(before)
            result = original(*args, **kwargs)
            mark(after)
            return result
    setattr(owner, name, wrapper)


mark("started")
import numpy
import index.cli, index.embed, index.fetch, index.ingest, index.ingest_write, index.snapshot, index.vectors

_encode = index.embed.Encoder.encode


def encode_in_halves(self, texts, *args, **kwargs):
    half = len(texts) // 2
    first = _encode(self, texts[:half], *args, **kwargs)
    mark("embedded half")
    return numpy.concatenate([first, _encode(self, texts[half:], *args, **kwargs)])


if _HOLD_AT == "embedded half":
    index.embed.Encoder.encode = encode_in_halves
around(index.snapshot, "start_build", "building", "build")
around(index.ingest, "collect", "collect", "collected")
around(index.fetch.Fetcher, "_request", "fetch", "fetched")
around(index.cli, "make_encoder", "model", "model loaded")
around(index.embed, "ensure_onnx_export", "model export", "model export ready")
around(index.embed.Encoder, "encode", "embed", "embedded")
around(index.vectors, "save", "faiss", "faiss written")
around(index.snapshot, "write_manifest", "manifest", "manifest written")
around(index.snapshot, "publish", "publish", "published")

_story_for, _stories = index.ingest_write.story_for, [0]


async def counted_story_for(*args, **kwargs):
    # Called once per article inside the batch's write transaction, before its INSERT:
    # from the second call on, the transaction holds uncommitted rows.
    _stories[0] += 1
    if _stories[0] == 2:
        mark("sqlite transaction open")
    return await _story_for(*args, **kwargs)


index.ingest_write.story_for = counted_story_for
_fsync_file = index.snapshot._fsync_file


def fsync_file(path):
    _fsync_file(path)
    if path.name == "CURRENT.tmp":
        mark("current.tmp written")


index.snapshot._fsync_file = fsync_file
sys.exit(index.cli.main(sys.argv[1:]))
"""


def write_helper(directory: Path) -> Path:
    """The marked ingest (HELPER) as a script in `directory`."""
    path = directory / "marked_ingest.py"
    path.write_text(HELPER, encoding="utf-8")
    return path


def child_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of an ingest child: this checkout's code, the model offline, no feeds
    but the sources named, fetching from 127.0.0.1 allowed with no politeness delay."""
    feeds = tmp / "no-feeds.toml"
    feeds.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKET", "CRASH_"))}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
                "DOCKET_FEEDS": str(feeds), "DOCKET__FETCH__ALLOW_PRIVATE": "127.0.0.1",
                "DOCKET__FETCH__PER_HOST_DELAY_S": "0", "DOCKET__FETCH__TIMEOUT_S": "10"})
    env.update(extra)
    return env


def marked_env(tmp: Path, marks: Path, hold_at: str = "") -> dict[str, str]:
    """child_env for HELPER: markers written to `marks`, holding at `hold_at` (if any)."""
    return child_env(tmp, CRASH_MARKS=str(marks), CRASH_HOLD_AT=hold_at)


def read_marks(path: Path) -> list[tuple[float, str]]:
    """The child's markers: (monotonic time, event), in the order written."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stamp, _, event = line.partition(" ")
        out.append((float(stamp), event))
    return out


def events(path: Path) -> list[str]:
    return [event for _, event in read_marks(path)]


def last_step(found: list[str]) -> str | None:
    """The last marker before the kill (the "held" line is not a step)."""
    steps = [e for e in found if e != HELD]
    return steps[-1] if steps else None


def sample_sentences(live: Any, sample_index: Path) -> list[str]:
    """Every sentence of the sample corpus, in article order: material for made-up articles."""
    from index.text import sentence_spans

    sentences: list[str] = []
    for row in live(sample_index).query("SELECT text FROM articles ORDER BY id"):
        text = row["text"]
        sentences += [text[s:e] for s, e in sentence_spans(text)]
    return sentences
