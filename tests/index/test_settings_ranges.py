"""Settings out of their range are refused at start-up, in one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import settings as settings_mod
from index.errors import ConfigError
from index.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "settings.toml"


def load(tmp_path: Path, **env: str) -> settings_mod.Settings:
    return load_settings(config=CONFIG, data_dir=tmp_path, environ=env)


@pytest.mark.parametrize("key, value, message", [
    ("DOCKET__SEARCH__RESULTS", "-2", "search.results must be 1 or more, not -2"),
    ("DOCKET__SEARCH__RESULTS", "0", "search.results must be 1 or more, not 0"),
    ("DOCKET__SEARCH__DENSE_K", "0", "search.dense_k must be 1 or more, not 0"),
    ("DOCKET__SEARCH__MIN_RELEVANCE", "1.5", "search.min_relevance must be between -1 and 1, not 1.5"),
    ("DOCKET__SEARCH__MIN_RELEVANCE", "nan", "search.min_relevance must be a finite number, not nan"),
    ("DOCKET__SEARCH__DEDUPE_SIMILARITY", "2", "search.dedupe_similarity must be between 0 and 1, not 2"),
    ("DOCKET__SEARCH__STALE_AFTER_DAYS", "-30", "search.stale_after_days must be 0 or more, not -30"),
    ("DOCKET__FETCH__TIMEOUT_S", "0", "fetch.timeout_s must be greater than 0, not 0"),
    ("DOCKET__FETCH__TIMEOUT_S", "inf", "fetch.timeout_s must be a finite number, not inf"),
    ("DOCKET__FETCH__MAX_BYTES", "-1", "fetch.max_bytes must be 1 or more, not -1"),
    ("DOCKET__FETCH__PER_HOST_DELAY_S", "-1", "fetch.per_host_delay_s must be 0 or more, not -1"),
    ("DOCKET__MODEL__BATCH_SIZE", "0", "model.batch_size must be 1 or more, not 0"),
    ("DOCKET__MODEL__MAX_SEQ_LENGTH", "100000", "model.max_seq_length must be between 1 and 512, not 100000"),
    ("DOCKET__CHUNK__OVERLAP_SENTENCES", "-1", "chunk.overlap_sentences must be 0 or more, not -1"),
    ("DOCKET__INDEX__KEEP_SNAPSHOTS", "0", "index.keep_snapshots must be 1 or more, not 0"),
])
def test_an_out_of_range_setting_is_refused_naming_the_key(tmp_path: Path, key: str, value: str,
                                                           message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **{key: value})
    assert str(caught.value) == message


def test_passages_cannot_be_shorter_at_most_than_at_least(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^chunk.max_words \(10\) must be at least chunk.min_words \(40\)$"):
        load(tmp_path, DOCKET__CHUNK__MAX_WORDS="10")


def test_true_is_not_a_number(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[search]\nresults = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^search.results: expected a number, got True$"):
        load_settings(config=config, data_dir=tmp_path, environ={})


def test_the_edges_of_each_range_are_accepted(tmp_path: Path) -> None:
    settings = load(tmp_path, DOCKET__SEARCH__RESULTS="1", DOCKET__SEARCH__MIN_RELEVANCE="-1",
                    DOCKET__SEARCH__DEDUPE_SIMILARITY="1", DOCKET__MODEL__MAX_SEQ_LENGTH="512",
                    DOCKET__CHUNK__MAX_WORDS="40", DOCKET__FETCH__PER_HOST_DELAY_S="0")
    assert settings.search.results == 1 and settings.search.min_relevance == -1.0
    assert settings.chunk.max_words == settings.chunk.min_words == 40


def test_the_committed_settings_are_in_range(tmp_path: Path) -> None:
    assert load(tmp_path).search.results >= 1


def test_every_range_names_a_real_setting() -> None:
    defaults = settings_mod.Settings()
    for where in settings_mod._RANGES:
        section, _, name = where.partition(".")
        owner = defaults if section == "index" else getattr(defaults, section)
        assert hasattr(owner, name), where
