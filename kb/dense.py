"""The dense vector index: exact inner product while small, FAISS HNSW above ``exact_max`` passages.

Row ``i`` of the vectors is the chunk with ``vid = i``. Filters are applied inside retrieval: a small
allowed set is scanned exactly; a large one is searched with a FAISS ID selector.

Loaded for search, nothing is copied: the exact index scans the memory-mapped ``vectors.npy`` and the HNSW
graph is memory-mapped read-only (``IO_FLAG_MMAP_IFC``), so the processes of ``kb serve --workers N`` share
one copy in the page cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
SUBSET_SCAN_MAX = 20_000


def ef_search(n: int) -> int:
    """efSearch grows with the index so recall@10 stays ≥ 0.98 (the sweep in bench/scale.py measures it)."""
    return 1024 if n <= 200_000 else 2048


class DenseIndex:
    def __init__(self, vectors: np.ndarray, index: Any, kind: str) -> None:
        self.vectors = vectors
        self.index = index
        self.kind = kind

    @property
    def size(self) -> int:
        return int(self.vectors.shape[0])

    @classmethod
    def build(cls, vectors: np.ndarray, exact_max: int, threads: int = 2) -> DenseIndex:
        import faiss

        faiss.omp_set_num_threads(max(1, threads))
        d = vectors.shape[1]
        if vectors.shape[0] <= exact_max:
            return cls(vectors, None, "flat")
        hnsw = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.add(vectors)
        return cls(vectors, hnsw, "hnsw")

    @classmethod
    def extend(cls, prev: Path, vectors: np.ndarray, threads: int = 2) -> DenseIndex:
        """The previous HNSW graph with the rows it lacks appended (a write that only adds passages)."""
        import faiss

        faiss.omp_set_num_threads(max(1, threads))
        index = faiss.read_index(str(prev))
        index.add(vectors[index.ntotal :])
        return cls(vectors, index, "hnsw")

    def save(self, path: Path) -> None:
        import faiss

        if self.kind == "hnsw":
            faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, vectors: np.ndarray, path: Path, kind: str, threads: int = 2) -> DenseIndex:
        import faiss

        faiss.omp_set_num_threads(max(1, threads))
        if kind == "hnsw":
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
            if index.ntotal != vectors.shape[0]:
                from kb.errors import IndexMismatchError

                raise IndexMismatchError(f"{path}: {index.ntotal} vectors in the HNSW graph, {vectors.shape[0]} stored")
            return cls(vectors, index, kind)
        return cls(vectors, None, "flat")

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, vids) by inner product; ``allowed`` is a boolean mask over vids."""
        n = self.size
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            return self._exact(q[0], k, None) if self.index is None else self._search(q, k, None)
        ids = np.flatnonzero(allowed)
        if ids.size == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if ids.size <= SUBSET_SCAN_MAX or self.index is None:
            return self._exact(q[0], k, ids)
        return self._search(q, min(k, ids.size), ids)

    def _exact(self, q: np.ndarray, k: int, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Inner product with every (allowed) row, best ``k`` first (ties by vid)."""
        scores = (self.vectors if ids is None else self.vectors[ids]) @ q
        k = min(k, scores.shape[0])
        part = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        top = part[np.lexsort((part, -scores[part]))]
        vids = top if ids is None else ids[top]
        return scores[top].astype(np.float32), vids.astype(np.int64)

    def _search(self, q: np.ndarray, k: int, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        params = None
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                efSearch=max(ef_search(self.size), k)
            )
            if ids is not None:
                params.sel = faiss.IDSelectorBatch(ids.astype(np.int64))
        scores, vids = self.index.search(q, k, params=params)
        keep = vids[0] >= 0
        return scores[0][keep], vids[0][keep].astype(np.int64)
