"""The ``qdrant`` backend: the same search over Qdrant, in process (Qdrant Edge) or on a server cluster.

Passages are points with a dense vector (HNSW, cosine) and a sparse ``bm25`` vector built from kb's own
French/English analysis (BM25 term weights; the engine multiplies by its IDF), so the keyword side scores the
same terms as the local backend; language, document and the generation fields are indexed payload, so
filters apply inside retrieval. Documents, pages and sources are vector-less points of the same collection;
original files live in ``files/`` under the index folder (a shared volume for a cluster).

Generations without copies: a write adds its points with ``gen_added = G+1``, marks the points it removes
with ``gen_removed = G+1``, then switches the ``meta`` record to G+1 in one upsert. A reader of generation G
sees ``gen_added ≤ G`` and not ``gen_removed ≤ G``, so an answer is never a mix; marked points are deleted by
the next write. A delete removes points: nothing is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kb import calibration, generations
from kb.backend import Change, IndexInfo, Passage, Progress
from kb.calibration import Background
from kb.dense import ef_search
from kb.embedding import Embedder
from kb.errors import NoIndexError
from kb.filters import allowed_docs
from kb.qdrant_store import Cond, EdgeStore, ServerStore
from kb.settings import Settings
from kb.types import Filters
from kb.typos import Vocabulary

VOCAB = "qdrant-vocab.tsv"  # the typo-tolerance vocabulary, beside the shard (words only grow)
META = str(uuid.uuid5(uuid.NAMESPACE_URL, "kb:meta"))
K1, B = 1.2, 0.75  # BM25, as tantivy
BATCH = 256
DOC_FIELDS = ("doc_id", "title", "publisher", "source_url", "date", "language", "kind", "paginated", "source_key",
              "content_hash", "stored_file", "n_pages", "n_chunks")  # fmt: skip


def term_id(term: str) -> int:
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little") & 0x7FFFFFFF


def _rid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "kb:" + "|".join(map(str, parts))))


def visible(g: int) -> Cond:
    """Points of generation ``g``."""
    return Cond([("le", "gen_added", g)], [("le", "gen_removed", g)])


class QdrantIndex:
    """Generation ``g`` of a Qdrant-held index (implements :class:`kb.backend.IndexReader`)."""

    def __init__(self, store: Any, meta: dict[str, Any], embedder: Embedder, files: Path) -> None:
        self.store, self.meta, self.embedder, self.files = store, meta, embedder, files
        self.g = int(meta["generation"])
        self.vis = visible(self.g)
        self._lang: dict[int, tuple[str, str]] = {}
        self._vocab: Vocabulary | None = None
        self._docs: dict[Filters, list[str] | None] = {}
        counts = dict(store.facet("language", self.vis & Cond([("eq", "rec", "passage")])))
        self._languages = {str(k): v for k, v in counts.items()}
        self.background = self._background()

    @property
    def generation(self) -> str:
        return f"q{self.g:06d}"

    def info(self) -> IndexInfo:
        m = self.meta
        return IndexInfo("qdrant", self.generation, m["model"], m["dimension"], m["passage_precision"],
                         m["documents"], m["pages"], m["passages"], "qdrant-hnsw", m["built_at"], dict(self._languages))  # fmt: skip

    def _background(self) -> Background:
        small = calibration.for_small_collection(self._languages, self.embedder.name, self.meta["dimension"])
        if small is not None:
            return small
        samples = {}
        for lang, n in self._languages.items():
            if n >= calibration.SAMPLE_MIN:
                cond = self.vis & Cond([("eq", "language", lang), ("eq", "rec", "passage")])
                recs, _ = self.store.scroll(cond, calibration.SAMPLE_SIZE, vectors=True)
                samples[lang] = np.array([r[1]["dense"] for r in recs], np.float32)
        return Background(samples, "collection" if samples else "none")

    # candidates --------------------------------------------------------------------------------------
    def _cond(self, filters: Filters, language: str | None = None, exclude: list[str] | None = None) -> Cond:
        c = self.vis & Cond([("eq", "rec", "passage")])
        langs = (language,) if language else filters.langs()
        if langs:
            c.must.append(("any", "language", list(langs)))
        if exclude:
            c.must_not.append(("any", "language", exclude))
        docs = self._allowed_docs(filters)
        if docs is not None:
            c.must.append(("any", "doc_id", docs or ["\0none"]))
        return c

    def _allowed_docs(self, f: Filters) -> list[str] | None:
        """The documents a document, source or date filter allows (None: all), as the local backend decides."""
        if not (f.doc_id or f.source or f.date_from or f.date_to):
            return None
        if f not in self._docs:
            self._docs[f] = allowed_docs({d["doc_id"]: d for d in self.documents()}, f)
        return self._docs[f]

    def _remember(self, hits: list[tuple[Any, float, dict[str, Any]]]) -> list[tuple[int, float]]:
        for i, _, p in hits:
            self._lang[int(i)] = (p.get("language", ""), p.get("doc_id", ""))
        return [(int(i), s) for i, s, _ in hits]

    def dense(self, qvec: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]]:
        ef = max(ef_search(int(self.meta["passages"])), k)
        return self._remember(
            self.store.nearest("dense", qvec.tolist(), k, self._cond(filters), ["language", "doc_id"], ef)
        )

    def keyword(self, groups: list[list[tuple[str, float]]], k: int, language: str | None,
                exclude: list[str] | None, filters: Filters) -> list[tuple[int, float]]:  # fmt: skip
        weights: dict[int, float] = {}
        for group in groups:
            for term, w in group:
                weights[term_id(term)] = max(weights.get(term_id(term), 0.0), w)
        if not weights:
            return []
        sparse = (list(weights), list(weights.values()))
        return self._remember(
            self.store.nearest("bm25", sparse, k, self._cond(filters, language, exclude), ["language"])
        )

    def cosines(self, qvec: np.ndarray, vids: list[int]) -> list[float]:
        vecs = {int(i): v["dense"] for i, v, _ in self.store.retrieve(vids, vectors=True)}
        return [float(np.dot(vecs[v], qvec)) if v in vecs else 0.0 for v in vids]

    def _known(self, vids: list[int]) -> list[tuple[str, str]]:
        """(language, document) of passages, remembered from the searches that returned them."""
        missing = [v for v in vids if v not in self._lang]
        if missing:
            for i, _, p in self.store.retrieve(missing):
                self._lang[int(i)] = (p.get("language", ""), p.get("doc_id", ""))
        return [self._lang.get(v, ("", "")) for v in vids]

    def languages(self, vids: list[int]) -> list[str]:
        return [lang for lang, _ in self._known(vids)]

    def doc_ids(self, vids: list[int]) -> list[str]:
        return [doc for _, doc in self._known(vids)]

    def passage_languages(self) -> list[str]:
        return list(self._languages)

    def vocabulary(self) -> Vocabulary | None:
        if self._vocab is None:
            self._vocab = Vocabulary.load(self.files.parent / VOCAB) or Vocabulary()
        return self._vocab if self._vocab.stems else None

    # passages, documents, pages, files ---------------------------------------------------------------
    def passages(self, vids: list[int]) -> dict[int, Passage]:
        return {int(i): _passage(p) for i, _, p in self.store.retrieve(vids) if self._sees(p)}

    def _sees(self, p: dict[str, Any]) -> bool:
        return int(p.get("gen_added", 1 << 40)) <= self.g and int(p.get("gen_removed", 1 << 40)) > self.g

    def _all(self, cond: Cond, limit: int = -1) -> Iterator[dict[str, Any]]:
        offset, n = None, 0
        while True:
            recs, offset = self.store.scroll(self.vis & cond, 512, offset)
            for _, _, p in recs:
                yield p
                n += 1
                if n == limit:
                    return
            if offset is None:
                return

    def same_text(self, hashes: list[str]) -> dict[str, list[Passage]]:
        out: dict[str, list[Passage]] = {}
        if hashes:
            for p in sorted(
                self._all(Cond([("eq", "rec", "passage"), ("any", "text_hash", hashes)])), key=lambda p: p["vid"]
            ):
                out.setdefault(p["text_hash"], []).append(_passage(p))
        return out

    def document(self, doc_id: str) -> dict[str, Any] | None:
        found = list(self._all(Cond([("eq", "rec", "doc"), ("eq", "doc_id", doc_id)]), 1))
        return {k: found[0].get(k) for k in DOC_FIELDS} if found else None

    def documents(self, offset: int = 0, limit: int = -1) -> list[dict[str, Any]]:
        docs = sorted(({k: p.get(k) for k in DOC_FIELDS} for p in self._all(Cond([("eq", "rec", "doc")]))),
                      key=lambda d: str(d["doc_id"]))  # fmt: skip
        return docs[offset:] if limit < 0 else docs[offset : offset + limit]

    def document_count(self) -> int:
        return int(self.meta["documents"])

    def page(self, doc_id: str, n: int) -> str | None:
        found = list(self._all(Cond([("eq", "rec", "page"), ("eq", "doc_id", doc_id), ("eq", "n", n)]), 1))
        return found[0]["text"] if found else None

    def ocr_pages(self, doc_id: str) -> set[int]:
        pages = self._all(Cond([("eq", "rec", "page"), ("eq", "doc_id", doc_id)]))
        return {int(p["n"]) for p in pages if p.get("ocr")}

    def page_sizes(self, doc_id: str) -> list[tuple[int, int]]:
        pages = self._all(Cond([("eq", "rec", "page"), ("eq", "doc_id", doc_id)]))
        return sorted((int(p["n"]), len(p["text"])) for p in pages)

    def page_passages(self, doc_id: str, n: int) -> list[Passage]:
        return [p for p in self.document_passages(doc_id) if p.page == n]

    def document_passages(self, doc_id: str) -> list[Passage]:
        ps = self._all(Cond([("eq", "rec", "passage"), ("eq", "doc_id", doc_id)]))
        return sorted((_passage(p) for p in ps), key=lambda p: p.seq)

    def stored_file(self, doc_id: str) -> Path | None:
        doc = self.document(doc_id)
        path = self.files / doc["stored_file"] if doc and doc.get("stored_file") else None
        return path if path is not None and path.is_file() else None

    def sources(self) -> dict[str, str]:
        recs = self.store.scroll(Cond([("eq", "rec", "source")]), 1 << 20)[0]
        return {p["source_key"]: p["content_hash"] for _, _, p in recs}

    def docs_of_source(self, key: str) -> list[str]:
        return [p["doc_id"] for p in self._all(Cond([("eq", "rec", "doc"), ("eq", "source_key", key)]))]

    def close(self) -> None:
        pass


def _passage(p: dict[str, Any]) -> Passage:
    return Passage(int(p["vid"]), p["chunk_id"], p["doc_id"], int(p["seq"]), int(p["page"]), int(p["start"]),
                   int(p["end"]), p["section"], p["language"], p["text"], p["text_hash"], p["terms"])  # fmt: skip


class QdrantBackend:
    """Qdrant Edge under the index folder, or a Qdrant server when ``qdrant_url`` is set (implements
    :class:`kb.backend.IndexBackend`)."""

    name = "qdrant"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = settings.index_dir
        if settings.qdrant_url:
            self.store: Any = ServerStore(settings.qdrant_url, settings.qdrant_api_key, settings.qdrant_collection,
                                          settings.qdrant_shards, settings.qdrant_replicas)  # fmt: skip
        else:
            self.store = EdgeStore(settings.index_dir / "qdrant")

    def _meta(self) -> dict[str, Any] | None:
        if not self.store.exists():
            return None
        found = self.store.retrieve([META])
        return found[0][2] if found else None

    def current(self) -> str:
        meta = self._meta()
        return f"q{int(meta['generation']):06d}" if meta else ""

    def exists(self) -> bool:
        return self._meta() is not None

    def require(self) -> None:
        self._existing_meta()

    def _existing_meta(self) -> dict[str, Any]:
        meta = self._meta()
        if meta is None:
            where = self.settings.qdrant_url or self.index_dir
            raise NoIndexError(f"no index in {where} (qdrant backend): build one with `kb ingest --backend qdrant`",
                               field="index")  # fmt: skip
        return meta

    def open(self, embedder: Embedder) -> QdrantIndex:
        meta = self._existing_meta()
        generations.check_model(meta, embedder.name, embedder.dim)
        return QdrantIndex(self.store, meta, embedder, self.index_dir / "files")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with generations.writer_lock(self.index_dir):
            yield

    def apply(self, change: Change, embedder: Embedder, progress: Progress | None = None) -> str:
        from kb.qdrant_write import apply

        meta = self._meta() or {}
        if meta:
            generations.check_model(meta, embedder.name, embedder.dim)
            generations.check_precision(meta, embedder.passage_precision)
        if len(change.vectors) != len(change.docs):
            change.embed(embedder)
        self.store.ensure(embedder.dim)
        new = apply(self.store, meta, change, embedder, self.index_dir / "files", progress)
        vocab = Vocabulary.load(self.index_dir / VOCAB) or Vocabulary()
        for chunks in change.chunks:
            for c in chunks:
                vocab.add(c.text, c.language)
        vocab.save(self.index_dir / VOCAB)
        return f"q{int(new['generation']):06d}"
