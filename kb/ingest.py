"""Ingest files into the index: parse, chunk, tag languages, embed, and publish a new generation.

Incremental: a file whose content hash is unchanged is skipped, a changed file replaces its documents, a
file gone from an ingested folder loses its documents (unless ``keep_deleted``). Bad files are reported
one line each and never stop the run. Nothing is written unless something changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.backend import Change, IndexBackend, IndexReader, backend_for
from kb.chunking import chunk
from kb.embedding import Embedder
from kb.errors import DocumentError, InputError, KBError, LimitError, NotFoundError
from kb.fetch import fetch
from kb.hashing import file_hash
from kb.langid import detect, passage_language
from kb.loaders import Parsed
from kb.sandbox import parse_files
from kb.settings import Settings
from kb.textutil import slugify
from kb.types import Chunk, Document, FileOutcome, IngestReport

DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$")
META_FIELDS = ("title", "publisher", "source_url", "date", "language")
Progress = Callable[[str], None]


@dataclass
class Source:
    """One input file: where it is, how it is known in the index, and what the user says about it."""

    path: Path
    key: str
    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    root: str | None = None


def discover(paths: list[Path]) -> tuple[list[Source], list[str], list[FileOutcome]]:
    """Files under ``paths`` with their manifest metadata; also the folders scanned, for deletions."""
    sources: list[Source] = []
    roots: list[str] = []
    missing: list[FileOutcome] = []
    for p in paths:
        if p.is_dir():
            root = p.resolve()
            roots.append(str(root))
            meta = _manifest(root)
            for f in sorted(x for x in root.rglob("*") if x.is_file() and not _ignored(x, root)):
                sources.append(Source(f, str(f.resolve()), str(f.relative_to(root)), meta.get(f.name, {}), str(root)))
        elif p.is_file():
            meta = _manifest(p.resolve().parent).get(p.name, {})
            sources.append(Source(p, str(p.resolve()), p.name, meta))
        else:
            missing.append(
                FileOutcome(str(p), "failed", error_code="not_found", message=f"{p}: no such file or folder")
            )
    return sources, roots, missing


def _ignored(f: Path, root: Path) -> bool:
    rel = f.relative_to(root).parts
    return any(part.startswith(".") for part in rel) or f.name in ("manifest.json", "README.md", "SOURCE.md")


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {d["file"]: d for d in data.get("documents", []) if isinstance(d, dict) and "file" in d}
    except (ValueError, KeyError, AttributeError) as exc:
        raise InputError(f"{path}: invalid manifest ({exc})", field=str(path)) from exc


def ingest(
    paths: list[Path],
    settings: Settings,
    embedder: Embedder,
    *,
    keep_deleted: bool = False,
    progress: Progress | None = None,
    sources: list[Source] | None = None,
    urls: list[str] | None = None,
) -> IngestReport:
    """Ingest files, folders and web pages (``urls``) into the index; returns what happened to each."""
    with tempfile.TemporaryDirectory(prefix="kb-fetch-") as tmp:
        fetched, failed = _fetch_all(urls or [], settings, Path(tmp))
        return _ingest(paths, settings, embedder, keep_deleted, progress, sources, fetched, failed)


def _fetch_all(urls: list[str], settings: Settings, folder: Path) -> tuple[list[Source], list[FileOutcome]]:
    """Each URL fetched into ``folder`` as a source keyed by the URL; failures named."""
    sources, failed = [], []
    for i, url in enumerate(urls):
        try:
            page = fetch(url, settings.limits.max_file_bytes, settings.allow_private_urls)
        except KBError as exc:
            failed.append(FileOutcome(url, "failed", error_code=exc.code, message=exc.message))
            continue
        path = folder / f"{i}-{page.name}"
        path.write_bytes(page.data)
        sources.append(Source(path, f"url:{url}", page.name, {"source_url": page.url}))
    return sources, failed


def _ingest(paths: list[Path], settings: Settings, embedder: Embedder, keep_deleted: bool,
            progress: Progress | None, sources: list[Source] | None, fetched: list[Source],
            failed: list[FileOutcome]) -> IngestReport:  # fmt: skip
    say = progress or (lambda _msg: None)
    if sources is None:
        sources, roots, outcomes = discover(paths)
    else:
        roots, outcomes = [], []
    sources, outcomes = sources + fetched, outcomes + failed
    backend = backend_for(settings)
    with backend.writing():
        store = backend.open(embedder) if backend.exists() else None
        known = store.sources() if store else {}
        change = Change()
        todo = _changed_sources(sources, known, settings, outcomes, say)
        _parse_all(todo, settings, store, known, change, outcomes, say)
        if not keep_deleted:
            _deletions(roots, sources, known, store, change, outcomes)
        report = IngestReport(outcomes=outcomes)
        if store:
            store.close()
        if change.empty():
            say("nothing changed; index left as it is")
        else:
            say(f"embedding {sum(len(c) for c in change.chunks)} passages with {embedder.name}")
            change.embed(embedder, progress=progress is not None)
            backend.apply(change, embedder, progress=say)
            report.changed = True
        if backend.exists():
            _summarise(report, backend, embedder)
        return report


def _changed_sources(sources: list[Source], known: dict[str, str], settings: Settings,
                     outcomes: list[FileOutcome], say: Progress) -> list[tuple[Source, str]]:  # fmt: skip
    todo = []
    for src in sources:
        size = src.path.stat().st_size
        if size > settings.limits.max_file_bytes:
            msg = f"{src.name}: {size / 2**20:.0f} MB, over the {settings.limits.max_file_bytes / 2**20:.0f} MB limit"
            outcomes.append(FileOutcome(src.name, "failed", error_code=LimitError.code, message=msg))
            continue
        digest = file_hash(src.path)
        if known.get(src.key) == digest:
            outcomes.append(FileOutcome(src.name, "unchanged"))
            continue
        todo.append((src, digest))
    say(f"{len(todo)} file(s) to parse, {len(sources) - len(todo)} unchanged or skipped")
    return todo


def _parse_all(todo: list[tuple[Source, str]], settings: Settings, store: IndexReader | None, known: dict[str, str],
               change: Change, outcomes: list[FileOutcome], say: Progress) -> None:  # fmt: skip
    taken: dict[str, str] = {}
    jobs = [(src.name, src.path) for src, _ in todo]
    for n, (i, result) in enumerate(parse_files(jobs, settings.limits, settings.workers), start=1):
        src, digest = todo[i]
        status = "updated" if src.key in known else "added"
        if isinstance(result, DocumentError):
            outcomes.append(FileOutcome(src.name, "failed", error_code=result.code, message=result.message))
            say(f"[{n}/{len(jobs)}] FAILED {result.message}")
            continue
        docs, warnings = _prepare(src, digest, result, store, taken)
        for doc in docs:
            change.add(doc, _chunk_doc(doc, settings))
        change.replace_source(src.key, digest, store.docs_of_source(src.key) if store else [])
        for doc in docs:
            if doc.stored_file:
                change.files[doc.stored_file] = src.path
        outcomes.append(FileOutcome(src.name, status, [d.doc_id for d in docs], message="; ".join(warnings) or None))
        say(
            f"[{n}/{len(jobs)}] {status} {src.name}: {len(docs)} document(s)"
            + (f", {len(warnings)} warning(s)" if warnings else "")
        )
        for w in warnings[:20]:
            say(f"    {w}")


def _prepare(src: Source, digest: str, parsed: Parsed, store: IndexReader | None,
             taken: dict[str, str]) -> tuple[list[Document], list[str]]:  # fmt: skip
    """Give the parsed documents their ids and metadata; drop ids that belong to another source."""
    docs, warnings = [], list(parsed.warnings)
    single = len(parsed.documents) == 1 and parsed.documents[0].kind != "jsonl"
    for doc in parsed.documents:
        if single:
            doc.doc_id = str(src.meta.get("id") or slugify(Path(src.name).stem))
        for key in META_FIELDS:
            if src.meta.get(key):
                setattr(doc, key, src.meta[key])
        doc.title = doc.title or Path(src.name).stem
        doc.source_key, doc.content_hash = src.key, digest
        if doc.kind == "pdf":
            doc.stored_file = f"{digest}.pdf"
        owner = taken.get(doc.doc_id) or (_owner(store, doc.doc_id))
        if not DOC_ID.match(doc.doc_id):
            warnings.append(
                f"{src.name}: document id {doc.doc_id[:80]!r} is not valid ([A-Za-z0-9._:-], ≤ 200), skipped"
            )
            continue
        if owner and owner != src.key:
            if single and not src.meta.get("id"):
                doc.doc_id = f"{doc.doc_id}-{hashlib.sha1(src.key.encode()).hexdigest()[:6]}"
            else:
                warnings.append(f"{src.name}: document id {doc.doc_id!r} already belongs to {owner}, skipped")
                continue
        taken[doc.doc_id] = src.key
        docs.append(doc)
    return docs, warnings


def _owner(store: IndexReader | None, doc_id: str) -> str | None:
    row = store.document(doc_id) if store else None
    return str(row["source_key"]) if row else None


def _chunk_doc(doc: Document, settings: Settings) -> list[Chunk]:
    """Passages with their language: a declared document language (manifest, upload, JSON Lines field) holds
    unless a long passage is clearly in another one; otherwise each passage is detected."""
    chunks = chunk(doc, settings.chunk)
    if doc.language:
        for ch in chunks:
            ch.language = passage_language(ch.text, doc.language)
        return chunks
    sample = " ".join(p.text for p in doc.pages)[:5000]
    doc.language = detect(sample) or "und"
    for ch in chunks:
        if ch.text == sample:  # a one-passage document: its language was just measured on this very text
            ch.language = doc.language
        else:
            ch.language = (detect(ch.text) if len(ch.text) >= 40 else "") or doc.language
    return chunks


def _deletions(roots: list[str], sources: list[Source], known: dict[str, str], store: IndexReader | None,
               change: Change, outcomes: list[FileOutcome]) -> None:  # fmt: skip
    present = {s.key for s in sources}
    for key in known:
        if key not in present and any(key.startswith(r.rstrip("/") + "/") for r in roots):
            doc_ids = store.docs_of_source(key) if store else []
            change.replace_source(key, None, doc_ids)
            outcomes.append(FileOutcome(key, "deleted", doc_ids))


def _summarise(report: IngestReport, backend: IndexBackend, embedder: Embedder) -> None:
    index = backend.open(embedder)
    info = index.info()
    index.close()
    report.documents, report.chunks, report.pages = info.documents, info.passages, info.pages
    report.languages, report.generation = info.languages, info.generation


def remove(doc_ids: list[str], settings: Settings, embedder: Embedder) -> IngestReport:
    """Remove documents by id (and forget their source, so that re-adding the same file works)."""
    backend = backend_for(settings)
    with backend.writing():
        store = backend.open(embedder)
        rows = [store.document(d) for d in doc_ids]
        store.close()
        missing = [d for d, r in zip(doc_ids, rows, strict=True) if r is None]
        if missing:
            raise NotFoundError(f"no document {missing[0]!r} in the index", field="doc_id")
        change = Change()
        change.remove_documents(doc_ids)
        for row in rows:
            assert row is not None
            change.sources[row["source_key"]] = None
        backend.apply(change, embedder)
        report = IngestReport(outcomes=[FileOutcome(d, "deleted", [d]) for d in doc_ids], changed=True)
        _summarise(report, backend, embedder)
        return report
