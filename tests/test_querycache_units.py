"""The query-vector memory in front of the model (fast: a counting fake at the Embedder seam)."""

from __future__ import annotations

import numpy as np

from kb.querycache import RememberedQueries
from tests.fakes import HashEmbedder


class Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().encode_queries(texts)


def test_a_query_asked_again_is_not_encoded_again() -> None:
    inner = Counting()
    emb = RememberedQueries(inner, size=2)
    first = emb.encode_queries(["stock de sécurité"])
    again = emb.encode_queries(["stock de sécurité"])
    assert np.array_equal(first, again) and first.shape == (1, inner.dim)
    assert inner.calls == [["stock de sécurité"]]
    again[0, 0] = 42.0  # a caller changing its copy changes nothing remembered
    assert emb.encode_queries(["stock de sécurité"])[0, 0] != 42.0


def test_least_recent_queries_are_forgotten_and_batches_pass_through() -> None:
    inner = Counting()
    emb = RememberedQueries(inner, size=2)
    for q in ("a", "b", "a", "c", "a", "b"):  # "b" was the least recent when "c" came
        emb.encode_queries([q])
    assert inner.calls == [["a"], ["b"], ["c"], ["b"]]
    emb.encode_queries(["a", "b"])
    assert inner.calls[-1] == ["a", "b"]
    assert emb.name == inner.name and emb.dim == inner.dim and emb.passage_precision == inner.passage_precision
    assert emb.encode_passages(["x"]).shape == (1, inner.dim)
