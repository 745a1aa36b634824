"""A domain thesaurus: what people call the parties, and the names the articles use.

"did the mouse house sue the chinese clip maker?" shares no word with an article on
Disney v. MiniMax, and the embedding model does not know the nickname either. The
thesaurus (config/aliases.toml) maps descriptors (nicknames, short forms, products,
chief executives, headquarters cities) to canonical names; a question holding a
descriptor is searched with the canonical name appended.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .settings import config_file, read_toml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Aliases:
    """Descriptor -> canonical name, matched as whole words, case-insensitively."""

    names: dict[str, str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None

    @classmethod
    def of(cls, table: dict[str, list[str]]) -> Aliases:
        names = {d.lower().replace("’", "'"): canonical
                 for canonical, descriptors in table.items() for d in descriptors}
        if not names:
            return cls()
        # Longest first, so "redmond software giant" wins over "redmond".
        alternatives = "|".join(re.escape(d) for d in sorted(names, key=len, reverse=True))
        return cls(names, re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w])", re.I))

    def matches(self, text: str) -> list[re.Match[str]]:
        if self.pattern is None:
            return []
        return list(self.pattern.finditer(text.replace("’", "'")))

    def expand(self, text: str) -> str:
        """The text with the canonical names of its descriptors appended (each once)."""
        found: list[str] = []
        for m in self.matches(text):
            canonical = self.names[m.group(0).lower()]
            if canonical not in found and canonical.lower() not in text.lower():
                found.append(canonical)
        return f"{text} ({', '.join(found)})" if found else text

    def blank(self, text: str) -> str:
        """The text with its descriptors blanked out (they name someone known)."""
        out = text.replace("’", "'")
        for m in reversed(self.matches(out)):
            out = out[:m.start()] + " " * (m.end() - m.start()) + out[m.end():]
        return out


def load(path: str | Path) -> Aliases:
    """The thesaurus at path; none (with one warning) when the file is missing."""
    if not path:
        return Aliases()
    p = config_file(path)
    if not p.exists():
        log.warning("no alias thesaurus at %s; questions are searched as written", p)
        return Aliases()
    raw = read_toml(p)
    table = raw.get("aliases", {})
    if not isinstance(table, dict) or not all(
            isinstance(v, list) and all(isinstance(d, str) for d in v) for v in table.values()):
        raise ConfigError(f"{p}: [aliases] must map each name to a list of descriptors")
    return Aliases.of(table)
