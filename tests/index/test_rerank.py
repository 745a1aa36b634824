"""The optional cross-encoder stage: loading offline, scoring, and falling back with one warning."""

from __future__ import annotations

import logging
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.embed import model_path
from index.errors import ConfigError
from index.rerank import Reranker, load_reranker
from index.settings import RerankSettings, load_settings

REPO = Path(__file__).resolve().parents[2]

QUESTION = "What did Japan ask OpenAI to do about Sora 2?"
TEXTS = [
    "Japan's government formally asked OpenAI to refrain from copyright infringement with Sora 2.",
    "Getty Images largely lost its case against Stability AI at the High Court in London.",
    "A judge ruled that training on lawfully bought books was fair use.",
    "The weather in Osaka was mild for the season.",
]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse (and record) every outgoing connection, so a test can show none was tried."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache of the test's own, instead of the user's."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def logits_of(model_dir: Path, question: str, texts: list[str]) -> np.ndarray:
    """The model's raw outputs, computed with transformers alone (the oracle)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir)).eval()
    batch = tokenizer([question] * len(texts), texts, padding=True, truncation=True,
                      max_length=256, return_tensors="pt")
    with torch.inference_mode():
        return np.asarray(model(**batch).logits.numpy(), dtype=np.float64)


def build_classifier(target: Path, num_labels: int) -> Path:
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    with torch.random.fork_rng():
        torch.manual_seed(1)
        model = BertForSequenceClassification.from_pretrained(str(model_path()),
                                                              num_labels=num_labels)
    model.save_pretrained(str(target))
    AutoTokenizer.from_pretrained(str(model_path())).save_pretrained(str(target))
    return target


# --------------------------------------------------------------------------- scoring

def test_scores_one_value_in_0_1_per_text(reranker: Reranker) -> None:
    scores = reranker.score(QUESTION, TEXTS)
    assert len(scores) == len(TEXTS)
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)


def test_scores_are_deterministic_and_differ_between_texts(reranker: Reranker) -> None:
    first = reranker.score(QUESTION, TEXTS)
    assert reranker.score(QUESTION, TEXTS) == first
    assert len({round(s, 6) for s in first}) == len(TEXTS)


def test_scores_are_the_sigmoid_of_the_models_logit(reranker: Reranker,
                                                    cross_encoder_dir: Path) -> None:
    expected = 1.0 / (1.0 + np.exp(-logits_of(cross_encoder_dir, QUESTION, TEXTS)[:, 0]))
    np.testing.assert_allclose(reranker.score(QUESTION, TEXTS), expected, atol=1e-5)


def test_batching_does_not_change_a_score(reranker: Reranker) -> None:
    together = reranker.score(QUESTION, TEXTS)
    alone = [reranker.score(QUESTION, [text])[0] for text in TEXTS]
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_no_texts_no_scores(reranker: Reranker) -> None:
    assert reranker.score(QUESTION, []) == []


def test_a_huge_text_is_cut_to_the_token_limit(reranker: Reranker) -> None:
    passage = " ".join(TEXTS)
    huge = " ".join([passage] * 2000)  # about 60,000 words, far past the 512 positions of BERT
    long_enough = " ".join([passage] * 20)  # already longer than 256 tokens
    assert reranker.score(QUESTION, [huge]) == pytest.approx(reranker.score(QUESTION, [long_enough]),
                                                             abs=1e-6)


def test_words_past_max_length_do_not_count(cross_encoder_dir: Path) -> None:
    words = " ".join(TEXTS).split()
    body = " ".join((words * 10)[:250])  # with the question: over 128 tokens, under 512
    tails = [body + " The court agreed.", body + " Nobody in Osaka cared at all about it."]
    short = load_reranker(RerankSettings(model=str(cross_encoder_dir), max_length=128))
    full = load_reranker(RerankSettings(model=str(cross_encoder_dir), max_length=512))
    assert short is not None and full is not None
    first, second = short.score(QUESTION, tails)
    assert first == pytest.approx(second, abs=1e-6)
    first, second = full.score(QUESTION, tails)
    assert first != pytest.approx(second, abs=1e-6)


def test_concurrent_calls_get_the_same_scores(reranker: Reranker) -> None:
    expected = reranker.score(QUESTION, TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: reranker.score(QUESTION, TEXTS), range(12)))
    for got in results:
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_a_two_class_model_scores_the_probability_of_the_second_class(tmp_path: Path) -> None:
    model_dir = build_classifier(tmp_path / "two-class", num_labels=2)
    loaded = load_reranker(RerankSettings(model=str(model_dir)))
    assert loaded is not None
    logits = logits_of(model_dir, QUESTION, TEXTS)
    expected = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    np.testing.assert_allclose(loaded.score(QUESTION, TEXTS), expected, atol=1e-5)


# --------------------------------------------------------------------------- loading

def test_off_by_default_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert load_reranker(RerankSettings()) is None
    assert load_reranker(RerankSettings(model="  ")) is None
    assert caplog.records == []


def test_a_local_directory_loads(cross_encoder_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    loaded = load_reranker(RerankSettings(model=str(cross_encoder_dir), candidates=5))
    assert isinstance(loaded, Reranker)
    assert loaded.source == cross_encoder_dir
    assert loaded.settings.candidates == 5
    assert warnings_of(caplog) == []


def test_a_missing_local_path_warns_once_and_falls_back(tmp_path: Path, no_network: list[Any],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "models" / "ms-marco"
    assert load_reranker(RerankSettings(model=str(missing))) is None
    [warning] = warnings_of(caplog)
    text = warning.getMessage()
    assert str(missing) in text and "no such directory" in text
    assert "answers use the normal ranking" in text and "\n" not in text
    assert no_network == []


def test_an_uncached_hub_name_warns_once_without_any_connection(
        hf_cache: Path, no_network: list[Any], caplog: pytest.LogCaptureFixture) -> None:
    assert load_reranker(RerankSettings(model="cross-encoder/ms-marco-MiniLM-L6-v2")) is None
    [warning] = warnings_of(caplog)
    text = warning.getMessage()
    assert "'cross-encoder/ms-marco-MiniLM-L6-v2'" in text
    assert str(hf_cache) in text and "never downloaded" in text
    assert "answers use the normal ranking" in text and "\n" not in text
    assert no_network == []


def test_a_cached_hub_name_loads_from_the_cache(hf_cache: Path, cross_encoder_dir: Path,
                                                reranker: Reranker, no_network: list[Any],
                                                caplog: pytest.LogCaptureFixture) -> None:
    # The layout huggingface_hub leaves after a download: a snapshot per commit, refs/main.
    repo = hf_cache / "models--docket-tests--tiny-cross-encoder"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(cross_encoder_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    loaded = load_reranker(RerankSettings(model="docket-tests/tiny-cross-encoder"))
    assert loaded is not None
    assert loaded.source == repo / "snapshots" / commit
    np.testing.assert_allclose(loaded.score(QUESTION, TEXTS), reranker.score(QUESTION, TEXTS),
                               atol=1e-6)
    assert warnings_of(caplog) == [] and no_network == []


def test_an_embedding_model_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    # It would load as a cross-encoder with an untrained head and score at random.
    assert load_reranker(RerankSettings(model=str(model_path()))) is None
    [warning] = warnings_of(caplog)
    assert "not a cross-encoder" in warning.getMessage()


def test_a_model_with_many_classes_is_refused(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    model_dir = build_classifier(tmp_path / "three-class", num_labels=3)
    assert load_reranker(RerankSettings(model=str(model_dir))) is None
    [warning] = warnings_of(caplog)
    assert "3 outputs" in warning.getMessage()


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"\0" * 64)
    assert load_reranker(RerankSettings(model=str(bogus))) is None
    [warning] = warnings_of(caplog)
    assert "not a directory" in warning.getMessage()


# --------------------------------------------------------------------------- settings

def test_reranking_is_off_in_the_documented_defaults() -> None:
    settings = load_settings(config=REPO / "config" / "settings.toml", environ={})
    assert settings.rerank == RerankSettings()
    assert settings.rerank.model == ""


def test_rerank_settings_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[rerank]\nmodel = "/models/ms-marco"\ncandidates = 20\nsentences = 4\n'
                      'weight = 0.8\n', encoding="utf-8")
    rerank = load_settings(config=config, environ={}).rerank
    assert rerank == RerankSettings(model="/models/ms-marco", candidates=20, sentences=4,
                                    weight=0.8)


def test_rerank_settings_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[rerank]\nmodel = "/models/a"\n', encoding="utf-8")
    rerank = load_settings(config=config, environ={
        "DOCKET__RERANK__MODEL": "cross-encoder/ms-marco-MiniLM-L6-v2",
        "DOCKET__RERANK__CANDIDATES": "12", "DOCKET__RERANK__WEIGHT": "1"}).rerank
    assert rerank.model == "cross-encoder/ms-marco-MiniLM-L6-v2"
    assert rerank.candidates == 12 and rerank.weight == 1.0


def test_an_unknown_rerank_setting_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[rerank]\nmodle = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="modle"):
        load_settings(config=config, environ={})
