"""Sentence-aligned passages with character offsets into the article text."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import ChunkSettings
from .text import sentence_spans


@dataclass(frozen=True)
class Passage:
    ord: int
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]  # absolute offsets of each sentence
    sentence_index: tuple[int, ...] = ()  # positions of those sentences in the article

    def text(self, article_text: str) -> str:
        return article_text[self.start:self.end]


def chunk(text: str, settings: ChunkSettings) -> list[Passage]:
    """Split text into passages of about min..max words, never cutting a sentence.

    Consecutive passages share `overlap_sentences` sentences so that an answer
    that straddles a boundary is still whole in one passage.
    """
    spans = sentence_spans(text)
    if not spans:
        return []
    lengths = [len(text[s:e].split()) for s, e in spans]
    groups: list[list[int]] = []
    i = 0
    n = len(spans)
    while i < n:
        group = [i]
        words = lengths[i]
        j = i + 1
        while j < n and (words < settings.min_words or words + lengths[j] <= settings.max_words):
            if words + lengths[j] > settings.max_words * 1.5:
                break
            group.append(j)
            words += lengths[j]
            j += 1
        groups.append(group)
        if j >= n:
            break
        # Step back by the overlap, but always move forward.
        i = max(j - settings.overlap_sentences, group[0] + 1)
    # A short tail that is already covered by the overlap adds nothing.
    if len(groups) > 1:
        tail = groups[-1]
        tail_words = sum(lengths[k] for k in tail)
        prev = groups[-2]
        if tail_words < settings.min_words and set(tail) - set(prev):
            merged = sorted(set(prev) | set(tail))
            if sum(lengths[k] for k in merged) <= settings.max_words * 1.5:
                groups[-2:] = [merged]
        elif set(tail) <= set(prev):
            groups.pop()
    passages = []
    for ord_, group in enumerate(groups):
        sents = tuple(spans[k] for k in group)
        passages.append(Passage(ord=ord_, start=sents[0][0], end=sents[-1][1], sentences=sents,
                                sentence_index=tuple(group)))
    return passages
