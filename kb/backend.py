"""The index seam: what search, ingest, the API and the CLI need of an index, whatever engine holds it.

Two backends implement it: ``local`` (the default: SQLite + FAISS + tantivy in immutable generations under
the index folder, :mod:`kb.local`) and ``qdrant`` (Qdrant, in process through Qdrant Edge or on a server
cluster, :mod:`kb.qdrant`). Search and fusion are kb's own and run the same over both: a backend supplies
candidates with their scores, passages with their citations, documents and pages, and applies changes.

A reader is one consistent view (one generation): every call of a request goes to the same reader, so an
answer never mixes the index before and after a write. Filters cross the seam as :class:`kb.types.Filters`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kb.calibration import Background
from kb.embedding import Embedder
from kb.types import Chunk, Document, Filters
from kb.typos import Vocabulary

BACKENDS = ("local", "qdrant")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class IndexInfo:
    """What a reader says about itself: its generation, model and size (the API's health, `kb docs`)."""

    backend: str
    generation: str
    model: str
    dimension: int
    passage_precision: str
    documents: int
    pages: int
    passages: int
    dense: str  # the dense index kind: flat, hnsw (FAISS) or qdrant-hnsw
    built_at: str
    languages: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Passage:
    """A stored passage: where it is (document, page, span) and what it says."""

    vid: int
    chunk_id: str
    doc_id: str
    seq: int
    page: int
    start: int
    end: int
    section: str
    language: str
    text: str
    text_hash: str
    terms: str  # analysed terms, space-separated (as the keyword side indexes them)


@dataclass
class Change:
    """Documents to add (with their passages and passage vectors), documents to remove, source hashes to
    record (None: forget the source), and original files to keep (stored name → path)."""

    docs: list[Document] = field(default_factory=list)
    chunks: list[list[Chunk]] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    sources: dict[str, str | None] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def add(self, doc: Document, chunks: list[Chunk]) -> None:
        self.docs.append(doc)
        self.chunks.append(chunks)

    def replace_source(self, key: str, digest: str | None, old_doc_ids: list[str]) -> None:
        self.sources[key] = digest
        self.removed.update(old_doc_ids)

    def remove_documents(self, doc_ids: list[str]) -> None:
        self.removed.update(doc_ids)

    def empty(self) -> bool:
        return not (self.docs or self.removed or self.sources)

    def texts(self) -> list[str]:
        return [c.text for chunks in self.chunks for c in chunks]

    def embed(self, embedder: Embedder, progress: bool = False) -> None:
        """Encode every new passage (once, whatever the backend)."""
        vecs = embedder.encode_passages(self.texts(), progress=progress)
        sizes = [len(c) for c in self.chunks]
        bounds = np.cumsum([0, *sizes])
        self.vectors = [vecs[a:b] for a, b in pairwise(bounds.tolist())]


class IndexReader(Protocol):
    """One consistent view of an index (one generation), opened with the model its passages were encoded by."""

    background: Background
    embedder: Embedder

    @property
    def generation(self) -> str: ...

    def info(self) -> IndexInfo: ...

    # candidates --------------------------------------------------------------------------------------
    def dense(self, qvec: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]: ...

    def keyword(self, groups: list[list[tuple[str, float]]], k: int, language: str | None,
                exclude: list[str] | None, filters: Filters) -> list[tuple[int, float]]: ...  # fmt: skip

    def cosines(self, qvec: np.ndarray, vids: list[int]) -> list[float]: ...

    def languages(self, vids: list[int]) -> list[str]: ...

    def doc_ids(self, vids: list[int]) -> list[str]: ...

    def passage_languages(self) -> list[str]: ...

    def vocabulary(self) -> Vocabulary | None: ...

    # passages, documents, pages, files ---------------------------------------------------------------
    def passages(self, vids: list[int]) -> dict[int, Passage]: ...

    def same_text(self, hashes: list[str]) -> dict[str, list[Passage]]: ...

    def document(self, doc_id: str) -> dict[str, Any] | None: ...

    def documents(self, offset: int = 0, limit: int = -1) -> list[dict[str, Any]]: ...

    def document_count(self) -> int: ...

    def page(self, doc_id: str, n: int) -> str | None: ...

    def page_sizes(self, doc_id: str) -> list[tuple[int, int]]: ...

    def ocr_pages(self, doc_id: str) -> set[int]: ...

    def page_passages(self, doc_id: str, n: int) -> list[Passage]: ...

    def document_passages(self, doc_id: str) -> list[Passage]: ...

    def stored_file(self, doc_id: str) -> Path | None: ...

    # what ingest needs to decide what changed ---------------------------------------------------------
    def sources(self) -> dict[str, str]: ...

    def docs_of_source(self, key: str) -> list[str]: ...

    def close(self) -> None: ...


class IndexBackend(Protocol):
    """Where an index lives: opens readers of its live generation and applies changes (one writer at a time)."""

    name: str

    def current(self) -> str: ...

    def open(self, embedder: Embedder) -> IndexReader: ...

    def exists(self) -> bool: ...

    def require(self) -> None:
        """Raise NoIndexError, saying how to build one, unless an index exists."""
        ...

    def writing(self) -> AbstractContextManager[None]: ...

    def apply(self, change: Change, embedder: Embedder, progress: Progress | None = None) -> str: ...


def backend_for(settings: Any) -> IndexBackend:
    """The backend of ``settings.index_backend``: local (default) or qdrant."""
    from kb.errors import InputError

    if settings.index_backend == "local":
        from kb.local import LocalBackend

        return LocalBackend(settings)
    if settings.index_backend == "qdrant":
        from kb.qdrant import QdrantBackend

        return QdrantBackend(settings)
    raise InputError(f"index backend must be one of {', '.join(BACKENDS)}, not {settings.index_backend!r}",
                     field="backend")  # fmt: skip


def open_index(settings: Any, embedder: Embedder) -> IndexReader:
    """A reader of the live index of ``settings`` (whatever its backend)."""
    return backend_for(settings).open(embedder)


def iter_batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
