"""The ``local`` backend (the default): SQLite + FAISS + tantivy in immutable generations under the index folder.

A reader is one generation, opened whole (:func:`load`); a write builds the next generation beside it and
swaps ``CURRENT`` atomically (:mod:`kb.builder`, :mod:`kb.generations`). Filters become a mask over the
passage vectors (dense side) and clauses of the tantivy query (keyword side).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kb import calibration, generations, typos
from kb.backend import Change, IndexInfo, Passage, Progress
from kb.calibration import Background
from kb.dense import DenseIndex
from kb.embedding import Embedder
from kb.filters import PassageTable
from kb.keyword import KeywordIndex
from kb.settings import Settings
from kb.store import Store
from kb.types import Filters
from kb.typos import Vocabulary


class LocalIndex:
    """One generation of a local index (implements :class:`kb.backend.IndexReader`)."""

    def __init__(self, path: Path, manifest: dict[str, Any], store: Store, dense: DenseIndex,
                 keyword: KeywordIndex, table: PassageTable, background: Background, embedder: Embedder) -> None:  # fmt: skip
        self.path, self.manifest, self.store, self.embedder = path, manifest, store, embedder
        self.dense_index, self.keyword_index, self.table, self.background = dense, keyword, table, background
        self._allowed = lru_cache(maxsize=64)(self.table.allowed)
        self._vocab: Vocabulary | None = None

    @property
    def generation(self) -> str:
        return self.path.name

    def info(self) -> IndexInfo:
        m = self.manifest
        langs = self.table.lang_codes
        counts = np.bincount(self.table.chunk_lang.astype(np.int64), minlength=len(langs))
        return IndexInfo(
            backend="local", generation=self.generation, model=m["model"], dimension=m["dimension"],
            passage_precision=m.get("passage_precision", "fp32"), documents=m["counts"]["documents"],
            pages=m["counts"]["pages"], passages=m["counts"]["chunks"], dense=m["dense"]["kind"],
            built_at=m["built_at"], languages={lg: int(n) for lg, n in zip(langs, counts, strict=True)},
        )  # fmt: skip

    # candidates --------------------------------------------------------------------------------------
    def dense(self, qvec: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        mask, _ = self._allowed(filters)
        scores, vids = self.dense_index.search(qvec, k, mask)
        return list(zip(vids.tolist(), scores.tolist(), strict=True))

    def keyword(self, groups: list[list[tuple[str, float]]], k: int, language: str | None,
                exclude: list[str] | None, filters: Filters) -> list[tuple[int, float]]:  # fmt: skip
        _, doc_ids = self._allowed(filters)
        return [(v, s) for s, v in self.keyword_index.search_groups(groups, k, language, doc_ids, exclude)]

    def cosines(self, qvec: np.ndarray, vids: list[int]) -> list[float]:
        return (self.dense_index.vectors[vids] @ qvec).tolist() if vids else []

    def languages(self, vids: list[int]) -> list[str]:
        codes = self.table.lang_codes
        return [codes[self.table.chunk_lang[v]] for v in vids]

    def doc_ids(self, vids: list[int]) -> list[str]:
        return [self.table.doc_ids[self.table.chunk_doc[v]] for v in vids]

    def passage_languages(self) -> list[str]:
        return list(self.table.lang_codes)

    def vocabulary(self) -> Vocabulary | None:
        if self._vocab is None:
            self._vocab = Vocabulary.load(self.path / typos.FILE) or Vocabulary()
        return self._vocab if self._vocab.stems else None

    @property
    def size(self) -> int:
        return self.dense_index.size

    # passages, documents, pages, files ---------------------------------------------------------------
    def passages(self, vids: list[int]) -> dict[int, Passage]:
        return {v: _passage(r) for v, r in self.store.chunks_by_vid(vids).items()}

    def same_text(self, hashes: list[str]) -> dict[str, list[Passage]]:
        return {h: [_passage(r) for r in rows] for h, rows in self.store.same_text(hashes).items()}

    def document(self, doc_id: str) -> dict[str, Any] | None:
        return self.table.docs.get(doc_id)

    def documents(self, offset: int = 0, limit: int = -1) -> list[dict[str, Any]]:
        docs = list(self.table.docs.values())
        return docs[offset:] if limit < 0 else docs[offset : offset + limit]

    def document_count(self) -> int:
        return len(self.table.docs)

    def page(self, doc_id: str, n: int) -> str | None:
        return self.store.page(doc_id, n)

    def ocr_pages(self, doc_id: str) -> set[int]:
        return self.store.ocr_pages(doc_id)

    def page_sizes(self, doc_id: str) -> list[tuple[int, int]]:
        return [(n, len(t)) for n, t in self.store.pages(doc_id)]

    def page_passages(self, doc_id: str, n: int) -> list[Passage]:
        return [p for p in self.document_passages(doc_id) if p.page == n]

    def document_passages(self, doc_id: str) -> list[Passage]:
        return [_passage(r) for r in self.store.chunks_of(doc_id)]

    def stored_file(self, doc_id: str) -> Path | None:
        doc = self.table.docs.get(doc_id)
        path = self.path / "files" / doc["stored_file"] if doc and doc["stored_file"] else None
        return path if path is not None and path.is_file() else None

    def sources(self) -> dict[str, str]:
        return self.store.sources()

    def docs_of_source(self, key: str) -> list[str]:
        return self.store.docs_of_source(key)

    def close(self) -> None:
        self.store.close()


def _passage(r: dict[str, Any]) -> Passage:
    return Passage(r["vid"], r["chunk_id"], r["doc_id"], r["seq"], r["page"], r["start"], r["end_"], r["section"],
                   r["language"], r["text"], r["text_hash"], r["terms"])  # fmt: skip


def load(index_dir: Path, embedder: Embedder, threads: int = 2) -> LocalIndex:
    """Open the live generation; fails loudly if it was built with another model or format."""
    gen = generations.require_current(index_dir)
    manifest = generations.read_manifest(gen)
    generations.check_model(manifest, embedder.name, embedder.dim)
    store = Store(gen / "kb.sqlite", readonly=True)
    # memory-mapped: shared by the processes of `kb serve --workers N`, a few rows read per query
    vectors = np.load(gen / "vectors.npy", mmap_mode="r")
    dense = DenseIndex.load(vectors, gen / "dense.faiss", manifest["dense"]["kind"], threads)
    table = _table(store)
    keyword = KeywordIndex.load(gen / "keyword")
    background = calibration.select(table.lang_codes, table.chunk_lang, dense.vectors, embedder.name)
    return LocalIndex(gen, manifest, store, dense, keyword, table, background, embedder)


def _table(store: Store) -> PassageTable:
    docs = {d["doc_id"]: d for d in store.documents()}
    doc_ids = list(docs)
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    langs: list[str] = []
    lang_index: dict[str, int] = {}
    chunk_lang, chunk_doc = [], []
    for lang, doc_id in store.iter_chunk_rows("language, doc_id"):
        if lang not in lang_index:
            lang_index[lang] = len(langs)
            langs.append(lang)
        chunk_lang.append(lang_index[lang])
        chunk_doc.append(doc_index[doc_id])
    return PassageTable(langs, np.array(chunk_lang, np.int16), np.array(chunk_doc, np.int32), doc_ids, docs)


class LocalBackend:
    """An index folder of generations (implements :class:`kb.backend.IndexBackend`)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = settings.index_dir

    def current(self) -> str:
        return generations.current_name(self.index_dir)

    def exists(self) -> bool:
        return generations.current(self.index_dir) is not None

    def require(self) -> None:
        generations.require_current(self.index_dir)

    def open(self, embedder: Embedder) -> LocalIndex:
        return load(self.index_dir, embedder, self.settings.threads)

    @contextmanager
    def writing(self) -> Iterator[None]:
        with generations.writer_lock(self.index_dir):
            generations.clean(self.index_dir)
            yield

    def apply(self, change: Change, embedder: Embedder, progress: Progress | None = None) -> str:
        from kb.builder import build_generation

        prev = generations.current(self.index_dir)
        return build_generation(self.settings, embedder, prev, change, progress).name
