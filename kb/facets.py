"""Facet counts: how many of a search's passages come from each document, publisher, year and language.

Counted over the passages the search considered (its candidates, within the filters), as Meilisearch's facet
distribution counts the documents a query matches. A facet with a selection is counted without its own
selection, so that other values stay visible and can be added (disjunctive facets); that costs one more
ranking of the same query vector per selected facet.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kb.backend import IndexReader
from kb.errors import QueryError
from kb.fusion import Candidate

FACETS = ("document", "publisher", "year", "language")
LIMIT = 30  # values per facet, most frequent first


def check(names: tuple[str, ...]) -> None:
    for name in names:
        if name not in FACETS:
            raise QueryError(f"facets must be among {', '.join(FACETS)}, not {name[:20]!r}", field="facets")


def count(index: IndexReader, cands: list[Candidate], facet: str) -> dict[str, int]:
    """value → passages, most frequent first (at most LIMIT values; unknown values left out)."""
    if facet == "language":
        values = [c.language for c in cands]
    else:
        doc_ids = index.doc_ids([c.vid for c in cands])
        if facet == "document":
            values = doc_ids
        else:
            docs: dict[str, dict[str, Any] | None] = {d: index.document(d) for d in set(doc_ids)}
            values = [_value(docs[d], facet) for d in doc_ids]
    counts = Counter(v for v in values if v)
    return dict(counts.most_common(LIMIT))


def _value(doc: dict[str, Any] | None, facet: str) -> str:
    if doc is None:
        return ""
    if facet == "publisher":
        return str(doc.get("publisher") or "")
    year = str(doc.get("date") or "")[:4]
    return year if year.isdigit() else ""
