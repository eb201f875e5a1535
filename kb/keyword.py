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
        import tantivy

        if not terms or k <= 0 or doc_ids == []:
            return []
        occur, query = tantivy.Occur, tantivy.Query
        text = query.boolean_query([(occur.Should, query.term_query(self.schema, "body", t)) for t in terms])
        clauses = [(occur.Must, text)]
        if language:
            clauses.append((occur.Must, query.const_score_query(query.term_query(self.schema, "lang", language), 0.0)))
        if doc_ids is not None:
            clauses.append(
                (occur.Must, query.const_score_query(query.term_set_query(self.schema, "doc", doc_ids), 0.0))
            )
        searcher = self.index.searcher()
        hits = searcher.search(query.boolean_query(clauses), k).hits
        return [(float(score), int(searcher.doc(addr)["vid"][0])) for score, addr in hits]
