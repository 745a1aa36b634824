"""Who is suing whom, as a headline or an opening sentence says it, read with rules.

`suits` finds a plaintiff and a defendant around a verb or noun of suing: "Reddit sues
Anthropic", "Getty drops its main copyright claims in UK trial against Stability AI", "Nvidia
sued by authors", "Nikkei and Asahi take Perplexity to court". A side the text names only by
what it is ("best-selling authors", "major record labels") has no party names but a class
(`plaintiff_class`). `forum` names the country whose court a headline mentions first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._names import (
    NATIONALITIES,
    NOT_NAMES,
    clean_party,
    fold,
    is_name_word,
    name_runs,
    split_parties,
)

# Plaintiffs named by what they are. The first word of each entry is matched; two-word
# entries are matched before one-word ones ("music publishers" is not "publishers").
_CLASSES = {
    "music publishers": "music publishers", "record labels": "labels", "record companies":
    "labels", "news organisations": "news", "news organizations": "news", "news publishers":
    "news", "news sites": "news", "visual artists": "artists", "film producers": "producers",
    "authors": "authors", "author": "authors", "writers": "authors", "writer": "authors",
    "novelists": "authors", "novelist": "authors", "labels": "labels", "artists": "artists",
    "artist": "artists", "illustrators": "artists", "photographer": "artists",
    "photographers": "artists", "publishers": "publishers", "newspapers": "news",
    "broadcasters": "news", "outlets": "news", "studios": "studios", "developers": "developers",
    "programmers": "developers", "producers": "producers", "musicians": "musicians",
    "creators": "creators", "organisations": "organisations", "organizations": "organisations",
}

# Verbs and nouns of suing. Each pattern's position splits a sentence into the side that
# sues (before) and the side that is sued (after), except the passive "sued by".
_SUE_RE = re.compile(r"\b(?:sues|sue|sued|suing)\b(?!\s+by\b)")
_AGAINST_RE = re.compile(
    r"\b(?:lawsuits?|suits?|cases?|complaints?|claims?|class actions?|legal action|action|"
    r"legal challenge|trial|litigation|fight)\s+against\s+")
_SETTLE_RE = re.compile(r"\b(?:settles|settled|settle|settling)\s+with\s+")
_COURT_RE = re.compile(r"\b(?:take|takes|took|taken|taking)\s+(.{1,70}?)\s+to court\b")
_SUED_BY_RE = re.compile(r"\bsued by\s+")
# Words after the sued party that end its name.
_STOP_AFTER = frozenset({"over", "for", "in", "on", "saying", "after", "calling", "accusing",
                         "alleging", "to", "with", "because", "blaming", "as", "who", "that",
                         "which", "at", "about", "from", "by", "into", "of"})


@dataclass(frozen=True)
class Suit:
    """Who sues whom, as one sentence says it. `plaintiffs` is empty when the text names
    the suing side only by what it is (`plaintiff_class`, `plaintiff_phrase`)."""

    plaintiffs: tuple[str, ...]
    defendants: tuple[str, ...]
    plaintiff_class: str | None = None
    plaintiff_phrase: str = ""


def plaintiff_class(phrase: str) -> str | None:
    """What a suing side is when it is named by a common noun ("best-selling authors")."""
    words = re.findall(r"[a-z]+", fold(phrase))
    for i in range(len(words) - 1):
        pair = f"{words[i]} {words[i + 1]}"
        if pair in _CLASSES:
            return _CLASSES[pair]
    for word in words:
        if word in _CLASSES:
            return _CLASSES[word]
    return None


def suits(sentence: str) -> list[Suit]:
    """Who sues whom in one sentence (a headline counts as one)."""
    found: list[Suit] = []
    for m in _SUE_RE.finditer(sentence):
        defendants = _names_after(sentence[m.end():])
        if defendants:
            found.append(_suit(sentence, m.start(), defendants))
    for pattern in (_AGAINST_RE, _SETTLE_RE):
        for m in pattern.finditer(sentence):
            defendants = _names_after(sentence[m.end():])
            if defendants:
                found.append(_suit(sentence, m.start(), defendants))
    for m in _COURT_RE.finditer(sentence):
        defendants = _names_after(m.group(1) + " to")
        if defendants:
            found.append(_suit(sentence, m.start(), defendants))
    for m in _SUED_BY_RE.finditer(sentence):
        defendants = _names_before(sentence[:m.start()])
        if defendants:
            after = sentence[m.end():]
            names = _names_after(after, skip=3)
            phrase = re.split(r"[,;]| who | which | that ", after)[0]
            found.append(Suit(names, defendants, plaintiff_class(phrase), phrase.strip()))
    unique: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], Suit] = {}
    for suit in found:
        unique.setdefault((suit.plaintiffs, suit.defendants, suit.plaintiff_class), suit)
    return list(unique.values())


def _names_after(text: str, skip: int = 6) -> tuple[str, ...]:
    """The first names after a verb of suing: descriptors ("the AI search startup") are
    skipped, and the names end at a word such as "over", "in" or "saying"."""
    words = re.findall(r"\S+", text)
    kept: list[str] = []
    for word in words:
        bare = word.strip(",.;:()“”\"'’")
        if fold(bare) in _STOP_AFTER or not bare:
            break
        kept.append(word)
        if word.endswith((",", ";", ":", ".")) and not is_name_word(bare):
            break
    head = " ".join(kept)
    for name, s, _e in name_runs(head):
        before = head[:s].split()
        if len(before) > skip:
            break
        parties = [p for p in split_parties(name) if fold(p.split()[0]) not in NATIONALITIES or
                   len(p.split()) > 1]
        parties = [clean_party(p.split()) for p in parties]
        parties = [p for p in parties if p and fold(p) not in NOT_NAMES | NATIONALITIES]
        if parties:
            return tuple(parties)
    return ()


def _names_before(text: str) -> tuple[str, ...]:
    runs = name_runs(text)
    if not runs:
        return ()
    name, _s, e = runs[-1]
    if len(text[e:].split()) > 3:
        return ()
    parties = tuple(p for p in (clean_party(x.split()) for x in split_parties(name)) if p)
    return tuple(p for p in parties if fold(p) not in NOT_NAMES)


def _suit(sentence: str, at: int, defendants: tuple[str, ...]) -> Suit:
    """The suing side of a suit whose verb or noun starts at `at`."""
    before = sentence[:at]
    words = before.split()
    tail = words[-8:]
    # "its lawsuit against", "their claims against": the sentence's subject sues.
    if any(fold(w) in {"its", "their"} for w in tail):
        runs = name_runs(before)
        if runs and runs[0][1] < 40:
            name = runs[0][0]
            return Suit(tuple(p for p in (clean_party(x.split()) for x in split_parties(name))
                              if p and fold(p) not in NOT_NAMES), defendants,
                        plaintiff_class(before[:runs[0][1]]), name)
    # The nearest name or class word before the verb, within a few words.
    tail = words[-9:]
    while tail and fold(tail[-1].strip(",")) in _AUXILIARIES:
        tail = tail[:-1]
    window = " ".join(tail).rstrip(",")
    cut = max(window.rfind(","), window.rfind(";"), window.rfind(" — "))
    if cut >= 0 and not _AFTER_COMMA_RE.search(window[cut:]):
        window = window[cut + 1:]
    following = sentence[at:].split()[:1]
    runs = [r for r in name_runs(" ".join([window, *following])) if r[2] <= len(window) and
            (fold(r[0].split()[0]) not in NOT_NAMES or len(r[0].split()) > 1)]
    names: tuple[str, ...] = ()
    if runs:
        name, _s, e = runs[-1]
        names = tuple(p for p in (clean_party(x.split()) for x in split_parties(name))
                      if p and fold(p) not in NOT_NAMES | NATIONALITIES and
                      not (len(p.split()) == 1 and plaintiff_class(p)))
        if plaintiff_class(window[e:]) and not re.search(r"['’]s?\s", window[e:e + 3]):
            names = ()  # "KBS owner ... authors": the class word is nearer than the name
    cls = plaintiff_class(window)
    phrase = _class_phrase(window) if cls else ""
    return Suit(names, defendants, cls, phrase)


_AUXILIARIES = frozenset({"have", "has", "had", "is", "are", "was", "were", "jointly", "also",
                          "now", "both", "all", "together", "each"})
_AFTER_COMMA_RE = re.compile(r"^,\s*(?:the\s+)?[A-Z]")


def _class_phrase(window: str) -> str:
    """The words naming a class of plaintiff ("French publishers and authors")."""
    words = window.split()
    keep: list[str] = []
    for word in reversed(words):
        bare = re.sub(r"['’]s?$", "", word.strip(",.;:\""))
        f = fold(bare)
        if plaintiff_class(bare) or f in {"and", "record", "music", "news", "visual", "film"} or \
                f in NATIONALITIES:
            keep.append(bare)
        elif keep:
            break
    while keep and fold(keep[-1]) == "and":
        keep.pop()
    return " ".join(reversed(keep))


_COURT_WORDS = {
    "UK": r"\bU\.?K\.?\b|\bBritain|\bBritish\b|\bLondon\b|\bEngland\b",
    "US": r"\bU\.?S\.?\b(?! ?-based)|\bAmerican court|\bfederal (?:court|judge)|"
          r"\bDistrict of\b|\bDistrict Court\b|\bDelaware\b|\bManhattan\b|\bSan Francisco\b",
    "DE": r"\bGerman|\bMunich\b|\bHamburg\b",
    "IN": r"\bIndia|\bDelhi\b",
    "CA": r"\bCanad|\bOntario\b|\bToronto\b",
    "JP": r"\bJapan|\bTokyo\b",
    "CN": r"\bChina\b|\bChinese court|\bBeijing\b",
    "FR": r"\bFrance\b|\bFrench court|\bParis\b",
    "KR": r"\bKorea",
}
_FORUM_RE = re.compile("|".join(f"(?P<{k}>{v})" for k, v in _COURT_WORDS.items()))


def forum(text: str) -> str | None:
    """The country whose court a headline or lead names first ("UK trial", "US court")."""
    m = _FORUM_RE.search(text)
    return m.lastgroup if m else None
