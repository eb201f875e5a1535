"""The keyword index: BM25 in tantivy over terms analysed by :mod:`kb.analysis`.

Passages are stored pre-analysed (whitespace-separated terms), so tantivy only counts and ranks; the
filters (language, document, publisher, date) are clauses of the same query, applied inside retrieval.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("vid", stored=True, indexed=True, fast=True)
    sb.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    for name in ("lang", "doc"):
        sb.add_text_field(name, stored=False, tokenizer_name="raw")
    return sb.build()


class KeywordIndex:
    def __init__(self, index: Any) -> None:
        self.index = index
        self.schema = index.schema

    @classmethod
    def build(cls, path: Path, rows: Iterable[tuple[int, str, str, str]]) -> KeywordIndex:
        """rows: (vid, terms, language, doc_id)."""
        import tantivy

        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_schema(), path=str(path))
        writer = index.writer(heap_size=128_000_000, num_threads=1)
        for vid, terms, lang, doc in rows:
            writer.add_document(tantivy.Document(vid=vid, body=terms, lang=lang, doc=doc))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        import tantivy

        index = tantivy.Index.open(str(path))
        index.reload()
        return cls(index)

    def search(self, terms: list[str], k: int, language: str | None = None,
               doc_ids: list[str] | None = None) -> list[tuple[float, int]]:  # fmt: skip
        """Top ``k`` (bm25, vid) matching any of ``terms``, within ``language`` and ``doc_ids`` if given."""
        return self.search_groups([[(t, 1.0)] for t in terms], k, language, doc_ids)

    def search_groups(self, groups: list[list[tuple[str, float]]], k: int, language: str | None = None,
                      doc_ids: list[str] | None = None, exclude: list[str] | None = None) -> list[tuple[float, int]]:  # fmt: skip
        """Top ``k`` (score, vid): each group is one query word's weighted forms (itself, its translations),
        of which the best match counts (BM25 × weight); the words' scores add up. ``language`` keeps one
        passage language, ``exclude`` leaves some out, ``doc_ids`` keeps those documents."""
        import tantivy

        groups = [g for g in groups if g]
        if not groups or k <= 0 or doc_ids == []:
            return []
        occur, query = tantivy.Occur, tantivy.Query
        words = [self._group(g) for g in groups]
        clauses = [(occur.Must, query.boolean_query([(occur.Should, w) for w in words]))]
        if language:
            clauses.append((occur.Must, query.const_score_query(query.term_query(self.schema, "lang", language), 0.0)))
        if exclude:
            clauses.append((occur.MustNot, query.term_set_query(self.schema, "lang", exclude)))
        if doc_ids is not None:
            clauses.append(
                (occur.Must, query.const_score_query(query.term_set_query(self.schema, "doc", doc_ids), 0.0))
            )
        searcher = self.index.searcher()
        hits = searcher.search(query.boolean_query(clauses), k).hits
        return [(float(score), int(searcher.doc(addr)["vid"][0])) for score, addr in hits]

    def idf(self, terms: list[str]) -> dict[str, float]:
        """BM25 idf of each term (as tantivy computes it); 0 for a term no passage has."""
        import math

        searcher = self.index.searcher()
        n = searcher.num_docs
        out = {}
        for t in terms:
            df = searcher.doc_freq("body", t)
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
        return out

    def count(self, term: str, language: str) -> int:
        """How many passages in ``language`` contain ``term``."""
        import tantivy

        occur, query = tantivy.Occur, tantivy.Query
        q = query.boolean_query([(occur.Must, query.term_query(self.schema, "body", term)),
                                 (occur.Must, query.term_query(self.schema, "lang", language))])  # fmt: skip
        return int(self.index.searcher().search(q, 1, count=True).count)

    def _group(self, forms: list[tuple[str, float]]) -> Any:
        import tantivy

        query = tantivy.Query
        subs = [query.term_query(self.schema, "body", t) if w == 1.0 else
                query.boost_query(query.term_query(self.schema, "body", t), w) for t, w in forms]  # fmt: skip
        return subs[0] if len(subs) == 1 else query.disjunction_max_query(subs)
