"""A loaded index generation and the search over it (modes keyword, semantic, hybrid)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb import generations
from kb.analysis import neutral_terms, query_terms, words
from kb.dense import DenseIndex
from kb.embedding import Embedder
from kb.errors import NotFoundError, QueryError
from kb.filters import PassageTable, validate
from kb.fusion import hybrid, soften
from kb.highlight import highlight_hits
from kb.keyword import KeywordIndex
from kb.langid import query_language
from kb.store import Store
from kb.types import Citation, Filters, Hit, SearchResult

MODES = ("hybrid", "semantic", "keyword")
HIGHLIGHTS = ("auto", "terms", "none")
_HAS_WORD = re.compile(r"\w", re.UNICODE)


@dataclass
class Index:
    path: Path
    manifest: dict[str, Any]
    store: Store
    dense: DenseIndex
    keyword: KeywordIndex
    table: PassageTable
    embedder: Embedder
    background: dict[int, np.ndarray]

    @property
    def generation(self) -> str:
        return self.path.name

    def close(self) -> None:
        self.store.close()


def load(index_dir: Path, embedder: Embedder, threads: int = 2) -> Index:
    """Open the live generation; fails loudly if it was built with another model or format."""
    gen = generations.require_current(index_dir)
    manifest = generations.read_manifest(gen)
    generations.check_model(manifest, embedder.name, embedder.dim)
    store = Store(gen / "kb.sqlite", readonly=True)
    # memory-mapped: FAISS holds its own copy; this one serves filters, fusion and calibration, a few rows a query
    vectors = np.load(gen / "vectors.npy", mmap_mode="r")
    dense = DenseIndex.load(vectors, gen / "dense.faiss", manifest["dense"]["kind"], threads)
    table = _table(store)
    keyword = KeywordIndex.load(gen / "keyword")
    return Index(gen, manifest, store, dense, keyword, table, embedder, _background(table, dense.vectors))


BACKGROUND_SAMPLE = 256
BACKGROUND_MIN = 8


def _background(table: PassageTable, vectors: np.ndarray) -> dict[int, np.ndarray]:
    """A fixed random sample of passage vectors per language, to measure each query's background."""
    rng = np.random.default_rng(0)
    out = {}
    for code in range(len(table.lang_codes)):
        vids = np.flatnonzero(table.chunk_lang == code)
        if vids.size >= BACKGROUND_MIN:
            pick = np.sort(rng.choice(vids, min(BACKGROUND_SAMPLE, vids.size), replace=False))
            out[code] = np.ascontiguousarray(vectors[pick])
    return out


def language_offsets(index: Index, qvec: np.ndarray) -> dict[int, float]:
    """How much higher this query scores unrelated passages of each language than of the others.

    Multilingual embedders give a query a higher cosine with any passage of its own language (e5-small:
    +0.012 to +0.024 on Europarl, about one standard deviation of the background). Subtracting each
    language's median background puts French and English passages on one scale.
    """
    if len(index.background) < 2:
        return {}
    medians = {code: float(np.median(sample @ qvec)) for code, sample in index.background.items()}
    floor = min(medians.values())
    return {code: m - floor for code, m in medians.items()}


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


def check_query(query: str, k: int, mode: str, max_chars: int, max_k: int, offset: int = 0) -> str:
    q = (query or "").strip()
    if not q:
        raise QueryError("the query is empty: type a question or some words", field="q")
    if len(q) > max_chars:
        raise QueryError(f"the query has {len(q)} characters; the limit is {max_chars}", field="q")
    if not _HAS_WORD.search(q):
        raise QueryError("the query has no words (only punctuation or symbols)", field="q")
    if mode not in MODES:
        raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode[:20]!r}", field="mode")
    if not 1 <= k <= max_k:
        raise QueryError(f"k must be between 1 and {max_k}", field="k")
    if not 0 <= offset <= 1000:
        raise QueryError("offset must be between 0 and 1000", field="offset")
    return q


def search(index: Index, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
           offset: int = 0, highlight: str = "auto", max_chars: int = 2000, max_k: int = 100) -> SearchResult:  # fmt: skip
    """Ranked, cited passages for ``query``; one hit per distinct passage text."""
    t0 = time.perf_counter()
    q = check_query(query, k, mode, max_chars, max_k, offset)
    filters = filters or Filters()
    validate(filters)
    if highlight not in HIGHLIGHTS:
        raise QueryError(f"highlight must be one of {', '.join(HIGHLIGHTS)}", field="highlight")
    if filters.doc_id and filters.doc_id not in index.table.docs:
        raise NotFoundError(f"no document {filters.doc_id[:80]!r} in the index", field="doc")
    probs = soften(query_language(q), len(words(q)))
    qlang = max(probs, key=lambda x: probs[x]) if probs else "und"
    mask, doc_ids = index.table.allowed(filters)
    want = offset + k
    n_cand = max(100, want * 4)
    qvec = index.embedder.encode_queries([q])[0] if mode != "keyword" or highlight == "auto" else None
    qterms = query_terms(q)
    ranked = _rank(index, mode, q, qvec, qterms, n_cand, mask, filters.language, doc_ids, probs)
    hits = _hits(index, ranked, want, q, qterms, qvec, highlight, mode, qlang)[offset:]
    took = (time.perf_counter() - t0) * 1000
    return SearchResult(q, qlang, mode, took, hits, len(ranked), index.generation)


def _rank(index: Index, mode: str, query: str, qvec: np.ndarray | None, qterms: list[str], n: int, mask: np.ndarray | None,
          lang: str | None, doc_ids: list[str] | None, probs: dict[str, float]) -> list[tuple[int, float]]:  # fmt: skip
    dense: dict[int, float] = {}
    offsets: dict[int, float] = {}
    if mode != "keyword" and qvec is not None:
        scores, vids = index.dense.search(qvec, n, mask)
        offsets = language_offsets(index, qvec)
        dense = _calibrated(index, vids.tolist(), scores.tolist(), offsets)
        if mode == "semantic":
            return sorted(dense.items(), key=lambda x: -x[1])
    kw = dict((v, s) for s, v in index.keyword.search(qterms, n, lang, doc_ids))
    if mode == "keyword":
        return sorted(kw.items(), key=lambda x: -x[1])
    nterms = neutral_terms(query)
    neutral = dict((v, s) for s, v in index.keyword.search(nterms, n, lang, doc_ids)) if nterms else {}
    missing = [v for v in {**kw, **neutral} if v not in dense]
    if missing and qvec is not None:
        dense.update(_calibrated(index, missing, (index.dense.vectors[missing] @ qvec).tolist(), offsets))
    codes = index.table.lang_codes
    same = {v: probs.get(codes[index.table.chunk_lang[v]], 0.0) for v in dense}
    return hybrid(dense, kw, same, neutral)


def _calibrated(index: Index, vids: list[int], scores: list[float], offsets: dict[int, float]) -> dict[int, float]:
    if not offsets:
        return dict(zip(vids, scores, strict=True))
    langs = index.table.chunk_lang
    return {v: s - offsets.get(int(langs[v]), 0.0) for v, s in zip(vids, scores, strict=True)}


def _hits(index: Index, ranked: list[tuple[int, float]], want: int, q: str, qterms: list[str],
          qvec: np.ndarray | None, highlight: str, mode: str, qlang: str) -> list[Hit]:  # fmt: skip
    """The first ``want`` distinct passages with citations, other sources and highlights."""
    rows = index.store.chunks_by_vid([v for v, _ in ranked[: want * 3 + 10]])
    chosen: list[tuple[dict[str, Any], float]] = []
    seen: set[str] = set()
    for vid, score in ranked:
        row = rows.get(vid) or index.store.chunks_by_vid([vid]).get(vid)
        if row is None or row["text_hash"] in seen:
            continue
        seen.add(row["text_hash"])
        chosen.append((row, score))
        if len(chosen) >= want:
            break
    twins = index.store.same_text([r["text_hash"] for r, _ in chosen])
    hits = []
    for rank, (row, score) in enumerate(chosen, start=1):
        others = [_citation(index, t) for t in twins.get(row["text_hash"], []) if t["vid"] != row["vid"]]
        hits.append(
            Hit(rank, score, row["chunk_id"], row["doc_id"], row["text"], _citation(index, row), also_in=others)
        )
    if highlight != "none" and hits:
        semantic = [mode == "semantic" or h.citation.language != qlang for h in hits]
        embedder = index.embedder if highlight == "auto" else None
        marks = highlight_hits(
            [h.text for h in hits], [h.citation.language for h in hits], q, qterms, qvec, embedder, semantic
        )
        for h, m in zip(hits, marks, strict=True):
            h.highlights = m
    return hits


def _citation(index: Index, row: dict[str, Any]) -> Citation:
    doc = index.table.docs[row["doc_id"]]
    return Citation(
        doc_id=row["doc_id"], title=doc["title"], publisher=doc["publisher"], date=doc["date"],
        source_url=doc["source_url"], page=row["page"] if doc["paginated"] else None,
        start=row["start"], end=row["end_"], section=row["section"], language=row["language"],
        chunk_id=row["chunk_id"], has_file=bool(doc["stored_file"]),
    )  # fmt: skip
