"""Sources listed in config: `[index] sources` in settings.toml and the feeds in feeds.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from .errors import ConfigError
from .settings import Settings

FEEDS_ENV = "DOCKET_FEEDS"


def feeds_file() -> Path | None:
    env = os.environ.get(FEEDS_ENV)
    if env:
        return Path(env)
    local = Path("config/feeds.toml")
    return local if local.is_file() else None


def load_feeds(path: Path | None = None) -> list[dict[str, object]]:
    path = path or feeds_file()
    if path is None:
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    feeds = data.get("feed", [])
    if not isinstance(feeds, list):
        raise ConfigError(f"{path}: [[feed]] entries expected")
    for feed in feeds:
        if not isinstance(feed, dict) or not str(feed.get("url", "")).startswith(("http://", "https://")):
            raise ConfigError(f"{path}: every [[feed]] needs an http(s) url")
    return feeds


def configured_sources(settings: Settings) -> list[str]:
    return list(settings.sources) + [str(f["url"]) for f in load_feeds()]
