"""`python -m index bench`: speed and memory of ingest and search on synthetic corpora.

For each corpus size (passages), built from the sample corpus's real sentences
recombined (see index.bench.corpus), and each repeat:

1. ingest it into a fresh temporary data directory with the real pipeline, timing
   the whole `ingest()` and, inside it, the model's `encode` calls;
2. time the model's raw `encode` over the corpus's passages (title + text, as a
   passage encoder would see them; a fixed random sample of them at large sizes);
3. re-ingest the unchanged corpus (it must embed nothing);
4. start a fresh process that loads the index and answers 200 fixed questions:
   its start-to-first-answer time, its peak RSS and every search's timings;
5. measure the approximate index's recall@10 (IVF by default; one is built for the
   measurement when the snapshot is small enough to be served exactly) against exact
   search on the same vectors, at the configured setting and a sweep.

Every figure is reported as the median over repeats with min and max. Above
`DOCKET_BENCH_REAL_ENCODE_MAX` passages (default 20,000) the ingest uses a memoizing
encoder that runs the real model once per distinct text (the corpus recombines a few
hundred real sentences, so the vectors are exactly the model's): search, memory, size,
recall and re-ingest figures are real, and the ingest time is extrapolated from the
pipeline's measured non-model time plus the texts it asked to embed at the model's
measured rate. The report says which mode each size used.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import snapshot, store_schema, vectors
from ..embed import Encoder
from ..ingest import ingest
from ..settings import Settings
from .chart import chart_figures
from .corpus import Pool, build_corpus, questions, sentence_pool
from .report import compare, fmt, format_table, machine, summarize

REPORT_VERSION = 1
ENCODE_SAMPLE = int(os.environ.get("DOCKET_BENCH_ENCODE_SAMPLE", "600"))
REAL_ENCODE_MAX = int(os.environ.get("DOCKET_BENCH_REAL_ENCODE_MAX", "20000"))
RECALL_K = 10
EF_SWEEP = (256, 512, 1024, 2048)
PROBE_SWEEP = (0.05, 0.1, 0.15, 0.2)

class TimedEncoder(Encoder):
    """An encoder that times its calls; with `memo`, runs the model once per distinct text."""

    def __init__(self, inner: Encoder, *, memo: bool = False, sample: int = ENCODE_SAMPLE) -> None:
        # Share the inner encoder's model: no second load.
        self.__dict__.update(inner.__dict__)
        self.inner = inner
        self.memo: dict[str, np.ndarray] | None = {} if memo else None
        self.seconds = 0.0
        self.texts = 0
        self.sample: list[str] = []
        self._rng = random.Random(1)
        self._sample_size = sample

    def reset(self) -> None:
        self.seconds, self.texts, self.sample = 0.0, 0, []
        self._rng = random.Random(1)

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        for t in texts:  # reservoir sample of the texts the pipeline embeds
            self.texts += 1
            if len(self.sample) < self._sample_size:
                self.sample.append(t)
            else:
                j = self._rng.randrange(self.texts)
                if j < self._sample_size:
                    self.sample[j] = t
        if self.memo is None:
            out = self.inner.encode(texts, batch_size=batch_size)
        else:
            missing = sorted({t for t in texts if t not in self.memo})
            if missing:
                for t, v in zip(missing, self.inner.encode(missing, batch_size=batch_size),
                                strict=True):
                    self.memo[t] = v
            out = (np.stack([self.memo[t] for t in texts]) if texts
                   else np.zeros((0, self.dimension), dtype=np.float32))
        self.seconds += time.perf_counter() - started
        return out


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q * 100)) if values else 0.0


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _passage_texts(db_path: Path) -> list[str]:
    return [f"{title}\n{body}" for title, body in store_schema.passage_texts(db_path)]


def _rate(encoder: Encoder, texts: list[str]) -> float:
    """Texts per second of the model's raw encode (one warm-up batch first)."""
    if not texts:
        return 0.0
    encoder.encode(texts[:8])
    started = time.perf_counter()
    encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def _search_process(data_dir: Path, settings: Settings, qfile: Path, workdir: Path) -> dict[str, Any]:
    out = workdir / "child.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET")}
    env.update({"DOCKET_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "DOCKET__MODEL__BACKEND": settings.model.backend,
                "DOCKET__MODEL__CACHE_DIR": settings.model.cache_dir,
                "DOCKET__VECTORS__HNSW_EF_SEARCH": str(settings.vectors.hnsw_ef_search),
                "DOCKET__VECTORS__IVF_PROBE_SHARE": str(settings.vectors.ivf_probe_share)})
    if os.environ.get("DOCKET_CONFIG"):
        env["DOCKET_CONFIG"] = os.environ["DOCKET_CONFIG"]
    spawned = time.time()
    proc = subprocess.run([sys.executable, "-m", "index.bench.child", str(qfile), str(out)],
                          env=env, capture_output=True, text=True, check=False, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"search process failed ({proc.returncode}): {proc.stderr[-2000:]}")
    child = json.loads(out.read_text(encoding="utf-8"))
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    timings = child["timings"]
    total = [t["total"] for t in timings]
    result = {
        "search_ms_p50": _percentile(total, 0.5),
        "search_ms_p95": _percentile(total, 0.95),
        "search_ms_p95_excl_embed": _percentile([t["total"] - t["embed"] for t in timings], 0.95),
        "peak_rss_mb": child["peak_rss_mb"],
        "cold_start_s": child["first_answer"] - spawned,
        "model_load_s": child["model_load_s"],
        "index_load_s": child["index_load_s"],
        "children_peak_rss_mb": children_rss,  # ru_maxrss: includes the fork parent's
    }
    for part in ("embed", "faiss", "fts", "fusion", "snippets"):
        vals = [t.get(part, 0.0) for t in timings]
        result[f"{part}_ms_p50"] = _percentile(vals, 0.5)
        result[f"{part}_ms_p95"] = _percentile(vals, 0.95)
    return result


def _recall(snap: Path, settings: Settings, qvecs: np.ndarray) -> dict[str, Any]:
    """Recall@10 of the approximate index against exact search, at the configured
    setting and a sweep. A snapshot too small to carry one gets one built here, of
    the kind the configuration would choose at scale."""
    flat = vectors.load(snap / vectors.FLAT_FILE)
    ann_path = vectors.ann_path(snap)
    in_snapshot = ann_path is not None
    if ann_path is not None:
        ann = vectors.load(ann_path)
    else:
        kind = settings.vectors.kind if settings.vectors.kind in ("ivf", "hnsw") else "ivf"
        ann = vectors.build_ann(flat, settings.vectors, kind)
    k = min(RECALL_K, flat.ntotal)
    _, exact = flat.search(qvecs, k)
    inner: Any = vectors.inner_index(ann)
    kind = vectors.index_kind(ann)
    if kind == "ivf":
        configured = vectors.probes(inner.nlist, settings.vectors.ivf_probe_share)
        points = sorted({*(vectors.probes(inner.nlist, share) for share in PROBE_SWEEP), configured})
    else:
        configured = settings.vectors.hnsw_ef_search
        points = sorted({*EF_SWEEP, configured})
    sweep = {}
    for point in points:
        if kind == "ivf":
            inner.nprobe = point
        else:
            inner.hnsw.efSearch = point
        started = time.perf_counter()
        _, got = ann.search(qvecs, k)
        ms = (time.perf_counter() - started) * 1000 / len(qvecs)
        hits = sum(len(set(exact[i]) & set(got[i])) for i in range(len(qvecs)))
        sweep[point] = {"recall": hits / (k * len(qvecs)), "ms_per_query": ms}
    return {"ann_recall_at_10": sweep[configured]["recall"], "ann_kind": kind,
            "ann_in_snapshot": in_snapshot, "ann_lists": int(inner.nlist) if kind == "ivf" else None,
            "ann_sweep_param": "nprobe" if kind == "ivf" else "efSearch", "ann_sweep": sweep}


def _one_run(corpus_dir: Path, settings: Settings, encoder: TimedEncoder, qfile: Path,
             qvec_cache: dict[str, np.ndarray], workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    run_settings = settings.replace(data_dir=data_dir)
    encoder.reset()
    started = time.perf_counter()
    first = asyncio.run(ingest([str(corpus_dir)], run_settings, encoder))
    ingest_s = time.perf_counter() - started
    if first.failed:
        raise RuntimeError(f"bench ingest failed: {first.failures[:3]}")
    encode_s, texts_embedded, text_sample = encoder.seconds, encoder.texts, list(encoder.sample)
    started = time.perf_counter()
    again = asyncio.run(ingest([str(corpus_dir)], run_settings, encoder))
    reingest_s = time.perf_counter() - started
    snap = snapshot.current_path(data_dir)
    passages = _passage_texts(snap / snapshot.DB_FILE)
    sample = random.Random(7).sample(passages, min(len(passages), ENCODE_SAMPLE))
    encode_rate = _rate(encoder.inner, sample)
    result: dict[str, Any] = {
        "passages": first.passages_embedded, "ingest_s": ingest_s,
        "ingest_encode_s": encode_s, "texts_embedded": texts_embedded,
        "encode_passages_per_s": encode_rate, "encode_sample": len(sample),
        "reingest_s": reingest_s, "reingest_embedded": again.passages_embedded,
        "reingest_share": reingest_s / ingest_s,
        "index_mb": _dir_mb(snap),
    }
    if encoder.memo is None:
        result["ingest_passages_per_s"] = first.passages_embedded / ingest_s
        result["ingest_encode_share"] = encode_s / ingest_s
    else:
        # The model ran once per distinct text: extrapolate the real pipeline's time
        # from its non-model time and the texts it embedded, at the measured rate.
        text_rate = _rate(encoder.inner, text_sample)
        other_s = ingest_s - encode_s
        estimate = other_s + texts_embedded / text_rate
        result.update({"ingest_other_s": other_s, "text_rate_per_s": text_rate,
                       "ingest_s_extrapolated": estimate,
                       "ingest_passages_per_s": first.passages_embedded / estimate,
                       "ingest_encode_share": (estimate - other_s) / estimate,
                       "reingest_share": reingest_s / estimate})
    result["ingest_ratio"] = result["ingest_passages_per_s"] / encode_rate
    result.update(_search_process(data_dir, run_settings, qfile, workdir))
    if "q" not in qvec_cache:
        qvec_cache["q"] = encoder.inner.encode(json.loads(qfile.read_text(encoding="utf-8")))
    result.update(_recall(snap, run_settings, qvec_cache["q"]))
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def bench(sizes: list[int], settings: Settings, *, repeats: int = 1,
          backends: list[str] | None = None, workdir: Path | None = None,
          log: Any = None) -> dict[str, Any]:
    """Run the benchmark and return the report (see the module docstring)."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    backends = backends or [settings.model.backend]
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="docket-bench-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"version": REPORT_VERSION, "machine": machine(),
                              "repeats": repeats, "questions": 0, "results": [],
                              "settings": {"vectors": dataclasses.asdict(settings.vectors),
                                           "model": dataclasses.asdict(settings.model),
                                           "encode_sample": ENCODE_SAMPLE,
                                           "real_encode_max": REAL_ENCODE_MAX}}
    try:
        qs = questions()
        report["questions"] = len(qs)
        qfile = root / "questions.json"
        qfile.write_text(json.dumps(qs), encoding="utf-8")
        pool: Pool = sentence_pool(settings)
        for size in sizes:
            corpus_dir = root / f"corpus-{size}"
            started = time.perf_counter()
            corpus = build_corpus(corpus_dir, size, pool, settings)
            say(f"corpus {size:,}: {corpus.articles:,} articles, {corpus.passages:,} passages "
                f"({time.perf_counter() - started:.1f}s to write)")
            for backend in backends:
                model = dataclasses.replace(settings.model, backend=backend)
                bsettings = settings.replace(model=model)
                started = time.perf_counter()
                encoder = Encoder(model)
                load_s = time.perf_counter() - started
                memo = corpus.passages > REAL_ENCODE_MAX
                timed = TimedEncoder(encoder, memo=memo)
                qvecs: dict[str, np.ndarray] = {}
                runs = []
                for i in range(repeats):
                    say(f"  {backend} {size:,}: run {i + 1}/{repeats}")
                    run = _one_run(corpus_dir, bsettings, timed, qfile, qvecs, root)
                    run["model_load_in_bench_s"] = load_s
                    runs.append(run)
                    say("    " + ", ".join(f"{k}={fmt(k).format(run[k])}" for k in (
                        "ingest_passages_per_s", "encode_passages_per_s", "ingest_ratio",
                        "reingest_s", "search_ms_p50", "search_ms_p95_excl_embed", "peak_rss_mb",
                        "cold_start_s", "ann_recall_at_10")))
                report["results"].append({
                    "backend": backend, "passages_requested": size, "passages": corpus.passages,
                    "articles": corpus.articles, "sentences": corpus.sentences,
                    "encode_mode": "memoized" if memo else "real",
                    "metrics": summarize(runs)})
            shutil.rmtree(corpus_dir, ignore_errors=True)
        say("chart: rendering the /trends PNG")
        report["chart"] = chart_figures(repeats=max(5, repeats))
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
    return report


async def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    sizes = list(args.passages)
    if args.million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    backends = None
    if args.backend == "both":
        backends = ["onnx", "torch"]
    elif args.backend:
        backends = [args.backend]
    return await asyncio.to_thread(_run_and_report, args, sizes, settings, backends)


def _run_and_report(args: argparse.Namespace, sizes: list[int], settings: Settings,
                    backends: list[str] | None) -> int:
    report = bench(sizes, settings, repeats=max(1, args.repeats), backends=backends)
    print(format_table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    if args.compare:
        old = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        print()
        print(compare(report, old))
    return 0
