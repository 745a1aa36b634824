"""Cases: lawsuits, appeals and other proceedings as things the index knows about.

At ingest, `find_cases` reads the stories and finds the proceedings they report on, by
the names the press writes ("Bartz v. Anthropic", "GEMA v OpenAI", "In re ...") and by who
is said to sue whom ("Getty Images sued Stability AI"), one case for all the spellings of
one proceeding. A story that names a case in passing is not part of it. For a story in a
case, `what_happened` quotes the sentence that says what happened (a filing, ruling,
settlement, appeal), and `timeline` gives a case's stories newest first, one dated
sentence each. `lookup` serves autocomplete and `closest_names` a "did you mean".
config/cases.toml can merge, rename or hide what detection found (`load_overrides`,
`apply_overrides`); it corrects detection, it does not replace it.

Nothing here needs a model: the rules run over the whole sample corpus in a fraction of
a second and give the same cases for the same stories every time.
"""

from ._check import CheckScore, load_check, score_assignment
from ._find import find_cases
from ._lookup import closest_names, lookup
from ._model import Case, Story, TimelineEntry
from ._names import CaseName, case_names, name_key, same_party
from ._overrides import (
    CaseOverridesError,
    Merge,
    Overrides,
    apply_overrides,
    load_overrides,
    parse_overrides,
)
from ._suits import Suit, suits
from ._timeline import timeline, what_happened

__all__ = [
    "Case",
    "CaseName",
    "CaseOverridesError",
    "CheckScore",
    "Merge",
    "Overrides",
    "Story",
    "Suit",
    "TimelineEntry",
    "apply_overrides",
    "case_names",
    "closest_names",
    "find_cases",
    "load_check",
    "load_overrides",
    "lookup",
    "name_key",
    "parse_overrides",
    "same_party",
    "score_assignment",
    "suits",
    "timeline",
    "what_happened",
]
