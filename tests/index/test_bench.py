"""The benchmark runs end to end at a tiny size and reports every key (no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

KEYS = ("ingest_passages_per_s", "encode_passages_per_s", "ingest_ratio", "reingest_s",
        "reingest_embedded", "search_ms_p50", "search_ms_p95", "search_ms_p95_excl_embed",
        "peak_rss_mb", "index_mb", "cold_start_s", "ann_recall_at_10")


def test_bench_small_corpus_reports_every_key(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "DOCKET_DATA_DIR": str(tmp_path / "var"),
                "DOCKET_BENCH_ENCODE_SAMPLE": "100"})
    proc = subprocess.run(
        [sys.executable, "-m", "index", "bench", "--passages", "300", "--repeats", "1",
         "--json", str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
        check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["questions"] == 200
    [result] = report["results"]
    assert result["passages"] >= 300
    assert result["encode_mode"] == "real"
    metrics = result["metrics"]
    for key in KEYS:
        assert key in metrics, key
        assert {"median", "min", "max"} <= set(metrics[key]), key
    assert metrics["reingest_embedded"]["max"] == 0
    assert 0.0 <= metrics["ann_recall_at_10"]["median"] <= 1.0
    assert "ingest, passages/s" in proc.stdout  # the table
