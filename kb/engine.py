"""A loaded index generation and the search over it (modes keyword, semantic, hybrid)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb import calibration, generations
from kb.calibration import Background
from kb.dense import DenseIndex
from kb.embedding import Embedder
from kb.errors import NotFoundError, QueryError
from kb.filters import PassageTable, validate
from kb.fusion import Candidate
from kb.highlight import highlight_hits
from kb.keyword import KeywordIndex
from kb.retrieval import Query, Ranking, matched_terms, rank
from kb.store import Store
from kb.types import Citation, Explanation, Filters, Hit, SearchResult

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
    background: Background

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
    background = calibration.select(table.lang_codes, table.chunk_lang, dense.vectors, embedder.name)
    return Index(gen, manifest, store, dense, keyword, table, embedder, background)


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
           offset: int = 0, highlight: str = "auto", max_chars: int = 2000, max_k: int = 100,
           explain: bool = False) -> SearchResult:  # fmt: skip
    """Ranked, cited passages for ``query``; one hit per distinct passage text. ``explain`` adds to each hit
    the evidence behind its rank (semantic and keyword scores, language match, matched words)."""
    t0 = time.perf_counter()
    text = check_query(query, k, mode, max_chars, max_k, offset)
    filters = filters or Filters()
    validate(filters)
    if highlight not in HIGHLIGHTS:
        raise QueryError(f"highlight must be one of {', '.join(HIGHLIGHTS)}", field="highlight")
    if filters.doc_id and filters.doc_id not in index.table.docs:
        raise NotFoundError(f"no document {filters.doc_id[:80]!r} in the index", field="doc")
    q = Query.parse(text)
    if mode != "keyword" or highlight == "auto":
        q.vector = index.embedder.encode_queries([text])[0]
    mask, doc_ids = index.table.allowed(filters)
    want = offset + k
    ranking = rank(index, q, mode, max(100, want * 4), mask, filters.language, doc_ids)
    hits = _hits(index, ranking, want, q, highlight, mode, explain)[offset:]
    took = (time.perf_counter() - t0) * 1000
    return SearchResult(text, q.language, mode, took, hits, len(ranking.candidates), index.generation)


def _hits(index: Index, ranking: Ranking, want: int, q: Query, highlight: str, mode: str,
          explain: bool) -> list[Hit]:  # fmt: skip
    """The first ``want`` distinct passages with citations, other sources, highlights and evidence."""
    cands = ranking.candidates
    rows = index.store.chunks_by_vid([c.vid for c in cands[: want * 3 + 10]])
    chosen: list[tuple[dict[str, Any], Candidate]] = []
    seen: set[str] = set()
    for c in cands:
        row = rows.get(c.vid) or index.store.chunks_by_vid([c.vid]).get(c.vid)
        if row is None or row["text_hash"] in seen:
            continue
        seen.add(row["text_hash"])
        chosen.append((row, c))
        if len(chosen) >= want:
            break
    twins = index.store.same_text([r["text_hash"] for r, _ in chosen])
    hits = []
    for n, (row, c) in enumerate(chosen, start=1):
        others = [_citation(index, t) for t in twins.get(row["text_hash"], []) if t["vid"] != row["vid"]]
        hit = Hit(n, _score(c, mode), row["chunk_id"], row["doc_id"], row["text"], _citation(index, row),
                  also_in=others, dense_score=c.dense, keyword_score=c.keyword)  # fmt: skip
        if explain:
            hit.explain = _explain(q, c, ranking, mode, set(row["terms"].split()))
        hits.append(hit)
    if highlight != "none" and hits:
        _highlight(index, hits, q, highlight, mode)
    return hits


def _score(c: Candidate, mode: str) -> float:
    return c.keyword if mode == "keyword" else c.calibrated if mode == "semantic" else c.score


def _explain(q: Query, c: Candidate, ranking: Ranking, mode: str, terms: set[str]) -> Explanation:
    return Explanation(
        mode=mode, semantic=c.dense, language_offset=c.offset, semantic_norm=c.dense_norm, keyword=c.keyword,
        keyword_norm=c.keyword_norm, keyword_weight=ranking.keyword_weight, passage_language=c.language,
        query_language=q.language, same_language=q.probs.get(c.language, 0.0),
        matched=matched_terms(q, c.language, terms),
    )  # fmt: skip


def _highlight(index: Index, hits: list[Hit], q: Query, highlight: str, mode: str) -> None:
    """Best sentence and matched words (translations too) of each hit."""
    langs = [h.citation.language for h in hits]
    terms = [{t for g in q.groups(lg) for t, _ in g} for lg in langs]
    semantic = [mode == "semantic" or lg != q.language for lg in langs]
    embedder = index.embedder if highlight == "auto" else None
    marks = highlight_hits([h.text for h in hits], langs, terms, q.vector, embedder, semantic)
    for h, m in zip(hits, marks, strict=True):
        h.highlights = m


def _citation(index: Index, row: dict[str, Any]) -> Citation:
    doc = index.table.docs[row["doc_id"]]
    return Citation(
        doc_id=row["doc_id"], title=doc["title"], publisher=doc["publisher"], date=doc["date"],
        source_url=doc["source_url"], page=row["page"] if doc["paginated"] else None,
        start=row["start"], end=row["end_"], section=row["section"], language=row["language"],
        chunk_id=row["chunk_id"], has_file=bool(doc["stored_file"]),
    )  # fmt: skip
