"""`python -m bot` as a newcomer and CI run it: the terminal session and `--check`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docket_harness import (
    CONFIG,
    JAPAN,
    REPO,
    bot_config,
    index_settings,
    published_manifest,
    published_outlets,
    sample_article_count,
    sample_subset,
)

from bot import terminal
from bot.service import open_service
from index.embed import Encoder

SECRET = "MTEx.never-log-me.Zz9_secret-token-value"


def run_bot(args: list[str], *, data_dir: Path, cwd: Path, stdin: str = "",
            env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m bot` in a clean directory (no developer .env), with the repo's config."""
    base = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    base.update({"PYTHONPATH": str(REPO), "DOCKET_CONFIG": str(CONFIG),
                 "DOCKET_DATA_DIR": str(data_dir), "NO_COLOR": "1"})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=base, timeout=timeout)


def test_terminal_session_answers_from_a_pipe(sample_copy: Path, tmp_path: Path) -> None:
    lines = [JAPAN, "/more", "/latest music days:3650 count:2", "/status", "/sources",
             "What is the best recipe for banana bread?", "/bogus", "/quit", "never read"]
    proc = run_bot([], data_dir=sample_copy, cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # Expected counts from the corpus's files and the snapshot's manifest and tables.
    articles, passages = sample_article_count(), published_manifest(sample_copy)["passages"]
    assert out.startswith(f"Docket, terminal mode (no DISCORD_TOKEN): {articles} articles")
    assert "Ready in" in out.splitlines()[0]
    assert "“The Japanese government has lodged a formal request with OpenAI" in out
    assert "1. Japan formally asks OpenAI to keep Sora 2 from infringing anime and manga" in out
    assert "\n  4. " in out  # /more continued the numbering
    assert "Latest developments on “music”" in out and "Warner Music settles with Suno" in out
    assert f"articles {articles:,} · passages {passages:,}" in out
    assert f"GamesRadar+: {published_outlets(sample_copy)['GamesRadar+']}" in out
    assert "I found nothing in the news index about that." in out
    assert "Unknown command /bogus" in out
    assert "never read" not in out and "\x1b[" not in out


def test_check_builds_everything_without_logging_in(sample_index: Path, tmp_path: Path) -> None:
    before = sorted(p.name for p in sample_index.iterdir())
    # The token comes from .env in the working directory, as for a developer.
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={SECRET}\nDISCORD_GUILD_ID=123\n",
                                   encoding="utf-8")
    proc = run_bot(["--check"], data_dir=sample_index, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("OK: 12 commands (ask, case, feeds, help, "
                                                   "latest, reindex, sources, status, subscribe, "
                                                   "sync, trends, unsubscribe)")
    assert "token set" in lines[0]
    assert SECRET not in proc.stdout + proc.stderr
    assert "logging in" not in proc.stderr  # never contacted Discord
    assert sorted(p.name for p in sample_index.iterdir()) == before  # wrote nothing


def test_a_bad_config_fails_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "settings.toml"
    bad.write_text("[bot]\ncooldown_rate = -1\n", encoding="utf-8")
    proc = run_bot(["--check"], data_dir=tmp_path, cwd=tmp_path,
                   env={"DOCKET_CONFIG": str(bad), "DISCORD_TOKEN": SECRET})
    assert proc.returncode == 2
    assert proc.stderr.strip() == "configuration error: bot.cooldown_rate must be greater than 0, not -1"


@pytest.mark.asyncio(loop_scope="function")
async def test_first_run_builds_the_sample_index(encoder: Encoder, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A few sample articles keep this quick; the code path is the real first run.
    monkeypatch.setattr(terminal, "sample_dir", lambda: sample_subset(tmp_path / "sample", 4))
    settings = index_settings(tmp_path / "var")
    service = await open_service(settings, bot_config(state_dir=tmp_path / "state"), encoder)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        code = await terminal.run_terminal(service, stdin=io.StringIO("/status\n"), stdout=stdout,
                                           stderr=stderr)
    finally:
        await service.close()
    assert code == 0
    assert "building one from the bundled sample corpus" in stderr.getvalue()
    assert "articles: 4 new" in stderr.getvalue()
    assert "articles 4 · passages" in stdout.getvalue()


@pytest.mark.asyncio(loop_scope="function")
async def test_terminal_session_survives_hostile_lines(encoder: Encoder, sample_index: Path,
                                                       tmp_path: Path) -> None:
    service = await open_service(index_settings(sample_index),
                                 bot_config(state_dir=tmp_path), encoder)
    session = terminal.Session(service)
    try:
        for line in ("x" * 10_000, "   ", "\u200b\u202e🙂", 'NEAR("a" "b") OR * -x:', "/latest days:0",
                     "'; DROP TABLE articles; --", "/ask", "@everyone ```"):
            out = await session.handle(line)
            assert out is not None and "Traceback" not in out and "\x1b" not in out
        assert await session.handle("/more") is not None
        assert await session.handle("/quit") is None
    finally:
        await service.close()
