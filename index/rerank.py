"""The optional second stage: a cross-encoder re-scores the best candidates, offline.

A cross-encoder reads the question and a text together, which ranks better than
comparing two separately computed vectors but costs a model call per pair, so it only
sees the top candidates (``[rerank]`` in config/settings.toml). The model is a
sentence-transformers ``CrossEncoder`` from a local directory or from the local
Hugging Face cache; nothing is ever downloaded. A model that cannot be loaded is
reported with one warning and search goes on without it.

Scores are in 0..1 (the sigmoid of a one-output model's logit, or the probability of
the second class of a two-output one), so they can be mixed with cosine relevance.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .settings import RerankSettings

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

log = logging.getLogger(__name__)

BATCH_SIZE = 32
# Texts are cut to this many characters per token of max_length before tokenizing: far
# above English's 4-5 characters a token, so the token limit is what truncates, but a
# hostile megabyte-long "sentence" costs the tokenizer no more than a long passage.
CHARS_PER_TOKEN = 8
# What a model hub name looks like ("org/name" or a legacy bare "name"); anything else
# that is not a directory is a mistyped path.
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class _Unusable(Exception):
    """Why the configured model cannot be used, in words for the log."""


class Reranker:
    """Scores how well texts answer a question with a cross-encoder (0..1, higher is better).

    ``score`` is blocking CPU work: async callers run it with ``asyncio.to_thread``.
    Calls are serialized by a lock: a Hugging Face fast tokenizer raises "Already
    borrowed" when one instance truncates for two threads at once, and torch already
    spreads one call over every core, so concurrent calls would gain nothing.
    """

    def __init__(self, model: CrossEncoder, settings: RerankSettings, source: Path) -> None:
        self.settings = settings
        self.name = settings.model
        self.source = source  # the directory the model was read from
        self._model = model
        self._max_chars = settings.max_length * CHARS_PER_TOKEN
        self._lock = threading.Lock()

    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        """One score in 0..1 per text, in the order given; deterministic for equal input."""
        if not texts:
            return []
        cap = self._max_chars
        pairs = [(question[:cap], text[:cap]) for text in texts]
        with self._lock:
            logits = self._model.predict(pairs, batch_size=BATCH_SIZE, show_progress_bar=False,
                                         convert_to_numpy=True)
        return _normalize(np.asarray(logits, dtype=np.float64)).tolist()


def _normalize(logits: np.ndarray) -> np.ndarray:
    if logits.ndim == 2 and logits.shape[1] == 2:
        # Two classes (not relevant, relevant): softmax probability of the second.
        return 0.5 * (1.0 + np.tanh((logits[:, 1] - logits[:, 0]) / 2.0))
    # One logit per pair; tanh form of the sigmoid, which cannot overflow.
    return 0.5 * (1.0 + np.tanh(logits.reshape(len(logits)) / 2.0))


def load_reranker(settings: RerankSettings) -> Reranker | None:
    """The configured cross-encoder, or None when reranking is off or the model is unusable.

    Blocking (reads the model and scores one pair to warm it up): call it once at
    start-up, off the event loop. Never downloads: a hub name must already be in the
    local Hugging Face cache.
    """
    name = settings.model.strip()
    if not name:
        return None
    started = time.perf_counter()
    try:
        reranker = _load(name, settings)
    except Exception as exc:  # whatever went wrong, the answer is the same: no reranking
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.warning("rerank.model %r cannot be used (%s); answers use the normal ranking",
                    name, reason)
        log.debug("rerank model load failure", exc_info=True)
        return None
    log.info("reranking with %s (from %s), ready in %.1fs", name, reranker.source,
             time.perf_counter() - started)
    return reranker


def _load(name: str, settings: RerankSettings) -> Reranker:
    source = _resolve(name)
    _check_config(source)
    from sentence_transformers import CrossEncoder
    from torch import nn
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = CrossEncoder(str(source), device="cpu", local_files_only=True,
                         activation_fn=nn.Identity())  # logits; _normalize maps them to 0..1
    if model.num_labels not in (1, 2):
        raise _Unusable(f"it has {model.num_labels} outputs; a relevance model has 1 (or 2)")
    if model.max_seq_length is None or model.max_seq_length > settings.max_length:
        model.max_seq_length = settings.max_length
    reranker = Reranker(model, settings, source)
    reranker.score("warm-up", ["warm-up"])  # a model that loads but cannot score fails here
    return reranker


def _resolve(name: str) -> Path:
    """The local directory holding the model: the path itself, or its cached hub snapshot."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise _Unusable(f"{path} is not a directory")
    if not _HUB_NAME.match(name):
        raise _Unusable(f"no such directory: {path}")
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except LocalEntryNotFoundError:
        raise _Unusable(
            f"neither a directory nor in the local Hugging Face cache {constants.HF_HUB_CACHE}, "
            f"and models are never downloaded: fetch it beforehand (hf download {name}) or "
            "give a local path") from None


def _check_config(source: Path) -> None:
    """Refuse a model without a scoring head (an embedding model), which would score at random."""
    config = source / "config.json"
    if not config.is_file():
        raise _Unusable(f"{source} holds no config.json")
    architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    if architectures and not any(a.endswith(("ForSequenceClassification", "ForCausalLM"))
                                 for a in architectures):
        raise _Unusable(f"it is not a cross-encoder ({', '.join(architectures)} has no scoring head)")
