"""Highlights: the sentence(s) of a passage that best answer the query, and the matching terms.

Terms are matched after the same analysis as the keyword index, translations included (an English question
marks "mois" in a French passage). The best sentence is the one with the most distinct matched words. When
the match is semantic or cross-lingual and the words do not decide (fewer than two in the best sentence, or a
tie), the first hits' sentences are compared with the query by embedding instead — the costly part of a
search, so its sentence vectors are kept in a small cache by passage text. On 150 real queries each
(bench/highlight_quality.py) it agrees with embedding every sentence of every such hit in 95 % of PIAF's hits,
90 % of CNIL's and 82 % of Europarl's (English questions, French passages), calling the model for 2–30 % of
them; on PIAF the chosen sentence holds the known answer about as often (76.6 % against 77.3 %). Ranges are
character offsets in the passage text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from kb.analysis import LANGS, fold, terms, word_spans
from kb.embedding import Embedder
from kb.textutil import sentence_spans
from kb.types import Highlight

SEMANTIC_HITS = 3  # sentence embedding is paid for the first hits only
MAX_SENTENCES = 24
CACHE_PASSAGES = 4096


class VectorCache:
    """Vectors by text, least recently used forgotten first, safe across threads: the sentence vectors of
    recently highlighted passages (``CACHE``), and the query vectors of :mod:`kb.querycache`."""

    def __init__(self, size: int = CACHE_PASSAGES) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            v = self._data.get(key)
            if v is not None:
                self._data.move_to_end(key)
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


CACHE = VectorCache()  # shared by the requests of a process


def term_ranges(text: str, qterms: set[str], lang: str) -> list[Highlight]:
    return [Highlight(a, b, "term") for a, b, word in _words(text) if _forms(word, lang) & qterms]


@lru_cache(maxsize=CACHE_PASSAGES)  # the same passages come back across requests: tokenise each once
def _words(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(word_spans(text))


@lru_cache(maxsize=CACHE_PASSAGES)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(sentence_spans(text))


@lru_cache(maxsize=1 << 16)  # a page of hits repeats most of its words across requests
def _forms(word: str, lang: str) -> frozenset[str]:
    """Every indexed form a word of a passage in ``lang`` can take (its own language first, then fr and en)."""
    return frozenset({fold(word)} | {t for lg in (lang, *LANGS) if lg in LANGS for t in terms(word, lg)})


def _by_terms(spans: list[tuple[int, int]], marks: list[Highlight], text: str) -> tuple[tuple[int, int] | None, bool]:
    """The sentence with the most distinct matched words, and whether that choice is clear (≥ 2, no tie)."""
    counts = [len({text[m.start : m.end].lower() for m in marks if a <= m.start < b}) for a, b in spans]
    if not counts or max(counts) == 0:
        return None, False
    ranked = sorted(counts, reverse=True)
    clear = ranked[0] >= 2 and (len(ranked) == 1 or ranked[0] > ranked[1])
    return spans[counts.index(ranked[0])], clear


def _sentence_vectors(text: str, spans: list[tuple[int, int]], embedder: Embedder) -> np.ndarray:
    key = f"{embedder.name}|{text}"
    vecs = CACHE.get(key)
    if vecs is None or vecs.shape[0] != len(spans):
        vecs = embedder.encode_sentences([text[a:b] for a, b in spans])
        CACHE.put(key, vecs)
    return vecs


def highlight_hits(texts: list[str], langs: list[str], qterms: list[set[str]], qvec: np.ndarray | None,
                   embedder: Embedder | None, semantic: list[bool]) -> list[list[Highlight]]:  # fmt: skip
    """Highlights for each passage (``qterms[i]``: the analysed query terms to mark in passage ``i``, its
    translations included); ``semantic[i]`` allows the sentence embeddings (first hits only)."""
    marks = [term_ranges(t, q, lg) for t, q, lg in zip(texts, qterms, langs, strict=True)]
    spans = [list(_sentences(t)[:MAX_SENTENCES]) for t in texts]
    out = []
    for i, (text, m, sp) in enumerate(zip(texts, marks, spans, strict=True)):
        best, clear = _by_terms(sp, m, text)
        use_model = i < SEMANTIC_HITS and (semantic[i] or not m) and not clear and len(sp) > 1
        if use_model and qvec is not None and embedder is not None:
            best = sp[int(np.argmax(_sentence_vectors(text, sp, embedder) @ qvec))]
        sentence = best or (sp[0] if len(sp) == 1 else None)
        out.append(([Highlight(sentence[0], sentence[1], "sentence")] if sentence else []) + m)
    return out


SNIPPET_CHARS = 280  # about three lines of the results page
SNIPPET_MAX = 420


def snippet(text: str, sentence: tuple[int, int] | None) -> tuple[int, int]:
    """The span to show of a passage: its best sentence with whole sentences around it up to about three lines
    (a sentence too long alone is cut at a word)."""
    spans = _sentences(text)
    if not spans:
        return 0, min(len(text), SNIPPET_MAX)
    i = next((k for k, (a, b) in enumerate(spans) if sentence and a <= sentence[0] < b), 0)
    lo, hi = i, i
    while spans[hi][1] - spans[lo][0] < SNIPPET_CHARS:
        grow_after = hi + 1 < len(spans) and spans[hi + 1][1] - spans[lo][0] <= SNIPPET_MAX
        grow_before = lo > 0 and spans[hi][1] - spans[lo - 1][0] <= SNIPPET_MAX
        if grow_after:
            hi += 1
        elif grow_before:
            lo -= 1
        else:
            break
    start, end = spans[lo][0], spans[hi][1]
    if end - start > SNIPPET_MAX:
        cut = text.rfind(" ", start, start + SNIPPET_MAX)
        end = cut if cut > start else start + SNIPPET_MAX
    return start, end
