"""Cases from stories: the claims each story makes about suits, clustered into proceedings.

A story's claims are the suits its headline and opening paragraph describe (_suits) and the
case names it writes (_names) that it reports on rather than mentions in passing: a name in
the headline or lead counts, one further down counts when the story is about a proceeding
and the name's parties are the story's own (see `_accepted_captions`). Claims that name
their plaintiffs are clustered when both sides match and the courts' countries do not
differ; a claim naming its plaintiffs only by kind ("authors sue Apple") joins a named case
only when the story names that case's plaintiffs near its top; a story with no claim joins
a case when its headline is about a proceeding against the case's defendant and its
opening names the plaintiff.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..text import sentence_spans
from . import _names as cn
from ._model import Case, Story
from ._suits import Suit, forum, plaintiff_class, suits


@dataclass
class _Claim:
    """One statement that a story reports on a suit: a case name or who sues whom."""

    plaintiffs: tuple[str, ...]
    defendants: tuple[str, ...]
    cls: str | None = None  # what the plaintiffs are ("authors"), when the text says
    phrase: str = ""  # the words naming them by what they are
    caption: str | None = None  # the case name as written


@dataclass
class _Node:
    """The claims of one story about one suit; a case is a cluster of nodes."""

    story: Story
    claims: list[_Claim]
    forum: str | None

    @property
    def plaintiffs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for c in self.claims for p in c.plaintiffs))

    @property
    def defendants(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for c in self.claims for d in c.defendants))

    @property
    def classes(self) -> set[str]:
        return {c.cls for c in self.claims if c.cls}


@dataclass
class _Cluster:
    nodes: list[_Node] = field(default_factory=list)

    @property
    def plaintiffs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for n in self.nodes for p in n.plaintiffs))

    @property
    def defendants(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for n in self.nodes for d in n.defendants))

    @property
    def classes(self) -> set[str]:
        return {c for n in self.nodes for c in n.classes}

    @property
    def forums(self) -> set[str]:
        return {n.forum for n in self.nodes if n.forum}

    @property
    def last(self) -> str:
        return max(n.story.published or "" for n in self.nodes)


# A story about a proceeding says so near the top.
_LEGAL_RE = re.compile(
    r"\b(?:judge|court|ruling|ruled|rules|lawsuits?|suits?|sued|sues|settle(?:s|d|ment)?|trial|"
    r"appeal|injunction|complaint|dismiss\w*|verdict|jury|class action|judgment)\b", re.I)
# Words before a case name that say it is the story's own case ("The case, X, ...").
_NAMING_RE = re.compile(r"(?:\b(?:case|cases|lawsuit|suit|complaint)\s*(?:,|is|was|in)?|"
                        r"\b(?:titled|known as|captioned|called))\s*$", re.I)
_PLURAL_SUITS_RE = re.compile(r"\b(?:lawsuits|suits|cases)\s+against\b")


def find_cases(stories: Iterable[Story]) -> list[Case]:
    """The cases the stories report on, most recently active first."""
    stories = list(stories)
    nodes = [node for story in stories for node in _story_nodes(story)]
    nodes.sort(key=lambda n: (n.story.published or "", n.story.story_id))
    clusters: list[_Cluster] = []
    generic = [n for n in nodes if not n.plaintiffs]
    for node in (n for n in nodes if n.plaintiffs):
        _join_named(clusters, node)
    for node in generic:
        target = _best_by_evidence(clusters, node.story, node.defendants, node.classes)
        if target is None:
            target = next((c for c in clusters if not c.plaintiffs and
                           cn.sides_meet(c.defendants, node.defendants) and
                           node.classes == c.classes and _forum_fits(c, node.forum)), None)
        if target is None:
            clusters.append(_Cluster([node]))
        else:
            target.nodes.append(node)
    claimed = {n.story.story_id for n in nodes}
    for story in stories:
        if story.story_id not in claimed:
            _attach_unclaimed(clusters, story)
    return _as_cases(clusters)


def _story_nodes(story: Story) -> list[_Node]:
    """What one story claims about suits, one node per suit."""
    paragraphs = story.text.split("\n")
    lead = paragraphs[0] if paragraphs else ""
    top = story.title + "\n" + lead
    headline = "" if cn.title_case(story.title) else story.title
    lead_suits = suits(headline) + [s for a, b in sentence_spans(lead) for s in suits(lead[a:b])]
    claims = [_Claim(s.plaintiffs, s.defendants, s.plaintiff_class, s.plaintiff_phrase)
              for s in lead_suits]
    claims += _accepted_captions(story, paragraphs, lead_suits)
    if not claims:
        return []
    if _PLURAL_SUITS_RE.search(top):  # "lawsuits against Suno and Udio": a case per defendant
        claims = [_Claim(c.plaintiffs, (d,), c.cls, c.phrase, c.caption)
                  for c in claims for d in c.defendants]
    groups: list[list[_Claim]] = []
    for claim in claims:
        joined = [g for g in groups if any(cn.sides_meet(claim.defendants, o.defendants)
                                           for o in g)]
        merged = [c for g in joined for c in g] + [claim]
        groups = [g for g in groups if g not in joined] + [merged]
    where = forum(story.title) or forum(lead)
    return [_Node(story, group, where) for group in groups]


def _accepted_captions(story: Story, paragraphs: Sequence[str],
                       lead_suits: Sequence[Suit]) -> list[_Claim]:
    """The case names a story reports on, not those it names in passing."""
    top_runs = _top_names(story, paragraphs)
    sentences: list[str] = []  # folded, computed when a case name is found
    legal = bool(_LEGAL_RE.search(story.title + "\n" + (paragraphs[0] if paragraphs else "")))
    out: list[_Claim] = []
    texts = ["" if cn.title_case(story.title) else story.title, *paragraphs]
    for index, paragraph in enumerate(texts):
        for name in cn.case_names(paragraph):
            if index > 1 and not legal:
                continue  # a case named below a story that is not about a proceeding
            sentence = _sentence_around(paragraph, name.start)
            cls = plaintiff_class(sentence.replace(name.text, " "))
            score = {0: 3, 1: 2, 2: 1}.get(index, 0)
            if _NAMING_RE.search(paragraph[max(0, name.start - 30):name.start]):
                score += 2
            if cn.sides_meet(name.defendants, top_runs):
                score += 1
            if cn.sides_meet(name.plaintiffs, top_runs):
                score += 1
            if name.plaintiffs and not sentences:
                sentences = [cn.fold(story.text[a:b]) for a, b in sentence_spans(story.text)]
            if name.plaintiffs and _sentences_naming(sentences, name.plaintiffs[0]) >= 2:
                score += 1
            if lead_suits and not any(_suit_fits(s, name, cls) for s in lead_suits):
                score -= 2
            if score >= 2:
                out.append(_Claim(name.plaintiffs, name.defendants, cls, "", name.text))
    return out


def _suit_fits(suit: Suit, name: cn.CaseName, cls: str | None) -> bool:
    if not cn.sides_meet(suit.defendants, name.defendants):
        return False
    if suit.plaintiffs:
        return cn.sides_meet(suit.plaintiffs, name.plaintiffs) or not name.plaintiffs
    return suit.plaintiff_class is None or cls is None or suit.plaintiff_class == cls


def _top_names(story: Story, paragraphs: Sequence[str]) -> tuple[str, ...]:
    text = story.title + "\n" + (paragraphs[0] if paragraphs else "")
    return tuple(p for name, _s, _e in cn.name_runs(text) for p in cn.split_parties(name))


def _sentence_around(text: str, pos: int) -> str:
    for a, b in sentence_spans(text):
        if a <= pos < b:
            return text[a:b]
    return text


def _sentences_naming(sentences: Sequence[str], party: str) -> int:
    """In how many of the (folded) sentences the party's last distinctive word appears."""
    words = [w for w in cn.party_words(party) if w not in cn.WEAK_WORDS]
    if not words:
        return 0
    pattern = re.compile(r"\b" + re.escape(words[-1]) + r"\b")
    return sum(1 for sentence in sentences if pattern.search(sentence))


def _forum_fits(cluster: _Cluster, where: str | None) -> bool:
    return where is None or not cluster.forums or where in cluster.forums


def _join_named(clusters: list[_Cluster], node: _Node) -> None:
    """Put a node that names its plaintiffs into the clusters (merging those it joins)."""
    fits = [c for c in clusters if cn.sides_meet(c.defendants, node.defendants) and
            cn.sides_meet(c.plaintiffs, node.plaintiffs) and _forum_fits(c, node.forum)]
    if len({f for c in fits for f in c.forums}) > 1:  # e.g. a UK and a US case: pick one
        fits = [max(fits, key=lambda c: c.last)]
    if not fits:
        clusters.append(_Cluster([node]))
        return
    keep = fits[0]
    for other in fits[1:]:
        keep.nodes.extend(other.nodes)
        clusters.remove(other)
    keep.nodes.append(node)


def _evidence(cluster: _Cluster, text: str) -> int:
    """How many of a cluster's plaintiffs the text names."""
    folded = cn.fold(text)
    count = 0
    for party in cluster.plaintiffs:
        words = cn.party_words(party)
        forms = {" ".join(words)}
        forms |= {w for w in words if w not in cn.WEAK_WORDS and len(w) > 2}
        if len(words) >= 3:
            forms.add(cn.acronym(words))
        if any(re.search(r"\b" + re.escape(f) + r"\b", folded) for f in forms if f):
            count += 1
    return count


def _best_by_evidence(clusters: Sequence[_Cluster], story: Story, defendants: tuple[str, ...],
                      classes: set[str]) -> _Cluster | None:
    """The named case a story without named plaintiffs belongs to: its defendant, a
    compatible kind of plaintiff, and its plaintiffs named near the top of the story."""
    opening = story.title + "\n" + "\n".join(story.text.split("\n")[:3])
    scored = []
    for cluster in clusters:
        if not cluster.plaintiffs or not cn.sides_meet(cluster.defendants, defendants):
            continue
        if classes and cluster.classes and not classes & cluster.classes:
            continue
        evidence = _evidence(cluster, opening)
        if evidence:
            scored.append((evidence, cluster))
    if not scored:
        return None
    scored.sort(key=lambda x: -x[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None  # two cases fit as well: better none than the wrong one
    return scored[0][1]


def _attach_unclaimed(clusters: Sequence[_Cluster], story: Story) -> None:
    """A story that names no suit joins a case when its headline or lead is about a
    proceeding and names the case's defendant, and its opening names the plaintiff."""
    paragraphs = story.text.split("\n")
    top = story.title + "\n" + (paragraphs[0] if paragraphs else "")
    if not _LEGAL_RE.search(top):
        return
    names = _top_names(story, paragraphs)
    if not names:
        return
    target = _best_by_evidence(clusters, story, names, set())
    if target is not None:
        target.nodes.append(_Node(story, [], forum(top)))


def _people(parties: tuple[str, ...], classes: set[str]) -> tuple[str, ...]:
    """Plaintiffs who are people go by surname, as in captions ("Kai Bird" -> "Bird")."""
    if not classes & {"authors", "artists", "developers", "musicians", "creators"}:
        return parties
    out = []
    for p in parties:
        words = p.split()
        folded = set(cn.party_words(p))
        person = 2 <= len(words) <= 3 and all(w[:1].isupper() and w.isalpha() for w in words) \
            and not folded & _ORGANISATION_WORDS and not any(plaintiff_class(w) for w in words)
        out.append(words[-1] if person and not set(cn.party_words(p)) & cn.WEAK_WORDS else p)
    return tuple(out)


def _side(parties: Sequence[str]) -> str:
    parties = list(dict.fromkeys(parties))
    if len(parties) == 1:
        return parties[0]
    joined = ", ".join(parties[:-1]) + " and " + parties[-1]
    return joined if len(parties) <= 3 and len(joined) <= 30 else parties[0]


_ET_AL_RE = re.compile(r"\s+et al\.?(?=\s+vs?\.?\s)")
_ORGANISATION_WORDS = frozenset({"guild", "association", "society", "union", "alliance", "council",
                                 "institute", "foundation", "league", "coalition", "federation"})


def _names(cluster: _Cluster) -> list[str]:
    """The cluster's names, the one to show first: its most written case name, else who
    sued whom as its oldest story says."""
    captions = Counter(cn.name_key(c.caption) for n in cluster.nodes for c in n.claims
                       if c.caption)
    written = {cn.name_key(c.caption): c.caption for n in reversed(cluster.nodes)
               for c in n.claims if c.caption}
    names = [_ET_AL_RE.sub("", written[k]) for k, _ in captions.most_common()]
    names += [written[k] for k, _ in captions.most_common()]
    by_kind: list[str] = []
    for node in cluster.nodes:
        for claim in node.claims:
            against = _side(claim.defendants)
            if claim.plaintiffs:
                names.append(f"{_side(_people(claim.plaintiffs, cluster.classes))} v. {against}")
            elif claim.phrase:
                by_kind.append(f"{claim.phrase[:1].upper()}{claim.phrase[1:]} v. {against}")
    names += by_kind
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(cn.name_key(name), name)
    return list(unique.values()) or ["Unnamed case"]


def _as_cases(clusters: Sequence[_Cluster]) -> list[Case]:
    named = []
    for cluster in clusters:
        names = _names(cluster)
        ids = tuple(dict.fromkeys(n.story.story_id for n in cluster.nodes))
        dates = sorted(n.story.published for n in cluster.nodes if n.story.published)
        forums = Counter(n.forum for n in cluster.nodes if n.forum)
        named.append((cluster, names, ids, dates, forums))
    counts = Counter(cn.name_key(names[0]) for _, names, _, _, _ in named)
    cases = []
    for cluster, names, ids, dates, forums in named:
        name = names[0]
        if counts[cn.name_key(name)] > 1 and forums:  # one name, two courts: say which
            name = f"{name} ({forums.most_common(1)[0][0]})"
        cases.append(Case(key=cn.slug(name), name=name, aliases=tuple(n for n in names
                                                                     if n != name),
                          story_ids=tuple(sorted(ids, key=lambda i: _date_of(cluster, i))),
                          first=dates[0] if dates else None, last=dates[-1] if dates else None,
                          plaintiffs=cluster.plaintiffs, defendants=cluster.defendants))
    keys = Counter(c.key for c in cases)
    seen: Counter[str] = Counter()
    unique = []
    for case in cases:
        if keys[case.key] > 1:
            seen[case.key] += 1
            case = Case(f"{case.key}-{seen[case.key]}", case.name, case.aliases, case.story_ids,
                        case.first, case.last, case.plaintiffs, case.defendants)
        unique.append(case)
    return sorted(unique, key=lambda c: (c.last or "", c.name), reverse=True)


def _date_of(cluster: _Cluster, story_id: str) -> tuple[str, str]:
    node = next(n for n in cluster.nodes if n.story.story_id == story_id)
    return node.story.published or "", story_id


