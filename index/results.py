"""What a search returns: plain data, shared by the CLI (as JSON) and the bot (as embeds)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    url: str
    title: str
    outlet: str
    published: str | None
    snippet: str
    score: float
    relevance: float
    highlights: list[tuple[int, int]] = field(default_factory=list)
    leading_ellipsis: bool = False
    trailing_ellipsis: bool = False
    also_reported_by: list[str] = field(default_factory=list)
    also_reported_by_outlets: list[str] = field(default_factory=list)
    article_id: int = 0
    passage_id: int = 0
    snippet_start: int = 0
    # The snippet holds the kind of fact the question asks for (an amount for "how
    # much", a date for "when"); True when the question asks for no particular kind.
    carries_fact: bool = True
    # Where the snippet is in the article: one (start, end) span, or two when the quote
    # joins two sentences from different parts of it with " … ".
    parts: list[tuple[int, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["highlights"] = [list(h) for h in self.highlights]
        data["parts"] = [list(p) for p in self.parts]
        return data


@dataclass
class SearchResponse:
    query: str
    abstained: bool
    results: list[Result]
    notice: str | None = None  # e.g. "the newest report on this is from March"
    error: str | None = None  # a question that could not be searched
    date_filter: str | None = None
    latest: bool = False
    has_more: bool = False
    passages_searched: int = 0
    snapshot: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query, "abstained": self.abstained,
            "results": [r.to_json() for r in self.results], "notice": self.notice,
            "error": self.error, "date_filter": self.date_filter, "latest": self.latest,
            "has_more": self.has_more, "passages_searched": self.passages_searched,
            "snapshot": self.snapshot, "timings_ms": self.timings_ms,
        }


@dataclass(frozen=True)
class IndexStats:
    """The live snapshot's size and freshness, and the last refused reload."""

    articles: int
    passages: int
    stories: int
    snapshot: str
    built_at: str | None
    age_seconds: float | None
    model: str | None
    vector_index: str | None
    last_ingest: dict[str, Any] | None
    outlets: list[tuple[str, int]] = field(default_factory=list)  # most articles first
    reload_error: str | None = None
