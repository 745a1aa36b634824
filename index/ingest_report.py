"""What an ingest reports: its progress as it goes (`ProgressFn`) and its summary at the
end (`IngestSummary`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .sources import skipped_words

# (stage, done, total): "reading sources" counts sources, "embedding" passages; the other
# stages have no counts (0, 0). index.progress shows it.
ProgressFn = Callable[[str, int, int], None]

EXIT_OK, EXIT_PARTIAL, EXIT_ALL_FAILED = 0, 1, 3


@dataclass
class IngestSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    passages_embedded: int = 0
    seconds: float = 0.0
    snapshot: str | None = None
    published: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)
    new_urls: list[str] = field(default_factory=list)
    updated_urls: list[str] = field(default_factory=list)
    sources_read: int = 0  # files, responses and documents read (or unchanged since last time)
    # Loading the embedding model during the run, and whether that meant preparing it for
    # this machine (the one-time ONNX export): not part of the embedding rate.
    model_seconds: float = 0.0
    model_prepared: bool = False
    skipped: dict[str, int] = field(default_factory=dict)  # feed items left out, by reason

    @property
    def all_failed(self) -> bool:
        """Nothing could be read: every source failed."""
        return self.failed > 0 and self.sources_read == 0

    @property
    def exit_code(self) -> int:
        """0 ok; 1 some sources failed and the rest was ingested; 3 every source failed."""
        if not self.failed:
            return EXIT_OK
        return EXIT_ALL_FAILED if self.all_failed else EXIT_PARTIAL

    @property
    def rate(self) -> float:
        """Passages embedded per second of the run, the time spent loading the model aside."""
        working = self.seconds - self.model_seconds
        return self.passages_embedded / working if working > 0 else 0.0

    def line(self) -> str:
        text = (f"articles: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed; {self.passages_embedded} passages "
                f"embedded in {self.seconds:.1f}s ({self.rate:.0f}/s); "
                f"snapshot {self.snapshot or '-'}")
        notes = [skipped_words(reason, count) for reason, count in sorted(self.skipped.items())]
        if self.model_prepared:
            notes.append(f"the embedding model was prepared for this machine in "
                         f"{self.model_seconds:.0f}s (once; not counted in the rate)")
        if self.all_failed:
            notes.append("nothing was ingested: every source failed")
        return "; ".join([text, *notes])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
