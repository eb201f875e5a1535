"""The JSON API's contract (pydantic models, shown in the OpenAPI schema).

Kept apart from kb's dataclasses on purpose: the API must not move when internal types do.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints


class ErrorBody(BaseModel):
    status: int
    code: str = Field(description="stable machine-readable code, e.g. bad_query, not_found, unauthorized")
    message: str
    field: str | None = Field(None, description="the input field or file the error is about")


class ErrorOut(BaseModel):
    error: ErrorBody


class HighlightOut(BaseModel):
    start: int = Field(description="offset in the passage text")
    end: int
    kind: Literal["sentence", "term"]


class LinksOut(BaseModel):
    context: str = Field(description="this service's page view with the passage marked")
    source: str = Field(description="the source at that place: stored PDF at #page=N, or the source URL")


class CitationOut(BaseModel):
    doc_id: str
    title: str
    publisher: str
    date: str | None
    source_url: str
    page: int | None = Field(description="1-based page; null for texts without pages")
    start: int = Field(description="start of the passage in the page text (or document text)")
    end: int
    section: str
    language: str
    chunk_id: str
    reference: str = Field(description="a ready-to-paste reference")
    links: LinksOut


class MatchOut(BaseModel):
    word: str = Field(description="a word of the query")
    term: str = Field(description="the analysed form found in the passage")
    translated: bool = Field(description="found through the French–English lexicon")
    weight: float


class ExplainOut(BaseModel):
    """Why a hit ranks where it does. hybrid score = semantic_norm + keyword_weight · keyword_norm."""

    mode: str
    semantic: float | None = Field(description="cosine of the query and the passage")
    language_offset: float = Field(
        description="subtracted from the cosine: this passage language's advantage for the query (language "
        "calibration: how much more the query scores any passage of this language, and the query's own "
        "language shrunk toward that level)"
    )
    semantic_norm: float = Field(description="calibrated cosine scaled to 0–1 over the candidates")
    keyword: float = Field(description="BM25 of the query written in the passage's language, translations included")
    keyword_norm: float = Field(description="BM25 over the best BM25 among the candidates")
    keyword_weight: float = Field(
        description="what this passage's keyword evidence counts for (less when the candidates mix languages and "
        "one stands out semantically, sooner for a short query unless the passage, in another language, matches "
        "most of its words)"
    )
    passage_language: str
    query_language: str
    same_language: float = Field(description="probability that the query is in the passage's language")
    matched: list[MatchOut]


class SpanOut(BaseModel):
    start: int = Field(description="offset in the passage text")
    end: int


class HitOut(BaseModel):
    rank: int
    score: float
    doc_id: str
    chunk_id: str
    text: str
    highlights: list[HighlightOut]
    snippet: SpanOut | None = Field(
        None, description="the part of the text to show first: the best sentence and its neighbours, about three lines"
    )
    citation: CitationOut
    also_in: list[CitationOut] = Field(description="other documents holding the same passage text")
    explain: ExplainOut | None = Field(None, description="present when the request asks for explain")


class SearchOut(BaseModel):
    query: str
    query_language: str
    mode: str
    took_ms: float
    generation: str = Field(description="the index generation that answered")
    offset: int
    k: int
    hits: list[HitOut]
    facets: dict[str, dict[str, int]] | None = Field(
        None,
        description="asked with facets=document,publisher,year,language: value → passages, per field, "
        "over the passages the search considered",
    )


Mode = Literal["hybrid", "semantic", "keyword"]
HighlightMode = Literal["auto", "terms", "none"]
Format = Literal["json", "csv", "ris"]
Lang = Annotated[str, StringConstraints(max_length=3)]
DocId = Annotated[str, StringConstraints(max_length=200)]
Short = Annotated[str, StringConstraints(max_length=200)]
Year = Annotated[str, StringConstraints(max_length=4)]


class SearchIn(BaseModel):
    q: str = Field(description="the question or words, French or English", min_length=1, max_length=10_000)
    k: int = Field(10, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1000)
    mode: Mode = "hybrid"
    lang: Lang | list[Lang] | None = Field(None, description="passage language(s): fr, en…")
    doc: DocId | list[DocId] | None = Field(None, description="document id(s)")
    publisher: list[Short] | None = Field(None, max_length=50, description="publisher(s), exactly")
    year: list[Year] | None = Field(None, max_length=50, description="year(s) of the document's date")
    source: str | None = Field(None, max_length=200, description="publisher or source URL contains this")
    date_from: str | None = Field(None, max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD")
    date_to: str | None = Field(None, max_length=10)
    highlight: HighlightMode = "auto"
    explain: bool = Field(False, description="add to each hit the evidence behind its rank")
    facets: str | list[str] | None = Field(None, description="document, publisher, year, language: value → count")


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    publisher: str
    source_url: str
    date: str | None
    language: str
    kind: str
    paginated: bool
    n_pages: int
    n_chunks: int
    has_file: bool


class DocumentList(BaseModel):
    total: int
    offset: int
    limit: int
    documents: list[DocumentOut]


class PageSummary(BaseModel):
    n: int
    characters: int
    ocr: bool = Field(False, description="the page's text was recognised from its image (OCR)")


class DocumentDetail(DocumentOut):
    pages: list[PageSummary]


class ChunkSpan(BaseModel):
    chunk_id: str
    start: int
    end: int
    section: str
    language: str


class PageOut(BaseModel):
    doc_id: str
    n: int
    text: str
    ocr: bool = Field(False, description="the text was recognised from the page's image (OCR)")
    chunks: list[ChunkSpan]


class HealthOut(BaseModel):
    status: Literal["ok"]
    documents: int
    chunks: int
    model: str
    dimension: int
    dense_index: str
    built_at: str
    generation: str
    backend: str = Field(description="the index backend: local (SQLite + FAISS + tantivy) or qdrant")
    writes_enabled: bool


class IngestOut(BaseModel):
    status: str
    doc_ids: list[str]
    message: str | None
    documents: int
    chunks: int
    generation: str


class DeleteOut(BaseModel):
    deleted: list[str]
    documents: int
    chunks: int
    generation: str
