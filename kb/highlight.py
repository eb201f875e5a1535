"""Highlights: the sentence(s) of a passage that best answer the query, and the matching terms.

Terms are matched after the same analysis as the keyword index. The best sentence is found by
embedding similarity when the match is semantic or cross-lingual (the query's words are not in the
passage), by the number of matched terms otherwise. Ranges are character offsets in the passage text.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kb.analysis import LANGS, fold, terms, word_spans
from kb.embedding import Embedder
from kb.textutil import sentence_spans
from kb.types import Highlight

SEMANTIC_HITS = 3  # sentence embedding is paid for the first hits only
MAX_SENTENCES = 24


def term_ranges(text: str, qterms: set[str], lang: str) -> list[Highlight]:
    return [Highlight(a, b, "term") for a, b, word in word_spans(text) if _forms(word, lang) & qterms]


@lru_cache(maxsize=1 << 16)  # a page of hits repeats most of its words across requests
def _forms(word: str, lang: str) -> frozenset[str]:
    """Every indexed form a word of a passage in ``lang`` can take (its own language first, then fr and en)."""
    return frozenset({fold(word)} | {t for lg in (lang, *LANGS) if lg in LANGS for t in terms(word, lg)})


def _by_terms(spans: list[tuple[int, int]], marks: list[Highlight]) -> tuple[int, int] | None:
    counts = [sum(1 for m in marks if a <= m.start < b) for a, b in spans]
    best = int(np.argmax(counts)) if counts else -1
    return spans[best] if best >= 0 and counts[best] > 0 else None


def highlight_hits(texts: list[str], langs: list[str], query: str, qterms: list[str],
                   qvec: np.ndarray | None, embedder: Embedder | None, semantic: list[bool]) -> list[list[Highlight]]:  # fmt: skip
    """Highlights for each passage; ``semantic[i]`` asks for the sentence embeddings (first hits only)."""
    qset = set(qterms)
    marks = [term_ranges(t, qset, lg) for t, lg in zip(texts, langs, strict=True)]
    spans = [sentence_spans(t)[:MAX_SENTENCES] for t in texts]
    best: list[tuple[int, int] | None] = [_by_terms(s, m) for s, m in zip(spans, marks, strict=True)]
    need = [i for i in range(min(SEMANTIC_HITS, len(texts))) if (semantic[i] or not marks[i]) and len(spans[i]) > 1]
    if need and qvec is not None and embedder is not None:
        sentences = [texts[i][a:b] for i in need for a, b in spans[i]]
        vecs = embedder.encode_passages(sentences)
        pos = 0
        for i in need:
            n = len(spans[i])
            sims = vecs[pos : pos + n] @ qvec
            best[i] = spans[i][int(np.argmax(sims))]
            pos += n
    out = []
    for i, m in enumerate(marks):
        sentence = best[i] or (spans[i][0] if len(spans[i]) == 1 else None)
        out.append(([Highlight(sentence[0], sentence[1], "sentence")] if sentence else []) + m)
    return out
