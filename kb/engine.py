"""Search over an index reader (any backend): modes keyword, semantic, hybrid; cited, highlighted hits."""

from __future__ import annotations

import re
import time
from pathlib import Path

from kb import facets as facet_counts
from kb.backend import IndexReader, Passage
from kb.embedding import Embedder
from kb.errors import NotFoundError, QueryError
from kb.filters import validate
from kb.fusion import Candidate
from kb.highlight import highlight_hits, snippet
from kb.local import LocalIndex
from kb.local import load as load_local
from kb.retrieval import Query, Ranking, matched_terms, rank
from kb.types import Citation, Explanation, Filters, Hit, SearchResult

MODES = ("hybrid", "semantic", "keyword")
HIGHLIGHTS = ("auto", "terms", "none")
_HAS_WORD = re.compile(r"\w", re.UNICODE)
Index = IndexReader


def load(index_dir: Path, embedder: Embedder, threads: int = 2) -> LocalIndex:
    """Open the live generation of a local index folder (:func:`kb.local.load`)."""
    return load_local(index_dir, embedder, threads)


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


def search(index: IndexReader, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
           offset: int = 0, highlight: str = "auto", max_chars: int = 2000, max_k: int = 100,
           explain: bool = False, facets: tuple[str, ...] = (), typos: bool = True) -> SearchResult:  # fmt: skip
    """Ranked, cited passages for ``query``; one hit per distinct passage text. ``explain`` adds to each hit
    the evidence behind its rank (semantic and keyword scores, language match, matched words); ``facets`` adds
    the counts of those fields (:mod:`kb.facets`)."""
    t0 = time.perf_counter()
    text = check_query(query, k, mode, max_chars, max_k, offset)
    filters = filters or Filters()
    validate(filters)
    if highlight not in HIGHLIGHTS:
        raise QueryError(f"highlight must be one of {', '.join(HIGHLIGHTS)}", field="highlight")
    facet_counts.check(facets)
    for doc_id in ((filters.doc_id,) if filters.doc_id else ()) + filters.doc_ids:
        if index.document(doc_id) is None:
            raise NotFoundError(f"no document {doc_id[:80]!r} in the index", field="doc")
    q = Query.parse(text)
    if mode != "keyword" or highlight == "auto":
        q.vector = index.embedder.encode_queries([text])[0]
    want = offset + k
    ranking = rank(index, q, mode, max(100, want * 4), filters, typos)
    hits = _hits(index, ranking, want, q, highlight, mode, explain)[offset:]
    counts = {
        f: facet_counts.count(index, _facet_ranking(index, q, mode, want, filters, f, ranking), f) for f in facets
    }
    took = (time.perf_counter() - t0) * 1000
    return SearchResult(text, q.language, mode, took, hits, len(ranking.candidates), index.generation, counts)


def _facet_ranking(index: IndexReader, q: Query, mode: str, want: int, filters: Filters, facet: str,
                   ranking: Ranking) -> list[Candidate]:  # fmt: skip
    """The candidates a facet is counted over: this search's, or, when the facet has a selection, those of
    the same search without it."""
    loose = filters.without(facet)
    return ranking.candidates if loose == filters else rank(index, q, mode, max(100, want * 4), loose).candidates


def _hits(index: IndexReader, ranking: Ranking, want: int, q: Query, highlight: str, mode: str,
          explain: bool) -> list[Hit]:  # fmt: skip
    """The first ``want`` distinct passages with citations, other sources, highlights and evidence."""
    cands = ranking.candidates
    rows = index.passages([c.vid for c in cands[: want * 3 + 10]])
    chosen: list[tuple[Passage, Candidate]] = []
    seen: set[str] = set()
    for c in cands:
        row = rows.get(c.vid) or index.passages([c.vid]).get(c.vid)
        if row is None or row.text_hash in seen:
            continue
        seen.add(row.text_hash)
        chosen.append((row, c))
        if len(chosen) >= want:
            break
    twins = index.same_text([r.text_hash for r, _ in chosen])
    hits = []
    for n, (row, c) in enumerate(chosen, start=1):
        others = [citation(index, t) for t in twins.get(row.text_hash, []) if t.vid != row.vid]
        hit = Hit(n, _score(c, mode), row.chunk_id, row.doc_id, row.text, citation(index, row),
                  also_in=others, dense_score=c.dense, keyword_score=c.keyword)  # fmt: skip
        if explain:
            hit.explain = _explain(q, c, ranking, mode, set(row.terms.split()))
        hits.append(hit)
    if highlight != "none" and hits:
        _highlight(hits, q, highlight, mode, index.embedder)
    for h in hits:
        best = next(((x.start, x.end) for x in h.highlights if x.kind == "sentence"), None)
        h.snippet = snippet(h.text, best)
    return hits


def _score(c: Candidate, mode: str) -> float:
    return c.keyword if mode == "keyword" else c.calibrated if mode == "semantic" else c.score


def _explain(q: Query, c: Candidate, ranking: Ranking, mode: str, terms: set[str]) -> Explanation:
    weight = c.weight if mode == "hybrid" else ranking.keyword_weight  # in hybrid, the passage's own
    return Explanation(
        mode=mode, semantic=c.dense, language_offset=c.offset, semantic_norm=c.dense_norm, keyword=c.keyword,
        keyword_norm=c.keyword_norm, keyword_weight=weight, passage_language=c.language,
        query_language=q.language, same_language=q.probs.get(c.language, 0.0),
        matched=matched_terms(q, c.language, terms),
    )  # fmt: skip


def _highlight(hits: list[Hit], q: Query, highlight: str, mode: str, embedder: Embedder) -> None:
    """Best sentence and matched words (translations too) of each hit."""
    langs = [h.citation.language for h in hits]
    terms = [{t for g in q.groups(lg) for t, _ in g} for lg in langs]
    semantic = [mode == "semantic" or lg != q.language for lg in langs]
    model = embedder if highlight == "auto" else None
    marks = highlight_hits([h.text for h in hits], langs, terms, q.vector, model, semantic)
    for h, m in zip(hits, marks, strict=True):
        h.highlights = m


def citation(index: IndexReader, row: Passage) -> Citation:
    doc = index.document(row.doc_id) or {}
    return Citation(
        doc_id=row.doc_id, title=doc.get("title", ""), publisher=doc.get("publisher", ""), date=doc.get("date"),
        source_url=doc.get("source_url", ""), page=row.page if doc.get("paginated") else None,
        start=row.start, end=row.end, section=row.section, language=row.language,
        chunk_id=row.chunk_id, has_file=bool(doc.get("stored_file")),
    )  # fmt: skip
