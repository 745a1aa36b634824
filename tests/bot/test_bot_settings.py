"""Bot settings: the [bot] table, the environment, and a token that never shows itself."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from docket_harness import CONFIG

from bot.logs import REDACTED, RedactingFormatter
from bot.settings import BotSettings, Secret, load_bot_settings
from index.errors import ConfigError

TOKEN = "MTA4.fake-token.Gx_Y-zZ"


def test_the_committed_bot_section_is_the_defaults() -> None:
    assert load_bot_settings(CONFIG, environ={}) == BotSettings()


def test_token_never_appears_in_repr_str_or_format() -> None:
    settings = load_bot_settings(CONFIG, environ={"DISCORD_TOKEN": TOKEN})
    assert settings.token is not None and settings.token.get_secret_value() == TOKEN
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings.token}",
                  str(settings.token), repr(settings.token), f"{settings} {settings.token!r}"):
        assert TOKEN not in shown
    with pytest.raises(TypeError):
        pickle.dumps(settings.token)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[bot]\nanswer_channels = ["news", 123]\nowner_ids = [1]\n'
                      'thread_answers = true\ncooldown_rate = 2\n', encoding="utf-8")
    env = {"DISCORD_GUILD_ID": "42", "DOCKET_OWNER_IDS": "7, 8", "DOCKET__BOT__COOLDOWN_PER_S": "9.5"}
    s = load_bot_settings(config, environ=env)
    assert s.guild_id == 42 and s.owner_ids == frozenset({7, 8})
    assert s.answer_channels == ("news", "123") and s.thread_answers is True
    assert s.cooldown_rate == 2 and s.cooldown_per_s == 9.5
    assert s.token is None


@pytest.mark.parametrize(("body", "message"), [
    ("[bot]\nbogus = 1\n", "unknown setting"),
    ("[bot]\nowner_ids = ['me']\n", "bot.owner_ids"),
    ("[bot]\ncooldown_rate = 0\n", "cooldown_rate must be greater than 0"),
    ("[bot]\nthread_answers = 'maybe'\n", "bot.thread_answers"),
    ("[bot]\nlatest_count = 50\n", "latest_count"),
    ("bot = 3\n", "must be a table"),
])
def test_bad_settings_fail_with_the_key_named(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_bot_settings(config, environ={})


def test_answer_channels_all_none_or_named() -> None:
    everywhere = BotSettings()
    assert everywhere.answers_in(1, "general")
    nowhere = load_bot_settings(None, environ={"DOCKET__BOT__ANSWER_CHANNELS": "none"})
    assert not nowhere.answers_anywhere and not nowhere.answers_in(1, "general")
    listed = BotSettings(answer_channels=("#AI-News", "55"))
    assert listed.answers_in(1, "ai-news") and listed.answers_in(55, "x")
    assert not listed.answers_in(2, "general")
    assert listed.answers_in(3, "a-thread", parent_id=55, parent_name="x")  # threads follow parents


def test_secret_compares_by_value_without_showing_it() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert not Secret("")


def test_log_lines_and_tracebacks_are_redacted() -> None:
    formatter = RedactingFormatter("%(message)s", [TOKEN])
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token=%s", (TOKEN,),
                                   sys.exc_info())
    text = formatter.format(record)
    assert TOKEN not in text and text.count(REDACTED) == 2
