"""The bot's typed settings: the `[bot]` table of config/settings.toml, the environment and `.env`.

Precedence, highest first: the environment (`DISCORD_TOKEN`, `DISCORD_GUILD_ID`,
`DOCKET_OWNER_IDS`, or `DOCKET__BOT__KEY` for any key), then `.env` (loaded by
`python -m bot` without overriding the environment), then the `[bot]` table,
then the defaults below. The token is wrapped in `Secret` so that no repr, log
line or error message can show it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from index import ConfigError, find_config, read_toml

TOKEN_ENV = "DISCORD_TOKEN"
GUILD_ENV = "DISCORD_GUILD_ID"
OWNERS_ENV = "DOCKET_OWNER_IDS"
ENV_PREFIX = "DOCKET__BOT__"

QUESTION_MAX_CHARS = 300  # the /ask option's limit, fixed by the issue and the command schema
# /latest's days and count options go from 1 to these, in Discord and in the terminal session.
LATEST_DAYS_MAX = 3650
LATEST_COUNT_MAX = 10


class Secret:
    """A string that never shows itself: repr, str and format all print asterisks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:  # no pickling a secret into a cache or a log by accident
        raise TypeError("Secret cannot be pickled")


@dataclass(frozen=True)
class BotSettings:
    """Everything `bot/` reads from config; the index has its own `index.settings.Settings`."""

    token: Secret | None = None
    guild_id: int | None = None
    # Where @mentions and replies are answered: ("all",), () for nowhere, or channel ids/names.
    answer_channels: tuple[str, ...] = ("all",)
    thread_answers: bool = False
    message_content: bool = True
    owner_ids: frozenset[int] = frozenset()
    admin_roles: tuple[str, ...] = ("Docket Admin",)
    cooldown_rate: int = 3
    cooldown_per_s: float = 30.0
    max_concurrent_searches: int = 4
    max_waiting_searches: int = 200
    reload_interval_s: float = 5.0
    progress_interval_s: float = 3.0
    sync_commands: bool = True
    latest_count: int = 5
    status_latency_window: int = 50
    guild_ready_timeout_s: float = 2.0
    # Feeds: poll them in this process (off when a separate `python -m index watch` runs),
    # and every feed_interval_s seconds poll what is due, reload, post to subscribed channels.
    poll_feeds: bool = True
    feed_interval_s: float = 60.0
    # A story matches a channel's topic when the topic appears in it as words, or when the
    # cosine similarity of the topic and one of its passages is at least this.
    topic_min_similarity: float = 0.35
    # Subscribed channels get at most this many stories a minute; the rest wait their turn.
    posts_per_minute: int = 5
    # A subscription is turned off after this many failed posts in a row (no permission...).
    subscription_max_failures: int = 3
    # Where the bot writes its own files (bot.sqlite, command-sync.json); None: the data dir.
    # Set it when the index directory is shared or read-only.
    state_dir: Path | None = None

    def replace(self, **changes: Any) -> BotSettings:
        return dataclasses.replace(self, **changes)

    def state_path(self, data_dir: Path) -> Path:
        return self.state_dir if self.state_dir is not None else data_dir

    def answers_in(self, channel_id: int, channel_name: str | None,
                   parent_id: int | None = None, parent_name: str | None = None) -> bool:
        """Whether chat questions are answered in this channel (a thread follows its parent)."""
        allowed = {c.lower().lstrip("#") for c in self.answer_channels}
        if "all" in allowed:
            return True
        names = {str(channel_id), (channel_name or "").lower()}
        if parent_id is not None:
            names |= {str(parent_id), (parent_name or "").lower()}
        return bool(allowed & (names - {""}))

    @property
    def answers_anywhere(self) -> bool:
        return bool(self.answer_channels)


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _snowflake(value: Any, where: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: expected a Discord id (a number), got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{where}: expected a Discord id (a positive number), got {value!r}")
    return number


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ConfigError(f"{where}: expected a list, got {value!r}")


def _coerce(name: str, value: Any) -> Any:
    where = f"bot.{name}"
    default = getattr(BotSettings(), name)
    if name == "owner_ids":
        return frozenset(_snowflake(v, where) for v in _strings(value, where))
    if name == "guild_id":
        return _snowflake(value, where) if str(value).strip() else None
    if name == "state_dir":
        return Path(str(value)) if str(value).strip() else None
    if name == "answer_channels":
        if isinstance(value, str) and value.strip().lower() in {"all", "none"}:
            return ("all",) if value.strip().lower() == "all" else ()
        return _strings(value, where)
    if isinstance(default, bool):
        return _bool(value, where)
    if isinstance(default, tuple):
        return _strings(value, where)
    if isinstance(value, bool):  # TOML true is not 1
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    try:
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    raise ConfigError(f"{where}: cannot be set in config")


def load_bot_settings(config: Path | None = None,
                      environ: Mapping[str, str] | None = None) -> BotSettings:
    """Read the `[bot]` table and the environment; ConfigError names the bad key."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    path = find_config(config)
    if path is not None:
        data = read_toml(path)
        section = data.get("bot", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [bot] must be a table")
        raw.update(section)
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            raw[key[len(ENV_PREFIX):].lower()] = value
    if env.get(OWNERS_ENV):
        raw["owner_ids"] = env[OWNERS_ENV]
    if env.get(GUILD_ENV):
        raw["guild_id"] = env[GUILD_ENV]
    configurable = {f.name for f in fields(BotSettings)} - {"token"}
    unknown = set(raw) - configurable
    if unknown:
        raise ConfigError(f"bot: unknown setting(s) {', '.join(sorted(unknown))}")
    values = {name: _coerce(name, value) for name, value in raw.items()}
    token = env.get(TOKEN_ENV, "").strip()
    settings = BotSettings(token=Secret(token) if token else None, **values)
    _validate(settings)
    return settings


def _validate(s: BotSettings) -> None:
    for f in fields(s):
        value = getattr(s, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"bot.{f.name} must be a finite number, not {value}")
    positive = {"cooldown_rate": s.cooldown_rate, "cooldown_per_s": s.cooldown_per_s,
                "max_concurrent_searches": s.max_concurrent_searches,
                "reload_interval_s": s.reload_interval_s,
                "progress_interval_s": s.progress_interval_s,
                "status_latency_window": s.status_latency_window,
                "feed_interval_s": s.feed_interval_s, "posts_per_minute": s.posts_per_minute,
                "subscription_max_failures": s.subscription_max_failures}
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"bot.{name} must be greater than 0, not {value}")
    if s.max_waiting_searches < 0:
        raise ConfigError(f"bot.max_waiting_searches must be 0 or more, not {s.max_waiting_searches}")
    if not 1 <= s.latest_count <= LATEST_COUNT_MAX:
        raise ConfigError(f"bot.latest_count must be between 1 and {LATEST_COUNT_MAX}, "
                          f"not {s.latest_count}")
    if not -1.0 <= s.topic_min_similarity <= 1.0:
        raise ConfigError("bot.topic_min_similarity is a cosine similarity, between -1 and 1")
    if s.guild_ready_timeout_s < 0:
        raise ConfigError("bot.guild_ready_timeout_s must be 0 or more")
    if s.token is not None and any(ch.isspace() for ch in s.token.get_secret_value()):
        raise ConfigError(f"{TOKEN_ENV} contains whitespace; paste the token alone")
