"""JSON API, versioned under /api/v1. Thin over kb: parse the request, call a kb verb, shape the answer."""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response

from api.export import MEDIA, to_csv, to_ris
from api.links import hit_json
from api.schemas import (
    ChunkSpan,
    DeleteOut,
    DocId,
    DocumentDetail,
    DocumentList,
    DocumentOut,
    ErrorOut,
    Format,
    HealthOut,
    HighlightMode,
    IngestOut,
    Lang,
    Mode,
    PageOut,
    PageSummary,
    SearchIn,
    SearchOut,
    Short,
    Year,
)  # fmt: skip
from api.state import State
from kb import audit
from kb.backend import IndexReader
from kb.engine import search
from kb.errors import InputError, KBError, LimitError, NotFoundError, document_error
from kb.fetch import fetch
from kb.ingest import DOC_ID, Source, ingest, remove
from kb.loaders import sniff
from kb.textutil import slugify
from kb.types import Filters, IngestReport, SearchResult

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in ((400, "bad query or parameter"), (404, "unknown document or page"), (422, "invalid input"))
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {
    code: {"model": ErrorOut, "description": text}
    for code, text in ((401, "no API key"), (403, "wrong, expired or revoked key, a search-only key, or writes "
                       "disabled"), (413, "file too large"),
                       (415, "unsupported file type"), (507, "index could not be written"))
}  # fmt: skip
router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _state(request: Request) -> State:
    state: State = request.app.state.kb
    return state


def _many(value: str | list[str] | None) -> tuple[str, ...]:
    return tuple(v for v in ([value] if isinstance(value, str) else value or []) if v)


def _run(state: State, p: SearchIn) -> SearchResult:
    index = state.live()  # one generation for the whole request
    limits = state.settings.limits
    filters = Filters(source=p.source or None, date_from=p.date_from or None, date_to=p.date_to or None,
                      languages=_many(p.lang), doc_ids=_many(p.doc), publishers=_many(p.publisher),
                      years=_many(p.year))  # fmt: skip
    facets = tuple(f.strip() for f in ",".join(_many(p.facets)).split(",") if f.strip())
    return search(index, p.q, k=p.k, mode=p.mode, filters=filters, offset=p.offset, highlight=p.highlight,
                  max_chars=limits.max_query_chars, max_k=limits.max_k, explain=p.explain, facets=facets)  # fmt: skip


def _search(state: State, p: SearchIn) -> SearchOut:
    result = _run(state, p)
    body = result.to_dict() | {"offset": p.offset, "k": p.k, "hits": [hit_json(h) for h in result.hits]}
    return SearchOut.model_validate(body)


@router.get("/search", response_model=SearchOut, summary="Search passages (query string)",
            responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["ris"]: {}},
                             "description": "the hits (JSON), or a CSV or RIS file with format=csv|ris"}})  # fmt: skip
def search_get(
    request: Request,
    q: Annotated[str, Query(description="question or words, French or English", min_length=1, max_length=10_000)],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    mode: Mode = "hybrid",
    lang: Annotated[list[Lang] | None, Query(max_length=20, description="passage language(s): fr, en…")] = None,
    doc: Annotated[list[DocId] | None, Query(max_length=50, description="document id(s)")] = None,
    publisher: Annotated[list[Short] | None, Query(max_length=50, description="publisher(s), exactly")] = None,
    year: Annotated[list[Year] | None, Query(max_length=50, description="year(s) of the document's date")] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[str | None, Query(max_length=10)] = None,
    date_to: Annotated[str | None, Query(max_length=10)] = None,
    highlight: HighlightMode = "auto",
    explain: Annotated[bool, Query(description="add to each hit the evidence behind its rank")] = False,
    facets: Annotated[
        str | None, Query(max_length=100, description="document,publisher,year,language: add value → count per field")
    ] = None,
    format: Annotated[Format, Query(description="json, or the results as a csv or ris (Zotero) file")] = "json",
) -> Response:
    params = SearchIn(q=q, k=k, offset=offset, mode=mode, lang=lang, doc=doc, publisher=publisher, year=year,
                      source=source, date_from=date_from, date_to=date_to, highlight=highlight, explain=explain,
                      facets=facets)  # fmt: skip
    state = _state(request)
    if format == "json":
        return JSONResponse(_search(state, params).model_dump(mode="json"))
    text = (to_csv if format == "csv" else to_ris)(_run(state, params), str(request.base_url))
    name = f"kb-search.{format}"
    return Response(text, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/search", response_model=SearchOut, summary="Search passages (JSON body)")
def search_post(request: Request, body: SearchIn) -> SearchOut:
    return _search(_state(request), body)


def _doc_out(d: dict[str, Any]) -> DocumentOut:
    return DocumentOut(**{k: d[k] for k in DocumentOut.model_fields if k in d}, has_file=bool(d["stored_file"]))


def _document(index: IndexReader, doc_id: str) -> dict[str, Any]:
    doc = index.document(doc_id)
    if doc is None:
        raise NotFoundError(f"no document {doc_id[:100]!r}", field="doc_id")
    return doc


@router.get("/documents", response_model=DocumentList, summary="List documents (paged)")
def documents(request: Request, offset: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> DocumentList:  # fmt: skip
    index = _state(request).live()
    docs = index.documents(offset, limit)
    return DocumentList(total=index.document_count(), offset=offset, limit=limit, documents=[_doc_out(d) for d in docs])


@router.get("/documents/{doc_id}", response_model=DocumentDetail, summary="A document's metadata and pages")
def document(request: Request, doc_id: str) -> DocumentDetail:
    index = _state(request).live()
    doc = _document(index, doc_id)
    ocr = index.ocr_pages(doc_id)
    pages = [PageSummary(n=n, characters=size, ocr=n in ocr) for n, size in index.page_sizes(doc_id)]
    return DocumentDetail(**_doc_out(doc).model_dump(), pages=pages)


@router.get("/documents/{doc_id}/pages/{n}", response_model=PageOut, summary="A page's text and passage spans")
def page(request: Request, doc_id: str, n: Annotated[int, PathParam(ge=1, le=1_000_000)]) -> PageOut:
    index = _state(request).live()
    _document(index, doc_id)
    text = index.page(doc_id, n)
    if text is None:
        raise NotFoundError(f"document {doc_id[:100]!r} has no page {n}", field="n")
    chunks = [ChunkSpan(chunk_id=c.chunk_id, start=c.start, end=c.end, section=c.section, language=c.language)
              for c in index.page_passages(doc_id, n)]  # fmt: skip
    return PageOut(doc_id=doc_id, n=n, text=text, chunks=chunks, ocr=n in index.ocr_pages(doc_id))


@router.get("/health", response_model=HealthOut, summary="Liveness and index facts")
def health(request: Request) -> HealthOut:
    state = _state(request)
    i = state.live().info()
    return HealthOut(status="ok", documents=i.documents, chunks=i.passages, model=i.model, dimension=i.dimension,
                     dense_index=i.dense, built_at=i.built_at, generation=i.generation, backend=i.backend,
                     writes_enabled=bool(state.settings.api_key))  # fmt: skip


_SAFE_EXT = re.compile(r"\.(pdf|docx|odt|html?|xhtml|txt|text|md|markdown|jsonl|ndjson)$", re.IGNORECASE)


def _upload_name(filename: str) -> str:
    base = Path(filename.replace("\\", "/")).name
    ext = m.group(0).lower() if (m := _SAFE_EXT.search(base)) else ""
    return slugify(base[: len(base) - len(ext)] if ext else base) + ext


def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"file over the {limit // 2**20} MB upload limit", field="file")
    return data


@router.post("/documents", response_model=IngestOut, status_code=201, responses=WRITE_ERRORS,
             summary="Upload a document (API key); searchable when the call returns")  # fmt: skip
def upload(
    request: Request,
    file: Annotated[
        UploadFile | None, File(description="PDF, Word, OpenDocument, HTML, text, Markdown or BEIR JSON Lines")
    ] = None,
    url: Annotated[
        str | None, Form(max_length=2000, description="instead of a file: a web page (or file) to fetch")
    ] = None,
    doc_id: Annotated[str | None, Form(max_length=200)] = None,
    title: Annotated[str | None, Form(max_length=500)] = None,
    publisher: Annotated[str | None, Form(max_length=200)] = None,
    source_url: Annotated[str | None, Form(max_length=2000)] = None,
    date: Annotated[str | None, Form(max_length=10)] = None,
    language: Annotated[str | None, Form(max_length=3)] = None,
) -> IngestOut:
    state = _state(request)  # the key was checked (admin scope) before the body was read: api/auth.py
    if (file is None) == (not url):
        raise InputError("send a file, or a url to fetch (one of them)", field="file")
    if doc_id is not None and not DOC_ID.match(doc_id):
        raise InputError(
            "doc_id must be 1–200 characters of A–Z a–z 0–9 . _ : - (starting with a letter or digit)", field="doc_id"
        )
    limit = state.settings.limits.max_upload_bytes
    if file is not None:
        name = _upload_name(file.filename or "upload")
        data, key = _read_limited(file, limit), f"upload:{doc_id or Path(name).stem}"
    else:
        page = fetch(str(url), limit, state.settings.allow_private_urls)
        name, data, key, source_url = page.name, page.data, f"url:{url}", source_url or page.url
    sniff(name, data)  # by content: empty, binary or mislabelled files are refused before any work
    meta = {k: v for k, v in dict(id=doc_id, title=title, publisher=publisher, source_url=source_url,
                                     date=date, language=language).items() if v}  # fmt: skip
    report = _ingest_one(state, name, data, key, meta)
    outcome = report.outcomes[0]
    action = {"updated": "replace"}.get(outcome.status, "upload")
    _audit(request, action, ",".join(outcome.doc_ids) or doc_id, hashlib.sha256(data).hexdigest(),
           outcome.status if outcome.status != "failed" else f"failed: {outcome.error_code}")  # fmt: skip
    if outcome.status == "failed":
        raise document_error(outcome.error_code or "bad_document", outcome.message or "cannot ingest", "file")
    return IngestOut(status=outcome.status, doc_ids=outcome.doc_ids, message=outcome.message, documents=report.documents,
                     chunks=report.chunks, generation=report.generation)  # fmt: skip


def _audit(request: Request, action: str, doc_id: str | None, content_hash: str | None, outcome: str) -> None:
    caller = getattr(request.state, "caller", None)
    audit.record(_state(request).settings.index_dir, action, key=caller.name if caller else "-",
                 client=request.client.host if request.client else "", doc_id=doc_id, content_hash=content_hash,
                 outcome=outcome)  # fmt: skip


def _ingest_one(state: State, name: str, data: bytes, key: str, meta: dict[str, str]) -> IngestReport:
    folder = state.settings.index_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        (folder / name).write_bytes(data)
        with state.write_lock:
            report = ingest([], state.settings, state.embedder, sources=[Source(folder / name, key, name, meta)])
            state.reload()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report


@router.delete("/documents/{doc_id}", response_model=DeleteOut, responses=WRITE_ERRORS,
               summary="Delete a document (API key)")  # fmt: skip
def delete(request: Request, doc_id: str) -> DeleteOut:
    state = _state(request)
    try:
        with state.write_lock:
            report = remove([doc_id], state.settings, state.embedder)
            state.reload()
    except KBError as exc:
        _audit(request, "delete", doc_id, None, f"failed: {exc.code}")
        raise
    _audit(request, "delete", doc_id, None, "deleted")
    return DeleteOut(deleted=[doc_id], documents=report.documents, chunks=report.chunks, generation=report.generation)


files = APIRouter()


@files.get("/files/{doc_id}", include_in_schema=False)
def stored_file(request: Request, doc_id: str) -> FileResponse:
    index = _state(request).live()
    _document(index, doc_id)
    path = index.stored_file(doc_id)
    if path is None:
        raise NotFoundError(f"no stored file for {doc_id[:100]!r}", field="doc_id")
    return FileResponse(path, media_type="application/pdf", filename=f"{slugify(doc_id)}.pdf",
                        content_disposition_type="inline")  # fmt: skip
