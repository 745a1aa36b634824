"""Synthetic corpora for the benchmark: the sample corpus's real sentences, recombined.

Every article is a Markdown file with front matter (title, URL, date, outlet), about
five passages long, made of sentences drawn from the bundled sample articles; dates
spread over 2019-2025. The same seed gives the same corpus, byte for byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..chunk import chunk
from ..evaluate import default_qa_path
from ..settings import Settings
from ..sources import collect, sample_dir
from ..text import sentence_spans

SEED = 20250601
FIRST_DAY = dt.date(2019, 1, 1)
DAYS = 7 * 365
QUESTIONS = 200


@dataclass(frozen=True)
class Pool:
    sentences: list[str]
    titles: list[str]
    outlets: list[str]


def sentence_pool(settings: Settings) -> Pool:
    """The sample corpus's sentences (as the real extractor and splitter see them)."""
    collected = asyncio.run(collect([str(sample_dir())], settings, {}, set()))
    sentences: list[str] = []
    titles: list[str] = []
    outlets: list[str] = []
    for url in sorted(collected.documents):
        doc = collected.documents[url]
        titles.append(doc.title)
        outlets.append(doc.outlet)
        for s, e in sentence_spans(doc.text):
            text = doc.text[s:e].strip()
            if 4 <= len(text.split()) <= 60 and "\n" not in text:
                sentences.append(text)
    return Pool(sorted(set(sentences)), titles, sorted(set(outlets)))


@dataclass(frozen=True)
class Corpus:
    directory: Path
    articles: int
    passages: int
    sentences: int


def build_corpus(directory: Path, passages: int, pool: Pool, settings: Settings,
                 seed: int = SEED) -> Corpus:
    """Write Markdown articles into directory until they hold at least `passages` passages."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    total = articles = sentences = 0
    while total < passages:
        n = rng.randint(14, 22)  # about five passages of 40-150 words
        picked = rng.sample(pool.sentences, n)
        paragraphs = [" ".join(picked[i:i + 3]) for i in range(0, n, 3)]
        text = "\n\n".join(paragraphs)
        found = len(chunk(text, settings.chunk))
        if not found:
            continue
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        title = rng.choice(pool.titles)
        outlet = rng.choice(pool.outlets)
        front = (f"---\ntitle: {json.dumps(title)}\nurl: https://bench.docket.invalid/{day.year}/"
                 f"a{articles:07d}\npublished: {day.isoformat()}\nsource: {json.dumps(outlet)}\n---\n\n")
        sub = directory / f"{articles // 1000:04d}"
        sub.mkdir(exist_ok=True)
        (sub / f"a{articles:07d}.md").write_text(front + text + "\n", encoding="utf-8")
        articles += 1
        total += found
        sentences += n
    return Corpus(directory, articles, total, sentences)


def questions(count: int = QUESTIONS) -> list[str]:
    """A fixed question set: the development questions, then variations of them."""
    base = []
    with default_qa_path().open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                base.append(str(json.loads(line)["question"]))
    variants = [
        lambda q: q.lower().rstrip("?"),
        lambda q: f"latest news: {q}",
        lambda q: f"{q.rstrip('?')} in 2024?",
        lambda q: f"What happened: {q}",
    ]
    out = list(base)
    i = 0
    while len(out) < count:
        q = base[i % len(base)]
        out.append(variants[i % len(variants)](q))
        i += 1
    return out[:count]
