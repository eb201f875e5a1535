"""Search filters as a mask over passages (dense side) and as clauses (keyword side)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb.errors import QueryError
from kb.types import Filters

_LANG = re.compile(r"^[a-z]{2,3}$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def date_int(date: str | None) -> int:
    """ "2024-03-18" → 20240318, "2024-03" → 20240301, "2024" → 20240101; 0 when unknown."""
    digits = "".join(ch for ch in (date or "")[:10] if ch.isdigit())
    if len(digits) < 4:
        return 0
    return int((digits + "0101")[:8]) if len(digits) < 8 else int(digits[:8])


_YEAR = re.compile(r"^\d{4}$")


def validate(f: Filters) -> None:
    for lang in f.langs():
        if not _LANG.match(lang):
            raise QueryError(f"lang must be a language code such as 'fr' or 'en', not {lang[:20]!r}", field="lang")
    for year in f.years:
        if not _YEAR.match(year):
            raise QueryError(f"year must be four digits, not {year[:20]!r}", field="year")
    for name in ("date_from", "date_to"):
        value = getattr(f, name)
        if value and not _DATE.match(value):
            raise QueryError(f"{name} must be a date YYYY, YYYY-MM or YYYY-MM-DD, not {value[:20]!r}", field=name)


@dataclass
class PassageTable:
    """Per-passage language and document, and per-document metadata, in arrays for fast filtering."""

    lang_codes: list[str]
    chunk_lang: np.ndarray  # int16 index into lang_codes, per vid
    chunk_doc: np.ndarray  # int32 index into doc_ids, per vid
    doc_ids: list[str]
    docs: dict[str, dict[str, Any]]

    def allowed(self, f: Filters) -> tuple[np.ndarray | None, list[str] | None]:
        """(mask over vids or None for all, allowed doc ids or None for all)."""
        if not f.active():
            return None, None
        mask = np.ones(self.chunk_doc.shape[0], bool)
        if f.langs():
            codes = [self.lang_codes.index(lg) for lg in f.langs() if lg in self.lang_codes]
            mask &= np.isin(self.chunk_lang, np.array(codes or [-1], np.int16))
        doc_ids = self._docs(f)
        if doc_ids is not None:
            index = {d: i for i, d in enumerate(self.doc_ids)}
            mask &= np.isin(self.chunk_doc, np.array([index[d] for d in doc_ids], np.int32))
        return mask, doc_ids

    def _docs(self, f: Filters) -> list[str] | None:
        return allowed_docs(self.docs, f)


def allowed_docs(docs: Mapping[str, Mapping[str, Any]], f: Filters) -> list[str] | None:
    """The documents the document, source (publisher or URL contains it), date, publisher and year filters
    allow; None: all."""
    if not f.on_documents():
        return None
    ids, publishers, years = set(f.doc_ids), set(f.publishers), set(f.years)
    lo, hi = date_int(f.date_from) or 0, date_int(f.date_to) or 99991231
    if f.date_to and len(f.date_to) < 10:
        hi = date_int(f.date_to) + (1130 if len(f.date_to) == 4 else 30)  # end of that year / month
    src = (f.source or "").lower()
    out = []
    for doc_id, d in docs.items():
        if (f.doc_id and doc_id != f.doc_id) or (ids and doc_id not in ids):
            continue
        if (publishers and d["publisher"] not in publishers) or (years and (d["date"] or "")[:4] not in years):
            continue
        if src and src not in (d["publisher"] or "").lower() and src not in (d["source_url"] or "").lower():
            continue
        if f.date_from or f.date_to:
            day = date_int(d["date"])
            if not day or not lo <= day <= hi:
                continue
        out.append(doc_id)
    return out
