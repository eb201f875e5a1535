"""Writing to the ``qdrant`` backend: one change becomes the next generation (see :mod:`kb.qdrant`).

The steps of :func:`apply`: delete the points that the previous write marked; upsert the new passages (dense
vector, sparse BM25 vector, payload), documents and pages with ``gen_added = G+1``; mark the removed ones with
``gen_removed = G+1``; record the sources and keep the original files; switch ``meta`` to G+1 (one upsert:
readers move to the new generation whole); let Qdrant index what was added. No graph is rebuilt.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.analysis import analyze_passage
from kb.backend import Change, Progress, iter_batches
from kb.embedding import Embedder
from kb.qdrant import BATCH, K1, META, B, _rid, term_id, visible
from kb.qdrant_store import Cond, Record
from kb.store import text_hash

OPTIMIZE_AFTER = 1000  # passages added before the shard's HNSW graph is built for them (Edge)


def bm25_vector(terms: list[str], avgdl: float) -> tuple[list[int], list[float]]:
    """BM25 term weights of a passage (tf saturation and length normalisation; the engine adds the IDF)."""
    tf = Counter(term_id(t) for t in terms)
    norm = K1 * (1 - B + B * len(terms) / max(avgdl, 1.0))
    return list(tf), [n * (K1 + 1) / (n + norm) for n in tf.values()]


def apply(store: Any, meta: dict[str, Any], change: Change, embedder: Embedder, files: Path,
          progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Write ``change`` as generation G+1 of ``store``; returns the new meta record."""
    say = progress or (lambda _m: None)
    g = int(meta.get("generation", 0))
    new = g + 1
    if g:
        store.delete(Cond([("le", "gen_removed", g)]))  # what the previous write marked: no reader needs it now
    if change.removed:
        store.set_payload(visible(g) & Cond([("any", "doc_id", sorted(change.removed))]), {"gen_removed": new})
    terms = [[analyze_passage(c.text, c.language).split() for c in chunks] for chunks in change.chunks]
    lengths = [len(t) for doc in terms for t in doc]
    avgdl = _avgdl(meta, lengths)
    vid = int(meta.get("next_vid", 0))
    total = sum(len(c) + len(d.pages) + 1 for d, c in zip(change.docs, change.chunks, strict=True))
    for n, batch in enumerate(iter_batches(_records(change, terms, vid, new, avgdl), BATCH), start=1):
        store.upsert(batch)
        if n % 100 == 0:
            say(f"qdrant: {n * BATCH} of {total} points written")
    vid += len(lengths)
    _sources(store, change)
    _keep_files(change, files)
    meta = _meta(store, meta, embedder, new, vid, avgdl, lengths)
    store.upsert([(META, {}, meta | {"rec": "meta"})])
    if sum(len(c) for c in change.chunks) >= OPTIMIZE_AFTER:
        say("qdrant: indexing")
        store.optimize()
    store.flush()
    return meta


def _records(change: Change, terms: list[list[list[str]]], vid: int, g: int, avgdl: float) -> Iterator[Record]:
    """Each new passage (dense and BM25 vectors, payload), then its document and pages, made as they are written."""
    for doc, chunks, vecs, doc_terms in zip(change.docs, change.chunks, change.vectors, terms, strict=True):
        base = {"doc_id": doc.doc_id, "gen_added": g}
        for c, v, t in zip(chunks, vecs, doc_terms, strict=True):
            payload = base | {"rec": "passage", "vid": vid, "chunk_id": c.chunk_id, "seq": c.seq, "page": c.page,
                              "start": c.start, "end": c.end, "section": c.section, "language": c.language,
                              "text": c.text, "text_hash": text_hash(c.text), "terms": " ".join(t)}  # fmt: skip
            yield vid, {"dense": v.tolist(), "bm25": bm25_vector(t, avgdl)}, payload
            vid += 1
        meta_doc = doc.meta() | {"n_pages": len(doc.pages), "n_chunks": len(chunks), "paginated": doc.paginated}
        yield _rid("doc", doc.doc_id, g), {}, base | {"rec": "doc"} | meta_doc
        for p in doc.pages:
            yield _rid("page", doc.doc_id, p.n, g), {}, base | {"rec": "page", "n": p.n, "text": p.text, "ocr": p.ocr}


def _avgdl(meta: dict[str, Any], lengths: list[int]) -> float:
    """The mean passage length in terms, kept as a running mean over what was ever written."""
    n0, mean0 = int(meta.get("dl_count", 0)), float(meta.get("avgdl", 0.0))
    n = n0 + len(lengths)
    return (mean0 * n0 + sum(lengths)) / n if n else 1.0


def _sources(store: Any, change: Change) -> None:
    keep: list[Record] = [
        (_rid("source", k), {}, {"rec": "source", "source_key": k, "content_hash": h})
        for k, h in change.sources.items() if h is not None
    ]  # fmt: skip
    gone = [k for k, h in change.sources.items() if h is None]
    if gone:
        store.delete(Cond([("eq", "rec", "source"), ("any", "source_key", gone)]))
    if keep:
        store.upsert(keep)


def _keep_files(change: Change, files: Path) -> None:
    """Original PDFs, named by content hash (a folder under the index; a shared volume for a cluster)."""
    files.mkdir(parents=True, exist_ok=True)
    for name, src in change.files.items():
        if not (files / name).is_file():
            tmp = files / f".{name}.tmp"
            shutil.copyfile(src, tmp)
            tmp.replace(files / name)


def _meta(store: Any, meta: dict[str, Any], embedder: Embedder, g: int, next_vid: int, avgdl: float,
          lengths: list[int]) -> dict[str, Any]:  # fmt: skip
    vis = visible(g)
    count = {k: store.count(vis & Cond([("eq", "rec", k)])) for k in ("doc", "page", "passage")}
    return {"generation": g, "next_vid": next_vid, "model": embedder.name, "dimension": embedder.dim,
            "passage_precision": embedder.passage_precision, "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "documents": count["doc"], "pages": count["page"], "passages": count["passage"], "avgdl": avgdl,
            "dl_count": int(meta.get("dl_count", 0)) + len(lengths)}  # fmt: skip
