"""Ingest speed: PDF pages parsed per second, passages embedded per second end to end against the
model's raw `encode` on the same passages in the same run (the ratio is the pipeline's overhead), and the
wall time of `kb ingest` building the index of each shared benchmark corpus from nothing.

    python bench/ingest_speed.py [--corpus ../shared/data/cnil-faq-piafml/beir/corpus.jsonl] [--no-builds]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from kb import generations
from kb.embedding import Embedder, load_embedder
from kb.ingest import ingest
from kb.sandbox import parse_files
from kb.settings import resolve
from kb.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pdf_pages_per_second(workers: int) -> dict[str, float]:
    files = sorted((DATA / "pdf-robustness").rglob("*.pdf"))
    settings = resolve(os.environ)
    t0 = time.perf_counter()
    pages = 0
    for _, result in parse_files([(f.name, f) for f in files], settings.limits, workers):
        if not isinstance(result, Exception):
            pages += sum(len(d.pages) for d in result.documents)
    secs = time.perf_counter() - t0
    return {"workers": workers, "files": len(files), "pages": pages, "seconds": round(secs, 2),
            "pages_per_s": round(pages / secs, 1)}  # fmt: skip


@contextmanager
def fresh_ingest(path: Path) -> Iterator[tuple[float, Path, Embedder]]:
    """`kb ingest` of ``path`` into an empty, temporary index: its wall time, live generation and model."""
    settings = resolve(os.environ)
    embedder = load_embedder(settings)
    work = Path(tempfile.mkdtemp(prefix="kb-ingest-bench-"))
    try:
        s = replace(settings, index_dir=work / "index")
        t0 = time.perf_counter()
        ingest([path], s, embedder)
        yield time.perf_counter() - t0, generations.require_current(s.index_dir), embedder
    finally:
        shutil.rmtree(work, ignore_errors=True)


def end_to_end(corpus: Path) -> dict[str, object]:
    with fresh_ingest(corpus) as (e2e, gen, embedder):
        texts = [r[0] for r in Store(gen / "kb.sqlite", readonly=True).iter_chunk_rows("text")]
        t0 = time.perf_counter()
        embedder.encode_passages(texts)
        raw = time.perf_counter() - t0
    return {"corpus": str(corpus), "passages": len(texts), "end_to_end_s": round(e2e, 1), "raw_encode_s": round(raw, 1),
            "end_to_end_passages_per_s": round(len(texts) / e2e, 2), "raw_passages_per_s": round(len(texts) / raw, 2),
            "ratio": round(raw / e2e, 3)}  # fmt: skip


BUILDS = ["cnil-faq-piafml/beir", "service-public-dila-piafml/beir", "piaf/beir", "europarl-fr-en-excerpt/fr2en",
          "europarl-fr-en-excerpt/en2fr", "europarl-fr-en-excerpt/mixed", "crpa-faq-piafml/beir"]  # fmt: skip


def corpus_build(folder: Path) -> dict[str, object]:
    """`kb ingest` of one shared corpus into an empty index: wall time, documents, passages."""
    with fresh_ingest(folder / "corpus.jsonl") as (secs, gen, _):
        manifest = generations.read_manifest(gen)
    counts = manifest["counts"]
    return {"corpus": str(folder.relative_to(DATA)), "documents": counts["documents"], "passages": counts["chunks"],
            "seconds": round(secs, 1), "passages_per_s": round(counts["chunks"] / secs, 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(DATA / "cnil-faq-piafml/beir/corpus.jsonl"))
    ap.add_argument("--out", default="bench/out/ingest.json")
    ap.add_argument("--no-builds", action="store_true", help="skip building each shared corpus")
    args = ap.parse_args()
    report: dict[str, object] = {"pdf": [pdf_pages_per_second(1), pdf_pages_per_second(2)],
                                 "embedding": end_to_end(Path(args.corpus))}  # fmt: skip
    if not args.no_builds:
        report["corpus_builds"] = [corpus_build(DATA / rel) for rel in BUILDS]
    print(json.dumps(report, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
