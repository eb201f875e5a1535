"""Query latency, memory and dense-index recall as the corpus grows (10k, 100k, 1M passages).

Passages beyond the real corpora are made by recombining real French sentences (PIAF, CNIL,
service-public); a passage's vector is the real e5 vector of its first sentence (each of the ~28k
sentences embedded once) perturbed with Gaussian noise (cosine ≈ 0.9), because embedding 1M passages on
2 cores would take days. Queries are real
(PIAF questions and Europarl English sentences) and embedded by the real model. Up to ``--direct-from``
passages everything else — JSONL parsing, chunking, language detection, analysis, SQLite, tantivy, FAISS —
is the real ``kb.ingest`` pipeline; from there on (the 1M point) the documents are made in memory and tagged
French (their sentences all are) instead of running langdetect on each, then built by the real builder.

    python bench/scale.py --sizes 10000,100000,1000000 [--queries 1000] [--out bench/out/scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from load import rss_mb

from kb.backend import Change, backend_for
from kb.chunking import chunk
from kb.dense import DenseIndex
from kb.embedding import load_embedder
from kb.engine import search
from kb.ingest import Source, ingest, remove
from kb.local import LocalIndex
from kb.qdrant import QdrantIndex
from kb.settings import resolve
from kb.textutil import sentence_spans
from kb.types import Document, Filters, Page

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = [
    "piaf/beir/corpus.jsonl",
    "cnil-faq-piafml/beir/corpus.jsonl",
    "service-public-dila-piafml/beir/corpus.jsonl",
]


class ScaleEmbedder:
    """Real query vectors; a passage's vector is the real e5 vector of its first sentence, perturbed.

    The synthetic passages are made of real sentences, each embedded once by the real model (``passage: ``
    prompt, cached in the work folder). A passage gets its first sentence's vector plus Gaussian noise
    (cosine ≈ 0.9 to it), so vectors follow the text and near-copies of one sentence stay distinct. (The
    mean of a passage's sentence vectors was tried: random sentences average out to nearly one point, a
    distribution unlike any real corpus.)
    """

    def __init__(self, real, sents: list[str], vectors: np.ndarray, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
        self.real, self.name, self.dim = real, real.name, real.dim
        self.passage_precision = real.passage_precision
        self.row = {t: i for i, t in enumerate(sents)}
        self.vectors, self.rng = vectors, np.random.default_rng(seed)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.real.encode_queries(texts)

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        return self.real.encode_sentences(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        rows = [self._first_row(t) for t in texts]
        picks = self.vectors[np.array(rows, np.int64)]
        noisy = picks + self.rng.normal(0, 0.022, picks.shape).astype(np.float32)
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)

    def _first_row(self, text: str) -> int:
        for a, b in sentence_spans(text)[:3]:
            if (r := self.row.get(text[a:b])) is not None:
                return r
        return int(self.rng.integers(len(self.vectors)))


def sentence_vectors(sents: list[str], real, work: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The real passage vectors of every sentence, computed once (plain .npy, no pickle)."""
    import hashlib

    key = hashlib.sha256(("\n".join(sents) + real.name).encode()).hexdigest()[:12]
    path = work / f"sentence-vectors-{key}.npy"
    if not path.is_file():
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        np.save(path, real.encode_passages(sents, progress=True))
        print(f"embedded {len(sents)} sentences in {time.perf_counter() - t0:.0f} s", flush=True)
    return np.load(path)


def sentences() -> list[str]:
    out = []
    for rel in CORPORA:
        with open(DATA / rel, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line)["text"]
                out += [text[a:b] for a, b in sentence_spans(text) if 6 <= len(text[a:b].split()) <= 60]
    return out


def passages(n: int, sents: list[str]):  # type: ignore[no-untyped-def]
    rng = random.Random(n)
    for i in range(n):
        words, parts = 0, []
        while words < 120:
            s = rng.choice(sents)
            parts.append(s)
            words += len(s.split())
        yield f"s{i}", " ".join(parts)


def make_corpus(path: Path, n: int, sents: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for pid, text in passages(n, sents):
            f.write(json.dumps({"_id": pid, "title": "", "text": text}, ensure_ascii=False) + "\n")


def direct_build(settings, n: int, sents: list[str], embedder) -> None:  # type: ignore[no-untyped-def]
    """The documents made in memory, tagged French, then the backend's real writer (see the module docstring)."""
    change = Change()
    for pid, text in passages(n, sents):
        doc = Document(pid, "", [Page(1, text)], "jsonl", language="fr", source_key="bench:direct",
                       content_hash=pid)  # fmt: skip
        chunks = chunk(doc, settings.chunk)
        for c in chunks:
            c.language = "fr"
        change.add(doc, chunks)
    change.replace_source("bench:direct", f"{n}", [])
    backend_for(settings).apply(change, embedder, progress=lambda m: print(n, m, flush=True))


NOTE = (
    "synthetic passages (recombined real French sentences) with perturbed real e5 vectors; "
    "the 1M point's documents are tagged French instead of detected; queries real and really embedded"
)


def machine() -> dict[str, object]:
    import platform

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())  # fmt: skip
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def real_queries(n: int) -> list[str]:
    qs = []
    for rel in ("piaf/beir/queries.jsonl", "europarl-fr-en-excerpt/en2fr/queries.jsonl"):
        with open(DATA / rel, encoding="utf-8") as f:
            qs += [json.loads(line)["text"] for line in f][: n // 2]
    return qs[:n]


def pct(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100)
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


def dense_side_by_side(live: DenseIndex, qvecs: np.ndarray, threads: int) -> dict[str, object]:
    """The exact and the HNSW index over the same vectors; the index's own one is reused, the other built."""
    vectors = live.vectors
    t0 = time.perf_counter()
    exact = live if live.kind == "flat" else DenseIndex.build(vectors, exact_max=len(vectors), threads=threads)
    t1 = time.perf_counter()
    hnsw = live if live.kind == "hnsw" else DenseIndex.build(vectors, exact_max=0, threads=threads)
    t2 = time.perf_counter()
    out: dict[str, object] = {  # None: the index's own, built with it (see build_s)
        "build_exact_s": None if exact is live else round(t1 - t0, 1),
        "build_hnsw_s": None if hnsw is live else round(t2 - t1, 1),
    }
    truth = [set(exact.search(q, 10)[1].tolist()) for q in qvecs]
    for name, idx in (("exact", exact), ("hnsw", hnsw)):
        lat, rec = [], []
        for q, t in zip(qvecs, truth, strict=True):
            s = time.perf_counter()
            got = idx.search(q, 10)[1]
            lat.append((time.perf_counter() - s) * 1000)
            rec.append(len(t & set(got.tolist())) / 10)
        extra = 0 if name == "exact" else len(vectors) * 32 * 2 * 4 / 2**20  # HNSW links, level 0
        out[name] = {**pct(lat), "recall@10": round(float(np.mean(rec)), 4),
                     "memory_mb": round(vectors.nbytes / 2**20 + extra, 1)}  # fmt: skip
    out["hnsw_ef_sweep"] = [ef_point(hnsw, qvecs, truth, ef) for ef in (128, 256, 512, 1024, 2048)]
    return out


def ef_point(hnsw: DenseIndex, qvecs: np.ndarray, truth: list[set[int]], ef: int) -> dict[str, float]:
    """Recall@10 and latency of the HNSW graph at one efSearch (kb picks it with ``kb.dense.ef_search``)."""
    import faiss

    params = faiss.SearchParametersHNSW(efSearch=ef)  # type: ignore[attr-defined]
    lat, rec = [], []
    for q, t in zip(qvecs, truth, strict=True):
        s = time.perf_counter()
        got = hnsw.index.search(q.reshape(1, -1), 10, params=params)[1][0]
        lat.append((time.perf_counter() - s) * 1000)
        rec.append(len(t & set(got.tolist())) / 10)
    return {"ef_search": ef, "recall@10": round(float(np.mean(rec)), 4), **pct(lat)}


def run_size(n: int, args: argparse.Namespace, sents: list[str], real, scale_emb: ScaleEmbedder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    settings = replace(resolve(os.environ), index_backend=args.backend)
    work = Path(args.workdir) / (f"scale-{n}" + ("" if args.backend == "local" else f"-{args.backend}"))
    index_dir = work / "index"
    corpus = work / "corpus.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    big = replace(settings.limits, max_text_chars=10**10, parse_memory_mb=16_000, parse_timeout_s=3600)
    here = replace(settings, index_dir=index_dir, limits=big)  # one JSONL file holds the whole corpus
    backend = backend_for(here)
    build_s = None
    if not backend.exists():
        t0 = time.perf_counter()
        if n >= args.direct_from:
            direct_build(here, n, sents, scale_emb)
        else:
            make_corpus(corpus, n, sents)
            t0 = time.perf_counter()
            ingest([], here, scale_emb, sources=[Source(corpus, f"bench:{corpus}", corpus.name)])  # type: ignore[arg-type]
        build_s = round(time.perf_counter() - t0, 1)
    disk_mb = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) / 2**20
    index = backend.open(real)
    info = index.info()
    queries = real_queries(args.queries)
    report: dict[str, object] = {"backend": args.backend, "passages": info.passages, "dense_kind": info.dense,
                                 "build_s": build_s, "disk_mb": round(disk_mb, 1), "queries": len(queries), "modes": {}}  # fmt: skip
    for mode in ("keyword", "semantic", "hybrid"):
        lat = []
        for q in queries:
            t0 = time.perf_counter()
            search(index, q, k=10, mode=mode, highlight="none")
            lat.append((time.perf_counter() - t0) * 1000)
        report["modes"][mode] = pct(lat)  # type: ignore[index]
        print(n, mode, report["modes"][mode], flush=True)  # type: ignore[index]
    qvecs = real.encode_queries(queries[: args.recall_queries])
    if isinstance(index, LocalIndex):
        report["dense"] = dense_side_by_side(index.dense_index, qvecs, settings.threads)
    elif isinstance(index, QdrantIndex):
        report["dense"] = qdrant_recall(index, qvecs)
    report["process_peak_rss_mb"] = round(rss_mb(os.getpid())[1], 1)
    print(n, report["dense"], flush=True)
    if args.writes:
        report["writes"] = write_costs(here, scale_emb, n, work)
        print(n, report["writes"], flush=True)
    return report


def qdrant_recall(index: QdrantIndex, qvecs: np.ndarray) -> dict[str, object]:
    """Recall@10 of Qdrant's HNSW (kb's efSearch) against Qdrant's own exact search, with both latencies."""
    cond = index._cond(Filters())
    lat, exact_lat, rec = [], [], []
    for q in qvecs:
        t0 = time.perf_counter()
        got = {i for i, _ in index.dense(q, 10, Filters())}
        t1 = time.perf_counter()
        truth = {int(i) for i, _, _ in index.store.nearest("dense", q.tolist(), 10, cond, [], exact=True)}
        exact_lat.append((time.perf_counter() - t1) * 1000)
        lat.append((t1 - t0) * 1000)
        rec.append(len(truth & got) / 10)
    return {"hnsw": {**pct(lat), "recall@10": round(float(np.mean(rec)), 4)}, "exact": pct(exact_lat)}


def write_costs(settings, embedder, n: int, work: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Delete one document, then add one, each timed on this backend (the index keeps the new one)."""
    victim = next(d["doc_id"] for d in backend_for(settings).open(embedder).documents(n // 2, 1))
    t0 = time.perf_counter()
    remove([victim], settings, embedder)
    deleted = time.perf_counter() - t0
    extra = work / "added.txt"
    extra.write_text("Plateforme de bioproduction\n\n" + "La plateforme fabrique des lots cliniques. " * 40)
    t0 = time.perf_counter()
    ingest([], settings, embedder, sources=[Source(extra, f"bench:added:{time.time()}", extra.name)])
    return {"delete_one_document_s": round(deleted, 2), "add_one_document_s": round(time.perf_counter() - t0, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--direct-from", type=int, default=500_000, help="from this size on, skip kb.ingest (see above)")
    ap.add_argument("--workdir", default="bench/data")
    ap.add_argument("--out", default="bench/out/scale.json")
    ap.add_argument("--backend", default="local", choices=["local", "qdrant"])
    ap.add_argument("--recall-queries", type=int, default=300)
    ap.add_argument("--writes", action="store_true", help="also time deleting and adding one document")
    args = ap.parse_args()
    settings = resolve(os.environ)
    real = load_embedder(settings)
    sents = sentences()
    scale_emb = ScaleEmbedder(real, sents, sentence_vectors(sents, real, Path(args.workdir)))
    out = Path(args.out)
    kept = json.loads(out.read_text())["sizes"] if out.is_file() else []  # other sizes stay in the report
    for n in (int(x) for x in args.sizes.split(",")):
        new = run_size(n, args, sents, real, scale_emb)
        same = [r for r in kept if r["passages"] == n and r.get("backend", "local") == args.backend]
        old: dict[str, object] = same[0] if same else {}
        if new["build_s"] is None:  # index reused: its build time is the one measured when it was built
            new["build_s"] = old.get("build_s")
        kept = [r for r in kept if r not in same] + [new]
        kept.sort(key=lambda r: (str(r.get("backend", "local")), int(r["passages"])))  # type: ignore[call-overload]
        results = {"note": NOTE, "machine": machine(), "sizes": kept}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
