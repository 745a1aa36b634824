"""Retrieval quality on a question set: hit@k, MRR, snippet quality, abstention, latency."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError
from .results import SearchResponse
from .urls import canonical_url


class Searcher(Protocol):
    async def search(self, question: str, *, k: int | None = None, offset: int = 0,
                     now: Any = None, min_relevance: float | None = None) -> SearchResponse: ...


def default_qa_path() -> Path:
    return Path(str(resources.files("index") / "sample" / "dev_qa.jsonl"))


def load_qa(path: Path) -> list[dict[str, Any]]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{n}: not JSON ({exc})") from exc
        if not isinstance(item, dict) or "question" not in item:
            raise ConfigError(f"{path}:{n}: needs at least a question")
        url = item.get("url")
        urls = [] if url is None else [url] if isinstance(url, str) else list(url)
        item["_urls"] = {canonical_url(u) for u in urls}
        item.setdefault("must_contain", [])
        item.setdefault("kind", "unlabelled")
        items.append(item)
    return items


def _ranks(response: SearchResponse, expected: set[str]) -> int | None:
    for i, r in enumerate(response.results, 1):
        if canonical_url(r.url) in expected or expected & {canonical_url(u) for u in r.also_reported_by}:
            return i
    return None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def _summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"questions": len(rows), "answerable": len(answerable),
                           "unanswerable": len(unanswerable)}
    if answerable:
        out["hit@1"] = sum(r["rank"] == 1 for r in answerable) / len(answerable)
        out["hit@5"] = sum(r["rank"] is not None and r["rank"] <= 5 for r in answerable) / len(answerable)
        out["mrr"] = sum(1 / r["rank"] if r["rank"] else 0 for r in answerable) / len(answerable)
        with_phrases = [r for r in answerable if r["phrases"]]
        out["snippet_contains"] = (sum(r["snippet_ok"] for r in with_phrases) / len(with_phrases)
                                   if with_phrases else None)
        out["answered_rate"] = sum(not r["abstained"] for r in answerable) / len(answerable)
    else:
        out.update({"hit@1": None, "hit@5": None, "mrr": None, "snippet_contains": None,
                    "answered_rate": None})
    out["abstain_accuracy"] = (sum(r["abstained"] for r in unanswerable) / len(unanswerable)
                               if unanswerable else None)
    return out


async def evaluate(index: Searcher, qa: list[dict[str, Any]], *, k: int = 5,
                   min_relevance: float | None = None) -> dict[str, Any]:
    rows = []
    latencies = []
    for item in qa:
        started = time.perf_counter()
        response = await index.search(item["question"], k=k, min_relevance=min_relevance)
        latencies.append((time.perf_counter() - started) * 1000)
        expected = item["_urls"]
        rank = _ranks(response, expected) if expected else None
        top = response.results[0] if response.results else None
        phrases = [p for p in item["must_contain"] if p]
        snippet_ok = bool(rank == 1 and top and any(p.lower() in top.snippet.lower() for p in phrases))
        rows.append({"question": item["question"], "kind": item["kind"], "answerable": bool(expected),
                     "rank": rank, "abstained": response.abstained, "phrases": phrases,
                     "snippet_ok": snippet_ok,
                     "top_url": top.url if top else None,
                     "top_relevance": top.relevance if top else None,
                     "top_snippet": top.snippet if top else None})
    report = _summarize(rows)
    report["latency_ms_p50"] = statistics.median(latencies) if latencies else 0.0
    report["latency_ms_p95"] = _percentile(latencies, 0.95)
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        kinds[row["kind"]].append(row)
    report["by_kind"] = {kind: _summarize(items) for kind, items in sorted(kinds.items())}
    report["misses"] = [r for r in rows if (r["answerable"] and (r["rank"] != 1 or not r["snippet_ok"]
                                                                 or r["abstained"]))
                        or (not r["answerable"] and not r["abstained"])]
    return report


async def calibrate(index: Searcher, qa: list[dict[str, Any]]) -> dict[str, Any]:
    """The abstention threshold that best separates answerable from unanswerable questions.

    Each question's best relevance is measured with abstention off; the threshold
    maximizing balanced accuracy is the midpoint of the widest such gap.
    """
    pos: list[float] = []
    neg: list[float] = []
    for item in qa:
        response = await index.search(item["question"], k=1, min_relevance=-1.0)
        score = response.results[0].relevance if response.results else -1.0
        (pos if item["_urls"] else neg).append(score)
    candidates = sorted(set(pos + neg))
    best: tuple[float, float, float] | None = None  # (balanced accuracy, gap, threshold)
    for lo, hi in itertools.pairwise(candidates):
        t = (lo + hi) / 2
        answered = sum(s >= t for s in pos) / max(len(pos), 1)
        abstained = sum(s < t for s in neg) / max(len(neg), 1)
        key = ((answered + abstained) / 2, hi - lo, t)
        if best is None or key[:2] > best[:2]:
            best = key
    return {"threshold": round(best[2], 4) if best else None,
            "balanced_accuracy": best[0] if best else None,
            "answerable": {"n": len(pos), "min": min(pos, default=None), "median":
                           statistics.median(pos) if pos else None},
            "unanswerable": {"n": len(neg), "max": max(neg, default=None), "median":
                             statistics.median(neg) if neg else None}}


def format_report(report: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    cols = ["hit@1", "hit@5", "mrr", "snippet_contains", "answered_rate", "abstain_accuracy"]
    lines = [f"{'kind':<14}{'n':>4} " + " ".join(f"{c:>16}" for c in cols)]
    lines.append(f"{'overall':<14}{report['questions']:>4} " + " ".join(f"{fmt(report[c]):>16}" for c in cols))
    for kind, sub in report["by_kind"].items():
        lines.append(f"{kind:<14}{sub['questions']:>4} " + " ".join(f"{fmt(sub[c]):>16}" for c in cols))
    lines.append(f"latency p50 {report['latency_ms_p50']:.1f} ms, p95 {report['latency_ms_p95']:.1f} ms")
    return "\n".join(lines)
