"""BEIR corpus JSON Lines: one document per line, ``{"_id", "title", "text"}`` (optionally ``language`` and
``metadata``); broken lines reported."""

from __future__ import annotations

import json

from kb.errors import EmptyFileError
from kb.loaders.text import decode
from kb.textutil import clean
from kb.types import Document, Page


def jsonl_documents(name: str, data: bytes) -> tuple[list[Document], list[str]]:
    docs: list[Document] = []
    problems: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(decode(name, data).split("\n"), start=1):
        if not line.strip():
            continue
        doc, problem = _line(line)
        if problem:
            problems.append(f"{name}:{lineno}: {problem}")
        elif doc is not None:
            if doc.doc_id in seen:
                problems.append(f"{name}:{lineno}: duplicate _id {doc.doc_id!r}, line skipped")
                continue
            seen.add(doc.doc_id)
            docs.append(doc)
    if not docs:
        raise EmptyFileError(f"{name}: no valid JSON Lines document ({len(problems)} bad lines)", field=name)
    return docs, problems


def _line(line: str) -> tuple[Document | None, str | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    doc_id, text = obj.get("_id"), obj.get("text")
    if not isinstance(doc_id, (str, int)) or str(doc_id).strip() == "":
        return None, "missing or empty _id"
    if not isinstance(text, str) or not text.strip():
        return None, f"document {doc_id!r} has no text"
    title = obj.get("title") if isinstance(obj.get("title"), str) else ""
    raw_meta = obj.get("metadata")
    meta: dict[str, object] = raw_meta if isinstance(raw_meta, dict) else {}
    doc = Document(
        doc_id=str(doc_id),
        title=clean(title or "").strip()[:500],
        pages=[Page(n=1, text=clean(text))],
        kind="jsonl",
        publisher=str(meta.get("publisher", "") or ""),
        source_url=str(meta.get("url", "") or obj.get("url", "") or ""),
        date=str(meta["date"]) if meta.get("date") else None,
        language=_language(obj.get("language") or meta.get("language")),
    )
    return doc, None


def _language(value: object) -> str:
    """A declared language code ("fr", "en"…), or "" to detect it."""
    return value.strip().lower() if isinstance(value, str) and 2 <= len(value.strip()) <= 3 else ""
