"""The benchmark's report: per-size summaries of repeated runs, the machine they ran
on, the printed table and the comparison with an earlier report (see index.bench.run)."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

# The keys of the issue, in table order, with their labels.
KEYS = {
    "ingest_passages_per_s": "ingest, passages/s (whole pipeline)",
    "encode_passages_per_s": "raw encode, passages/s",
    "ingest_ratio": "ingest / raw encode (target >= 0.85)",
    "ingest_s": "ingest, seconds",
    "ingest_encode_share": "share of ingest spent in the model",
    "reingest_s": "re-ingest unchanged, seconds",
    "reingest_share": "re-ingest / ingest (target < 0.05)",
    "reingest_embedded": "re-ingest, passages embedded (must be 0)",
    "search_ms_p50": "search p50 ms, total (target <= 30)",
    "search_ms_p95": "search p95 ms, total",
    "search_ms_p95_excl_embed": "search p95 ms excl. embedding (target <= 10)",
    "embed_ms_p50": "  query embedding p50 ms",
    "faiss_ms_p50": "  FAISS p50 ms",
    "fts_ms_p50": "  FTS5 p50 ms",
    "fusion_ms_p50": "  fusion p50 ms",
    "snippets_ms_p50": "  snippets p50 ms",
    "faiss_ms_p95": "  FAISS p95 ms",
    "fts_ms_p95": "  FTS5 p95 ms",
    "fusion_ms_p95": "  fusion p95 ms",
    "snippets_ms_p95": "  snippets p95 ms",
    "peak_rss_mb": "peak RSS of a search process, MB (target <= 1536)",
    "index_mb": "index on disk, MB",
    "cold_start_s": "cold start to first answer, s",
    "ann_recall_at_10": "approximate index recall@10 vs exact (target >= 0.98)",
}



def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in runs[0]:
        vals = [r[key] for r in runs]
        if all(isinstance(v, bool) for v in vals) or not all(isinstance(v, int | float) for v in vals):
            out[key] = vals[0] if len(set(map(json.dumps, vals))) == 1 else vals
            continue
        out[key] = {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
                    "runs": vals}
    return out


def machine() -> dict[str, Any]:
    import importlib.metadata as md

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for pkg in ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "numpy"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    mem: float | None = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1) if mem else None,
            "python": platform.python_version(), "platform": platform.platform(),
            "versions": versions}


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and "median" in value:
        med, lo, hi = value["median"], value["min"], value["max"]
        pattern = fmt(key)
        if lo == hi:
            return pattern.format(med)
        return f"{pattern.format(med)} ({pattern.format(lo)}-{pattern.format(hi)})"
    return str(value)


def fmt(key: str) -> str:
    if key in {"ingest_ratio", "reingest_share", "ingest_encode_share", "ann_recall_at_10"}:
        return "{:.3f}"
    if key == "reingest_embedded":
        return "{:.0f}"
    if key.endswith("_ms_p50") or key.endswith("_ms_p95") or key.endswith("_p95_excl_embed"):
        return "{:.2f}"
    return "{:.1f}"


def format_table(report: dict[str, Any]) -> str:
    results = report["results"]
    heads = [f"{r['backend']} {r['passages']:,} ({r['encode_mode']})" for r in results]
    width = max(len(v) for v in KEYS.values())
    lines = [f"{'':{width}}  " + "  ".join(f"{h:>24}" for h in heads)]
    for key, label in KEYS.items():
        cells = [_cell(r["metrics"].get(key), key) for r in results]
        lines.append(f"{label:{width}}  " + "  ".join(f"{c:>24}" for c in cells))
    lines.append(f"median (min-max) over {report['repeats']} run(s); "
                 f"{report['machine']['cores']} cores, {report['machine']['cpu']}")
    chart = report.get("chart")
    if chart:
        lines.append("trends chart render (ms, median): " + ", ".join(
            f"{chart[k]['bars']} bars {chart[k]['render_ms_median']:.0f}"
            for k in ("weekly_104", "monthly_104w")) + f"; first in a process "
            f"{chart['first_render_ms']:.0f}")
    for r in results:
        if r["encode_mode"] == "memoized":
            lines.append(f"{r['passages']:,}: ingest figures extrapolated (memoized encoder; "
                         "see index/bench/run.py)")
    return "\n".join(lines)


def compare(report: dict[str, Any], old: dict[str, Any]) -> str:
    """Ratios new/old of every median, per matching (backend, size)."""
    index = {(r["backend"], r["passages_requested"]): r for r in old.get("results", [])}
    lines = []
    for r in report["results"]:
        prev = index.get((r["backend"], r["passages_requested"]))
        if prev is None:
            lines.append(f"{r['backend']} {r['passages_requested']:,}: not in the earlier report")
            continue
        lines.append(f"{r['backend']} {r['passages_requested']:,}: new / old")
        for key in KEYS:
            a, b = r["metrics"].get(key), prev["metrics"].get(key)
            if isinstance(a, dict) and isinstance(b, dict) and b.get("median"):
                lines.append(f"  {key:28} {a['median'] / b['median']:6.2f}x  "
                             f"({fmt(key).format(b['median'])} -> {fmt(key).format(a['median'])})")
    return "\n".join(lines)
