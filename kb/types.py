"""The dataclasses kb's public API takes and returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass
class Section:
    """A heading and the character offset in its page where the text under it starts."""

    start: int
    title: str


@dataclass
class Page:
    n: int
    text: str
    sections: list[Section] = field(default_factory=list)
    ocr: bool = False  # the text was recognised from the page's image


@dataclass
class Document:
    """A parsed source, before chunking. ``paginated`` is False for texts without pages (one page 1)."""

    doc_id: str
    title: str
    pages: list[Page]
    kind: str
    paginated: bool = False
    language: str = ""
    publisher: str = ""
    source_url: str = ""
    date: str | None = None
    source_key: str = ""
    content_hash: str = ""
    stored_file: str | None = None

    def meta(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("pages")
        return d


@dataclass
class Chunk:
    """A passage whose text is exactly ``page.text[start:end]`` of page ``page`` of ``doc_id``."""

    chunk_id: str
    doc_id: str
    seq: int
    page: int
    start: int
    end: int
    text: str
    section: str = ""
    language: str = ""


@dataclass
class Citation:
    doc_id: str
    title: str
    publisher: str
    date: str | None
    source_url: str
    page: int | None
    start: int
    end: int
    section: str
    language: str
    chunk_id: str
    has_file: bool = False

    @property
    def reference(self) -> str:
        """A ready-to-paste reference: Publisher, « Title », date, p. N."""
        parts = [p for p in (self.publisher, f"« {self.title} »" if self.title else "") if p]
        if self.date:
            parts.append(self.date)
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.source_url:
            parts.append(self.source_url)
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("has_file")
        return {**d, "reference": self.reference}


@dataclass
class Highlight:
    start: int
    end: int
    kind: str  # "sentence" (semantic) or "term" (lexical)


@dataclass
class Explanation:
    """Why a passage ranks where it does: its semantic and keyword evidence and its language.

    hybrid score = semantic_norm + keyword_weight · keyword_norm; semantic mode ranks by semantic −
    language_offset, keyword mode by keyword.
    """

    mode: str
    semantic: float | None  # cosine of query and passage
    language_offset: float  # subtracted: this language's advantage for the query (median excess and shrink)
    semantic_norm: float  # calibrated cosine scaled to 0–1 over the candidates
    keyword: float  # BM25 of the query written in the passage's language (translations included)
    keyword_norm: float  # BM25 over the best BM25 of the candidates
    keyword_weight: float  # what this passage's keyword evidence counts for (less when one passage stands out)
    passage_language: str
    query_language: str
    same_language: float  # P(query language = passage language)
    matched: list[dict[str, Any]] = field(default_factory=list)  # query words found, and through which form

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("semantic", "language_offset", "semantic_norm", "keyword", "keyword_norm", "keyword_weight",
                    "same_language"):  # fmt: skip
            if d[key] is not None:
                d[key] = round(d[key], 4)
        d["matched"] = [m | {"weight": round(m["weight"], 3)} for m in self.matched]
        return d


@dataclass
class Hit:
    rank: int
    score: float
    chunk_id: str
    doc_id: str
    text: str
    citation: Citation
    highlights: list[Highlight] = field(default_factory=list)
    also_in: list[Citation] = field(default_factory=list)
    dense_score: float | None = None
    keyword_score: float | None = None
    explain: Explanation | None = None
    snippet: tuple[int, int] | None = None  # the part of the text to show first (about three lines)

    def quote(self) -> str:
        """The best sentence of the passage (or its start), for links that point into the source."""
        best = next((h for h in self.highlights if h.kind == "sentence"), None)
        return self.text[best.start : best.end] if best else self.text[:200]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "highlights": [asdict(h) for h in self.highlights],
            "snippet": {"start": self.snippet[0], "end": self.snippet[1]} if self.snippet else None,
            "citation": self.citation.to_dict(),
            "also_in": [c.to_dict() for c in self.also_in],
        } | ({"explain": self.explain.to_dict()} if self.explain else {})


@dataclass(frozen=True)
class Filters:
    """What a search may return. Single values (``language``, ``doc_id``) and facet selections (several values:
    any of them) combine: every field given must hold."""

    language: str | None = None
    doc_id: str | None = None
    source: str | None = None  # publisher or source URL contains this
    date_from: str | None = None
    date_to: str | None = None
    languages: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    years: tuple[str, ...] = ()

    def active(self) -> bool:
        return any(v for v in asdict(self).values())

    def langs(self) -> tuple[str, ...]:
        """Every allowed passage language (empty: any)."""
        return tuple(dict.fromkeys(((self.language,) if self.language else ()) + self.languages))

    def on_documents(self) -> bool:
        return bool(self.doc_id or self.source or self.date_from or self.date_to or self.doc_ids or self.publishers
                    or self.years)  # fmt: skip

    def without(self, facet: str) -> Filters:
        """These filters less one facet's selection (to count that facet's other values)."""
        if facet == "document":
            return replace(self, doc_ids=())
        if facet == "publisher":
            return replace(self, publishers=())
        if facet == "year":
            return replace(self, years=())
        return replace(self, languages=())


@dataclass
class SearchResult:
    query: str
    query_language: str
    mode: str
    took_ms: float
    hits: list[Hit]
    total_candidates: int = 0
    generation: str = ""
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "query_language": self.query_language,
            "mode": self.mode,
            "took_ms": round(self.took_ms, 2),
            "generation": self.generation,
            "hits": [h.to_dict() for h in self.hits],
        } | ({"facets": self.facets} if self.facets else {})


@dataclass
class FileOutcome:
    """What happened to one input file during ingest."""

    path: str
    status: str  # added | updated | unchanged | failed | deleted
    doc_ids: list[str] = field(default_factory=list)
    error_code: str | None = None
    message: str | None = None


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    pages: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    generation: str = ""
    changed: bool = False

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {s: self.count(s) for s in ("added", "updated", "unchanged", "failed", "deleted")}
