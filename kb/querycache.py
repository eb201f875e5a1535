"""Query vectors remembered by text: the page asks again for the query it has just answered (its follow-up for
the model's best sentences), and so do a facet click, the next page and a change of mode. One model run
(17.6 ms of CPU at 100k, bench/profile_search.py) is then paid once per question instead of once per request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kb.embedding import Embedder
from kb.highlight import VectorCache

QUERIES = 2048  # 2048 × 384 floats: 3 MB


class RememberedQueries:
    """Implements :class:`kb.embedding.Embedder` over another one, remembering the vectors of single queries
    (LRU by text); passages and batches go straight through."""

    def __init__(self, inner: Embedder, size: int = QUERIES) -> None:
        self.inner = inner
        self.name, self.dim, self.passage_precision = inner.name, inner.dim, inner.passage_precision
        self._seen = VectorCache(size)

    def __getattr__(self, attr: str) -> Any:  # runtime, query_precision, … of the model behind
        return getattr(self.inner, attr)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.encode_queries(texts)
        vec = self._seen.get(texts[0])
        if vec is None:
            vec = self.inner.encode_queries(texts)[0]
            self._seen.put(texts[0], vec)
        return vec[None, :].copy()

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.inner.encode_passages(texts, progress)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode_sentences(texts)
