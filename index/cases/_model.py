"""What the case finder reads and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    """What the case finder needs of one story (the caller adapts its rows to this)."""

    story_id: str
    title: str
    text: str
    published: str | None  # ISO date, YYYY-MM-DD
    outlet: str = ""
    url: str = ""


@dataclass(frozen=True)
class Case:
    """One proceeding and the stories that report on it, oldest first."""

    key: str
    name: str
    aliases: tuple[str, ...]
    story_ids: tuple[str, ...]
    first: str | None  # ISO date of the oldest story
    last: str | None  # ISO date of the newest story
    plaintiffs: tuple[str, ...] = ()
    defendants: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    story_id: str
    date: str | None
    sentence: str  # an exact substring of the story's text
    outlet: str
    url: str
