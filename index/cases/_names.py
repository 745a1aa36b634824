"""Case names as the press writes them, and whether two spellings name one party.

`case_names` finds captions written out: "Bartz v. Anthropic", "Getty Images v Stability AI",
"Dow Jones & Co. v. Perplexity AI", "Nazemian et al v Nvidia Corp", "X vs. Y", "In re OpenAI
Copyright Litigation". `same_party` decides whether two spellings name one party ("NYT",
"The New York Times Co.", "New York Times"); `name_key` folds a whole case name for comparison.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Words that end a name with a period without ending the sentence.
_NAME_ABBREVIATIONS = frozenset({"co.", "corp.", "inc.", "ltd.", "bros.", "u.s.", "l.p.", "jr.",
                                 "st.", "no.", "plc.", "llc."})
# Dropped when comparing party names: legal forms and filler.
_LEGAL_FORMS = frozenset({"the", "co", "corp", "corporation", "inc", "incorporated", "llc", "ltd",
                          "limited", "plc", "lp", "et", "al", "company", "cos"})
# Words too common to identify a party on their own ("AI" in "Stability AI" and "Perplexity AI").
WEAK_WORDS = frozenset({"ai", "media", "news", "music", "group", "images", "entertainment",
                         "publishing", "holdings", "labs", "intelligence", "new", "york", "san",
                         "de", "of", "and", "for", "national", "international", "global",
                         "american", "records", "recordings", "studios", "pictures", "press"})
# Words that end a party's name even when capitalised, as in a Title Case headline.
_FUNCTION_WORDS = frozenset({"in", "against", "for", "over", "on", "at", "with", "after", "before",
                             "from", "to", "into", "about", "as", "amid", "is", "are", "was",
                             "heads", "goes", "matters", "could", "will", "may"})
_TITLE_CASE_HINTS = _FUNCTION_WORDS | {"sues", "sue", "sued", "rules", "ruled", "wins", "loses",
                                       "says", "files", "settles", "and", "but", "its", "their"}
# Capitalised words that open a sentence or a headline but are not part of a name.
NOT_NAMES = frozenset({"judge", "justice", "court", "appeals", "federal", "u.s.", "us", "uk",
                        "eu", "ai", "why", "how", "what", "when", "after", "before", "in", "on",
                        "at", "as", "unlike", "like", "while", "since", "following", "under",
                        "from", "with", "by", "for", "if", "but", "and", "or", "so", "then",
                        "also", "explains", "two", "three", "four", "five", "major", "lawsuit",
                        "suit", "case", "complaint", "ruling", "trial", "president", "minister",
                        "senator", "sir", "mrs", "mr", "ms", "dr", "district", "circuit", "judges",
                        "seventeen", "fourteen", "several", "first", "big", "a", "an", "its",
                        "their", "his", "her", "this", "that", "these", "those", "it", "they"})
NATIONALITIES = frozenset({"american", "british", "canadian", "chinese", "danish", "dutch",
                           "french", "german", "indian", "italian", "japanese", "korean",
                           "australian", "european", "spanish", "swedish", "irish", "israeli",
                           "brazilian", "mexican", "south", "north", "hollywood", "us", "u.s.",
                           "uk", "u.k.", "eu"})

_SEP_RE = re.compile(r"(?<=\S)\s+(v\.|v|vs\.?)\s+(?=[A-Z0-9])")
_IN_RE_RE = re.compile(r"\bIn re\s+((?:[A-Z][\w.&'’-]*\s*){1,6})")
_TOKEN_RE = re.compile(r"[\w][\w'’.&-]*|&|[^\w\s]")
_MODIFIERS = frozenset({"AI", "US", "U.S.", "UK", "U.K.", "EU", "TV", "IP", "DMCA", "TDM"})
_SUIT_NOUNS = frozenset({"claim", "claims", "lawsuit", "lawsuits", "suit", "suits", "case", "cases",
                         "trial", "complaint", "copyright", "legal", "action", "litigation"})


@dataclass(frozen=True)
class CaseName:
    """A caption written in the text: `start`/`end` are its offsets in the text given."""

    text: str
    plaintiffs: tuple[str, ...]
    defendants: tuple[str, ...]
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case without accents or apostrophes: the form names are compared in."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower().replace("’", "'")


@lru_cache(maxsize=65536)
def party_words(name: str) -> tuple[str, ...]:
    """The words that identify a party ("The New York Times Co." -> new, york, times)."""
    name = re.sub(r"['’]s\b|['’]$", "", fold(name))
    words = re.findall(r"[a-z0-9&]+", name.replace(".", ""))
    return tuple(w for w in words if w not in _LEGAL_FORMS and w != "&")


def acronym(words: tuple[str, ...]) -> str:
    return "".join(w[0] for w in words if w not in {"of", "and", "for", "de"})


@lru_cache(maxsize=65536)
def same_party(a: str, b: str) -> bool:
    """Whether two spellings name one party: one's words within the other's ("Getty" and
    "Getty Images", "Bartz" and "Andrea Bartz"), or an acronym ("NYT", "UMG")."""
    wa, wb = party_words(a), party_words(b)
    if not wa or not wb:
        return False
    # "NYT" and "New York Times"; "UMG Recordings" and "Universal Music Group".
    if (len(wa) >= 3 and wb[0] == acronym(wa)) or (len(wb) >= 3 and wa[0] == acronym(wb)):
        return True
    small, big = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if not set(small) <= set(big) or all(w in WEAK_WORDS for w in small):
        return False
    # Contiguous, so that "New York Post" is not within "New York Times Post Co.".
    n = len(small)
    return any(big[i:i + n] == small for i in range(len(big) - n + 1)) or set(small) == set(big)


def sides_meet(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two lists of parties share one party."""
    return any(same_party(x, y) for x in a for y in b)


def is_name_word(word: str) -> bool:
    """A word that can be part of a name: capitalised ("OpenAI"), "&", or a short number
    within one ("Strike 3 Holdings")."""
    if not word:
        return False
    if word == "&":
        return True
    first = word[0]
    return first.isupper() or (first.isdigit() and len(word) <= 4 and not word.isdigit()) or \
        (word.isdigit() and len(word) <= 2)


def _ends_sentence(word: str) -> bool:
    return word.endswith(".") and fold(word) not in _NAME_ABBREVIATIONS and \
        not re.fullmatch(r"(?:[A-Za-z]\.)+", word)


def clean_party(words: list[str]) -> str:
    """A party's name as written, without leading sentence words or a trailing "et al"."""
    while words and (fold(words[0]) in NOT_NAMES or words[0] in {"of", "for", "and", "&", "de"}):
        words = words[1:]
    while words and fold(words[-1]).strip(".") in {"et", "al", "and", "&", "of", "for"}:
        words = words[:-1]
    text = " ".join(words).rstrip(",;:")
    text = re.sub(r"['’]s?$", "", text)
    return text[:-1] if text.endswith(".") and not _is_abbrev_end(text) else text


def _is_abbrev_end(text: str) -> bool:
    last = text.split()[-1]
    return fold(last) in _NAME_ABBREVIATIONS or bool(re.fullmatch(r"(?:[A-Za-z]\.)+", last))


def split_parties(side: str) -> tuple[str, ...]:
    """"OpenAI and Microsoft" -> ("OpenAI", "Microsoft"); "Dow Jones & Co." stays whole."""
    parts: list[str] = []
    for part in (p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", side)):
        if parts and fold(part).strip(".") in _LEGAL_FORMS:
            parts[-1] += ", " + part  # "Concord Music Group, Inc."
        elif part and any(c.isupper() for c in part):
            parts.append(part)
    return tuple(parts)


def case_names(text: str) -> list[CaseName]:
    """Every caption written in `text`, in order."""
    found: list[CaseName] = []
    seps = list(_SEP_RE.finditer(text))
    lefts = [_left_side(text, sep.start(), seps[i - 1].end() if i else 0)
             for i, sep in enumerate(seps)]
    for i, left in enumerate(lefts):
        if left and i and left[1] == _skip_space(text, seps[i - 1].end()) and " and " in left[0]:
            # "Tremblay v. OpenAI and Silverman v. OpenAI": the second caption starts after "and".
            rest = left[0].split(" and ", 1)[1]
            lefts[i] = (rest, text.index(rest, left[1]))
    for i, sep in enumerate(seps):
        left = lefts[i]
        if i + 1 == len(seps):
            limit = len(text)
        else:
            nxt = lefts[i + 1]
            limit = seps[i + 1].start() if nxt is None else nxt[1]
        right = _right_side(text, sep.end(), limit)
        if left is None or right is None:
            continue
        (ltext, lstart), (rtext, rend) = left, right
        plaintiffs, defendants = split_parties(ltext), split_parties(rtext)
        if plaintiffs and defendants:
            found.append(CaseName(text[lstart:rend], plaintiffs, defendants, lstart, rend))
    for m in _IN_RE_RE.finditer(text):
        words = m.group(1).split()
        while words and fold(words[-1]).rstrip(".,") in NOT_NAMES | {"the"}:
            words.pop()
        if not words:
            continue
        written = " ".join(words).rstrip(".,;:")
        end = m.start(1) + len(written)
        found.append(CaseName(text[m.start():end], (), (written.split()[0],), m.start(), end))
    return sorted(found, key=lambda c: c.start)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _left_side(text: str, end: int, floor: int) -> tuple[str, int] | None:
    """The plaintiff's name ending at `end`, and where it starts."""
    segment = text[floor:end]
    words = list(re.finditer(r"\S+", segment))
    taken: list[re.Match[str]] = []
    for w in reversed(words):
        word = w.group(0)
        legal_form = bool(taken) and fold(taken[-1].group(0)).strip(".,") in _LEGAL_FORMS
        if taken and (word.endswith((";", ":", "(", "—")) or _ends_sentence(word) or
                      (word.endswith(",") and not legal_form)):  # "Concord, Inc. v. ..."
            break
        if word.startswith(("(", "“", '"', "‘")):
            if is_name_word(word.lstrip("(“\"‘")):
                taken.append(w)
            break
        bare = word.rstrip(",")
        if fold(bare) in _FUNCTION_WORDS:
            break  # "Judge Rules Against Anthropic In Bartz v. ...": a Title Case headline
        if is_name_word(bare) or bare.lower() in {"et", "al", "al.", "of", "de"} or \
                (bare == "and" and taken):
            taken.append(w)
            if len(taken) > 7:
                return None
            continue
        break
    if not taken:
        return None
    taken.reverse()
    words_text = [w.group(0).lstrip("(“\"‘") for w in taken]
    cleaned = clean_party(words_text)
    if not cleaned:
        return None
    start = floor + taken[0].start() + (len(taken[0].group(0)) - len(words_text[0]))
    start = text.index(cleaned.split()[0], start)
    return cleaned, start


def _right_side(text: str, start: int, limit: int) -> tuple[str, int] | None:
    """The defendant's name starting at `start`, and where it ends."""
    taken: list[str] = []
    pos = start
    segment = re.sub(r"\s+and\s*$", "", text[start:limit])
    for w in re.finditer(r"\S+", segment):
        word = w.group(0)
        bare = word.rstrip(",;:)”\"’'")
        if not taken and not is_name_word(bare):
            return None
        if fold(bare) in _FUNCTION_WORDS:
            break
        if is_name_word(bare) or (bare in {"of", "&", "de", "and"} and taken):
            taken.append(bare)
            pos = start + w.start() + len(bare)
            if word != bare or _ends_sentence(bare) or len(taken) > 7:
                break
            continue
        if fold(bare) in {"et", "al", "al."}:
            continue
        break
    if not taken:
        return None
    cleaned = clean_party(taken)
    if not cleaned:
        return None
    return cleaned, start + text[start:pos].index(cleaned.split()[-1]) + len(cleaned.split()[-1])


def name_runs(text: str) -> list[tuple[str, int, int]]:
    """Runs of name words in `text` (joined by "and", "&", "of" and commas between names)."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
    runs: list[tuple[str, int, int]] = []
    current: list[tuple[str, int, int]] = []

    def close() -> None:
        while current and current[-1][0] in {"and", "&", "of", ","}:
            current.pop()
        if current:
            runs.append((text[current[0][1]:current[-1][2]], current[0][1], current[-1][2]))
        current.clear()

    for i, (word, s, e) in enumerate(tokens):
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        # "AI music generators", "UK legal action", "DMCA claim": a word before a noun.
        modifier = (word in _MODIFIERS and nxt[:1].islower() and nxt != "and") or \
            (word.isupper() and nxt in _SUIT_NOUNS)
        if is_name_word(word.rstrip(".")) and not modifier:
            current.append((word, s, e))
            if _ends_sentence(word) or re.search(r"['’]s?$", word):
                close()
        elif word in {"and", "&", "of", ","} and current and is_name_word(nxt):
            current.append((word, s, e))
        else:
            close()
    close()
    return runs


def title_case(headline: str) -> bool:
    """Whether a headline is in Title Case ("Sony Music Sues Suno Over AI Songs"): then
    capitals say nothing about where a name starts or ends. Told by a capitalised word that
    is not a name, after the first."""
    words = re.findall(r"[A-Za-z][\w'’-]*", headline)[1:]
    return any(w[0].isupper() and fold(w) in _TITLE_CASE_HINTS for w in words)


def slug(name: str) -> str:
    """A case name as a key: lower case, ASCII letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")


def name_key(name: str) -> str:
    """A case name folded for comparison: "Getty Images v Stability AI" and "getty images
    v. stability ai" give the same key."""
    words = re.findall(r"[a-z0-9]+", fold(name).replace("&", " and "))
    return " ".join("v" if w in {"vs", "versus"} else w for w in words if w != "the")
