"""Shared fixtures: the real model (loaded once), a real index of the sample corpus (built once).

Every test runs with DOCKET_DATA_DIR pointing at its own temporary directory, so no
test can touch a developer's ./var.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from index.embed import Encoder
from index.ingest import ingest
from index.settings import Settings, load_settings
from index.sources import sample_dir

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    # The real config/feeds.toml names real feeds: no test may read (let alone fetch) it.
    empty = tmp_path / "no-feeds.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("DOCKET_FEEDS", str(empty))


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real packaged all-MiniLM-L6-v2, loaded once per test session."""
    return Encoder()


def make_settings(data_dir: Path, **changes: object) -> Settings:
    settings = load_settings(config=REPO / "config" / "settings.toml", data_dir=data_dir,
                             environ={})
    return settings.replace(**changes) if changes else settings


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """A data directory holding a published index of the bundled sample corpus (read-only)."""
    data_dir = tmp_path_factory.mktemp("sample-index")
    summary = asyncio.run(ingest([str(sample_dir())], make_settings(data_dir), encoder))
    assert summary.failed == 0, summary.failures
    return data_dir


@pytest.fixture
def sample_copy(sample_index: Path, tmp_path: Path) -> Iterator[Path]:
    """A private, writable copy of the sample index for tests that change it."""
    target = tmp_path / "index-copy"
    shutil.copytree(sample_index, target)
    yield target
