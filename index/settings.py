"""Typed settings for the index: documented defaults in config/settings.toml, overridable by env.

Precedence, highest first: explicit arguments (CLI flags), environment variables
(`DOCKET_DATA_DIR`, or `DOCKET__SECTION__KEY` for any key), the TOML file, the
defaults below. The defaults here mirror `config/settings.toml`; the file is the
documentation.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_ENV = "DOCKET_CONFIG"
DATA_DIR_ENV = "DOCKET_DATA_DIR"


@dataclass(frozen=True)
class ModelSettings:
    name: str = "sentence-transformers/all-MiniLM-L6-v2"
    backend: str = "onnx"  # "onnx" (int8, the default) or "torch"
    batch_size: int = 64
    max_seq_length: int = 256
    # Where the ONNX export is kept; empty: <data_dir>/models (filled in by load_settings).
    cache_dir: str = ""


@dataclass(frozen=True)
class ChunkSettings:
    min_words: int = 40
    max_words: int = 150
    overlap_sentences: int = 1


@dataclass(frozen=True)
class VectorSettings:
    # "auto": exact (flat) below ann_threshold passages, IVF above it; "flat", "ivf"
    # or "hnsw" force one.
    kind: str = "auto"
    ann_threshold: int = 50_000
    # IVF: 0 lists means about 4 * sqrt(passages); each query probes this share of them.
    # Tuned with `python -m index bench` (recall@10 vs exact >= 0.98 at 100,000 passages).
    ivf_lists: int = 0
    ivf_probe_share: float = 0.15
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 2048


@dataclass(frozen=True)
class SearchSettings:
    # Correct a question's misspelt lowercase words ("perplexty") to words the index
    # holds, with one edit, using pyspellchecker's English dictionary.
    spelling: bool = True
    dense_k: int = 50
    lexical_k: int = 50
    lexical_max_rows: int = 4000
    # A story's score: its best cosine similarity plus lexical_bonus times its bm25
    # relative to the question's best lexical match.
    lexical_bonus: float = 0.1
    # The dense_keep stories dense search ranks highest stay in the first
    # dense_keep_within places whatever the lexical bonus does.
    dense_keep: int = 3
    dense_keep_within: int = 5
    # The first rescore_k stories are re-scored with evidence from their whole article:
    # sentence_weight times the mean similarity of its two sentences closest to the
    # question, and coverage_bonus times its coverage of the question's terms (the
    # IDF-weighted share found anywhere in it) are added to the ranking score, and
    # coverage_relevance of it to the relevance that abstention compares with min_relevance.
    rescore_k: int = 10
    sentence_weight: float = 1.0
    coverage_bonus: float = 0.1
    coverage_relevance: float = 0.0
    # The quote is chosen by each sentence's similarity to the question and, with this
    # share, to the question's own words less the ones naming the article (its focus).
    focus_share: float = 0.7
    title_weight: float = 2.0
    results: int = 3
    # Abstain when the best relevance falls below this. Derived from data with
    # `python -m index calibrate` on the development question set.
    min_relevance: float = 0.326
    # The same for a topic (/latest topic, subscriptions): a word or two scores lower.
    topic_min_relevance: float = 0.30
    snippet_chars: int = 450
    # The domain thesaurus (descriptors -> canonical names) that widens questions;
    # a path relative to the working directory; "" for none.
    aliases: str = "config/aliases.toml"
    stale_after_days: int = 30
    dedupe_window_days: int = 4
    dedupe_similarity: float = 0.6


@dataclass(frozen=True)
class FetchSettings:
    timeout_s: float = 20.0
    connect_timeout_s: float = 5.0
    max_bytes: int = 5_000_000
    # Local files are trusted more than the web, but not without bound.
    max_file_bytes: int = 20_000_000
    max_redirects: int = 5
    per_host_delay_s: float = 1.0
    user_agent: str = "DocketBot/0.1 (+https://github.com/docket-bot/docket; news index for a Discord bot)"
    # Hosts or CIDR networks that may be fetched even though they are private.
    allow_private: tuple[str, ...] = ()
    max_items_per_feed: int = 500
    max_item_age_days: int = 3650
    # Feed polling: default interval, disable after this many failures in a row,
    # and the longest back-off after failures.
    default_interval_s: int = 1800
    max_failures: int = 5
    max_backoff_s: int = 21600


@dataclass(frozen=True)
class RerankSettings:
    # A sentence-transformers CrossEncoder: a local directory or a model hub name that is
    # already in the local Hugging Face cache (nothing is downloaded). Empty: no reranking.
    model: str = ""
    # Articles (after fusion, one per story) re-scored by the model, best first.
    candidates: int = 10
    # Candidate sentences per article re-scored to choose the quote.
    sentences: int = 8
    # Order score = weight * model score (0..1) + (1 - weight) * relevance (cosine).
    weight: float = 0.5
    # Tokens per (question, text) pair; the longer side is cut first.
    max_length: int = 256


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    model: ModelSettings = field(default_factory=ModelSettings)
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    vectors: VectorSettings = field(default_factory=VectorSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    rerank: RerankSettings = field(default_factory=RerankSettings)
    sources: tuple[str, ...] = ()
    keep_snapshots: int = 2
    # Corrections to the cases found at ingest (merge, rename, hide); see config/cases.toml.
    cases: str = "config/cases.toml"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_SECTIONS = {"model": ModelSettings, "chunk": ChunkSettings, "vectors": VectorSettings,
             "search": SearchSettings, "fetch": FetchSettings, "rerank": RerankSettings}


def _coerce(value: Any, target: Any, where: str) -> Any:
    """Convert TOML or env values to the type of the default."""
    if isinstance(target, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(value, bool) and isinstance(target, int | float):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    try:
        if isinstance(target, int):
            return int(value)
        if isinstance(target, float):
            return float(value)
        if isinstance(target, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(value)
        if isinstance(target, Path):
            return Path(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: expected {type(target).__name__}, got {value!r}") from exc
    return str(value)


def _section(cls: type, values: dict[str, Any], where: str) -> Any:
    default = cls()
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    kwargs = {k: _coerce(v, getattr(default, k), f"{where}.{k}") for k, v in values.items()}
    return cls(**kwargs)


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of a TOML file; ConfigError ("cannot read PATH: why") when the file is
    missing, unreadable, not UTF-8 or not valid TOML. The settings of the index and of the
    bot, and the alias thesaurus, are all read through here."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def config_file(path: str | Path) -> Path:
    """A file named in the settings: relative names are looked up from the working
    directory, then from the project's own directory (the bundled config/ beside the
    package), so that the bot started elsewhere still finds config/aliases.toml."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    bundled = Path(__file__).resolve().parents[1] / p
    return bundled if bundled.exists() else p


def find_config(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} points to a missing file: {path}")
        return path
    local = Path("config/settings.toml")
    return local if local.is_file() else None


def load_settings(config: Path | None = None, data_dir: Path | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Build settings from file, environment and explicit overrides."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    path = find_config(config)
    if path is not None:
        raw = read_toml(path)
    # DOCKET__SECTION__KEY=value overrides any key.
    for key, value in env.items():
        if key.startswith("DOCKET__"):
            parts = key[len("DOCKET__"):].lower().split("__")
            node = raw
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
    base = Settings()
    kwargs: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        section = raw.pop(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] must be a table")
        kwargs[name] = _section(cls, section, name)
    index_section = raw.pop("index", {})
    for key, value in index_section.items():
        if key not in {"data_dir", "sources", "keep_snapshots", "cases"}:
            raise ConfigError(f"index: unknown setting {key}")
        kwargs[key] = _coerce(value, getattr(base, key), f"index.{key}")
    raw.pop("bot", None)  # read by bot.settings
    if raw:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(raw))}")
    if env.get(DATA_DIR_ENV):
        kwargs["data_dir"] = Path(env[DATA_DIR_ENV])
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    settings = Settings(**kwargs)
    if settings.model.backend not in {"torch", "onnx"}:
        raise ConfigError(f"model.backend must be 'torch' or 'onnx', not {settings.model.backend!r}")
    if settings.vectors.kind not in {"auto", "flat", "ivf", "hnsw"}:
        raise ConfigError(f"vectors.kind must be auto, flat, ivf or hnsw, not {settings.vectors.kind!r}")
    if not 0 < settings.vectors.ivf_probe_share <= 1:
        raise ConfigError("vectors.ivf_probe_share must be above 0 and at most 1")
    _check_ranges(settings)
    return settings


# Ranges of numeric settings: (lowest, highest, whether the lowest itself is refused).
# A number not listed here must be finite and 0 or more.
_Range = tuple[float, float | None, bool]
_RANGES: dict[str, _Range] = {
    "index.keep_snapshots": (1, None, False),
    "model.batch_size": (1, None, False),
    "model.max_seq_length": (1, 512, False),  # MiniLM has 512 positions
    "chunk.min_words": (1, None, False),
    "chunk.max_words": (1, None, False),
    "vectors.hnsw_m": (2, None, False),
    "vectors.hnsw_ef_construction": (1, None, False),
    "vectors.hnsw_ef_search": (1, None, False),
    "search.dense_k": (1, None, False),
    "search.lexical_max_rows": (1, None, False),
    "search.results": (1, None, False),
    "search.min_relevance": (-1, 1, False),  # cosine similarities
    "search.topic_min_relevance": (-1, 1, False),
    "search.snippet_chars": (1, None, False),
    "search.dedupe_similarity": (0, 1, False),
    "fetch.timeout_s": (0, None, True),
    "fetch.connect_timeout_s": (0, None, True),
    "fetch.max_bytes": (1, None, False),
    "fetch.max_file_bytes": (1, None, False),
    "fetch.max_items_per_feed": (1, None, False),
    "fetch.max_item_age_days": (1, None, False),
    "fetch.default_interval_s": (1, None, False),
    "fetch.max_failures": (1, None, False),
    "fetch.max_backoff_s": (1, None, False),
    "rerank.candidates": (1, None, False),
    "rerank.sentences": (1, None, False),
    "rerank.weight": (0, 1, False),
    "rerank.max_length": (1, 512, False),
}


def _check_ranges(settings: Settings) -> None:
    """Refuse a number out of its range, naming the key (`search.results must be 1 or more`)."""
    values: dict[str, Any] = {"index.keep_snapshots": settings.keep_snapshots}
    for name in _SECTIONS:
        section = getattr(settings, name)
        values.update({f"{name}.{f.name}": getattr(section, f.name) for f in fields(section)})
    for where, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        shown = value if isinstance(value, int) else f"{value:g}"
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, not {shown}")
        low, high, above = _RANGES.get(where, (0, None, False))
        if above and value <= low:
            raise ConfigError(f"{where} must be greater than {low:g}, not {shown}")
        if value < low or (high is not None and value > high):
            wanted = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"
            raise ConfigError(f"{where} must be {wanted}, not {shown}")
    if settings.chunk.max_words < settings.chunk.min_words:
        raise ConfigError(f"chunk.max_words ({settings.chunk.max_words}) must be at least "
                          f"chunk.min_words ({settings.chunk.min_words})")
