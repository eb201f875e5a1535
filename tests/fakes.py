"""A fake embedder at the Embedder seam: hashed word and character vectors, no model (fast unit tests).

Texts sharing words (after folding) or spellings get close vectors; nothing crosses languages, so a test
that needs an English question to find a French passage through it relies on kb's lexicon, not on this.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kb.analysis import fold, words


class HashEmbedder:
    """Implements kb.embedding.Embedder."""

    name = "test/hash-embedder"
    passage_precision = "fp32"

    def __init__(self, dim: int = 128) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for w in words(text):
            f = fold(w)
            for feat in (f, *(f[i : i + 4] for i in range(max(1, len(f) - 3)))):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode_queries(texts)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.encode_queries(texts)
