"""Out-of-range numbers are refused in one line: in the [bot] settings and in the terminal
session's `/latest` options (which never turn into part of the topic)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from docket_harness import CONFIG, bot_config, index_settings

from bot import terminal
from bot.service import open_service
from bot.settings import LATEST_COUNT_MAX, LATEST_DAYS_MAX, load_bot_settings
from index.embed import Encoder
from index.errors import ConfigError


@pytest.mark.parametrize("key, value, message", [
    ("COOLDOWN_PER_S", "nan", "bot.cooldown_per_s must be a finite number, not nan"),
    ("FEED_INTERVAL_S", "inf", "bot.feed_interval_s must be a finite number, not inf"),
    ("GUILD_READY_TIMEOUT_S", "nan", "bot.guild_ready_timeout_s must be a finite number, not nan"),
    ("RELOAD_INTERVAL_S", "-inf", "bot.reload_interval_s must be a finite number, not -inf"),
    ("LATEST_COUNT", "11", f"bot.latest_count must be between 1 and {LATEST_COUNT_MAX}, not 11"),
])
def test_a_number_out_of_range_is_refused_naming_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_bot_settings(CONFIG, environ={f"DOCKET__BOT__{key}": value})
    assert str(caught.value) == message


def test_true_is_not_a_number(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[bot]\ncooldown_rate = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bot.cooldown_rate: expected a number, got True$"):
        load_bot_settings(config, environ={})


def test_numbers_in_range_are_accepted() -> None:
    settings = load_bot_settings(CONFIG, environ={"DOCKET__BOT__COOLDOWN_PER_S": "0.5",
                                                  "DOCKET__BOT__LATEST_COUNT": "10"})
    assert settings.cooldown_per_s == 0.5 and settings.latest_count == 10


# --------------------------------------------------------------------------- terminal /latest

@pytest_asyncio.fixture(loop_scope="function")
async def session(encoder: Encoder, sample_index: Path, tmp_path: Path) -> AsyncIterator[terminal.Session]:
    service = await open_service(index_settings(sample_index), bot_config(state_dir=tmp_path), encoder)
    try:
        yield terminal.Session(service)
    finally:
        await service.close()


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("line, option, value", [
    ("/latest sora days:-3", "days", "-3"),
    ("/latest days:0 sora", "days", "0"),
    (f"/latest sora days:{LATEST_DAYS_MAX + 1}", "days", str(LATEST_DAYS_MAX + 1)),
    ("/latest sora days:soon", "days", "soon"),
    ("/latest sora count:0", "count", "0"),
    (f"/latest count:{LATEST_COUNT_MAX + 1}", "count", str(LATEST_COUNT_MAX + 1)),
    ("/latest COUNT:-1", "count", "-1"),
])
async def test_latest_refuses_an_out_of_range_option_in_one_line(
        session: terminal.Session, line: str, option: str, value: str) -> None:
    out = await session.handle(line)
    assert out is not None
    assert len(out.splitlines()) == 1, out
    assert option in out and value in out
    assert "Latest developments" not in out and "Nothing in the news index" not in out


@pytest.mark.asyncio(loop_scope="function")
async def test_latest_options_in_range_are_options_not_topic(session: terminal.Session) -> None:
    out = await session.handle(f"/latest sora days:{LATEST_DAYS_MAX} count:2")
    assert out is not None
    assert "“sora”" in out and "days:" not in out and "count:" not in out
    assert str(LATEST_DAYS_MAX) in out  # the window shown is the one asked for
