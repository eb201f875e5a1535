"""Search results as files for reference managers and spreadsheets: CSV, and RIS (which Zotero reads).

Each entry carries its full citation and absolute links to the source at that place and to this service's page
view; the passage text is the abstract (RIS ``AB``)."""

from __future__ import annotations

import csv
import io

from api.links import links
from kb.types import SearchResult

MEDIA = {"csv": "text/csv; charset=utf-8", "ris": "application/x-research-info-systems; charset=utf-8"}
COLUMNS = ["rank", "title", "publisher", "date", "page", "section", "language", "reference", "source_link",
           "context_link", "doc_id", "chunk_id", "start", "end", "text"]  # fmt: skip


def _absolute(base: str, url: str) -> str:
    return url if url.startswith(("http://", "https://")) else base.rstrip("/") + url


def to_csv(result: SearchResult, base: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for h in result.hits:
        c, lk = h.citation, links(h.citation, h.quote())
        writer.writerow([h.rank, c.title, c.publisher, c.date or "", c.page or "", c.section, c.language, c.reference,
                         _absolute(base, lk["source"]), _absolute(base, lk["context"]), c.doc_id, c.chunk_id, c.start,
                         c.end, " ".join(h.text.split())])  # fmt: skip
    return out.getvalue()


def to_ris(result: SearchResult, base: str) -> str:
    entries = []
    for h in result.hits:
        c, lk = h.citation, links(h.citation, h.quote())
        lines = ["TY  - RPRT", f"TI  - {c.title}", f"PB  - {c.publisher}" if c.publisher else "",
                 f"PY  - {c.date[:4]}" if c.date else "", f"DA  - {c.date}" if c.date else "",
                 f"SP  - {c.page}" if c.page else "", f"LA  - {c.language}", f"UR  - {_absolute(base, lk['source'])}",
                 f"L2  - {_absolute(base, lk['context'])}", f"N1  - {c.reference}"
                 + (f" — section: {c.section}" if c.section else ""), f"AB  - {' '.join(h.text.split())}",
                 f"ID  - {c.chunk_id}", "ER  - "]  # fmt: skip
        entries.append("\r\n".join(line for line in lines if line))
    return "\r\n".join(entries) + "\r\n"
