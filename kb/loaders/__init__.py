"""Turn one file's bytes into documents, choosing the loader by content as well as by extension."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath

from kb.errors import BrokenFileError, EmptyFileError, UnsupportedTypeError
from kb.types import Document

TEXT_EXT = {".txt", ".text"}
MD_EXT = {".md", ".markdown"}
HTML_EXT = {".html", ".htm", ".xhtml"}
JSONL_EXT = {".jsonl", ".ndjson"}
PDF_EXT = {".pdf"}
OFFICE_EXT = {".docx", ".odt"}
SUPPORTED = TEXT_EXT | MD_EXT | HTML_EXT | JSONL_EXT | PDF_EXT | OFFICE_EXT


@dataclass
class Parsed:
    documents: list[Document]
    warnings: list[str] = field(default_factory=list)


def sniff(name: str, data: bytes) -> str:
    """The loader kind for these bytes: pdf, docx, odt, html, markdown, text or jsonl. Raises on empty or
    unknown."""
    ext = PurePath(name).suffix.lower()
    if not data.strip():
        raise EmptyFileError(f"{name}: empty file", field=name)
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if ext in PDF_EXT:
        raise BrokenFileError(f"{name}: not a PDF (no %PDF header): broken or mislabelled file", field=name)
    if data.startswith(b"PK\x03\x04") or ext in OFFICE_EXT:
        from kb.loaders.office import office_kind

        return office_kind(name, data)
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsupportedTypeError(f"{name}: binary content of unknown type (not PDF, Word, OpenDocument, HTML or text)",
                                   field=name)  # fmt: skip
    low = head.lstrip().lower()
    if ext in JSONL_EXT or _looks_like_jsonl(data):
        return "jsonl"
    if ext in HTML_EXT or low.startswith((b"<!doctype html", b"<html")) or b"<body" in low:
        return "html"
    if ext in MD_EXT:
        return "markdown"
    if ext in TEXT_EXT or ext == "":
        return "text"
    raise UnsupportedTypeError(
        f"{name}: unsupported file type {ext!r} (PDF, Word .docx, OpenDocument .odt, HTML, .txt, .md or BEIR .jsonl)",
        field=name,
    )


def _looks_like_jsonl(data: bytes) -> bool:
    first = data.lstrip()[:4096].split(b"\n", 1)[0]
    if not first.startswith(b"{"):
        return False
    try:
        obj = json.loads(first)
    except ValueError:
        return False
    return isinstance(obj, dict) and "_id" in obj and "text" in obj


def parse(name: str, data: bytes, ocr: str = "auto") -> Parsed:
    """Documents of one file (ids still empty, except JSON Lines which carry their own); ``ocr``: auto (pages
    without text are recognised when Tesseract is installed) or off."""
    kind = sniff(name, data)
    if kind == "pdf":
        from kb.loaders.pdf import load_pdf

        return Parsed([load_pdf(name, data, ocr)])
    if kind in ("docx", "odt"):
        from kb.loaders.office import office_document

        return Parsed([office_document(name, data, kind)])
    if kind == "html":
        from kb.loaders.html import html_document

        return Parsed([html_document(name, data)])
    if kind == "jsonl":
        from kb.loaders.jsonl import jsonl_documents

        docs, problems = jsonl_documents(name, data)
        return Parsed(docs, problems)
    from kb.loaders.text import text_document

    return Parsed([text_document(name, data, markdown=kind == "markdown")])
