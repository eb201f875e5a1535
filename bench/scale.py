"""Query latency, memory and dense-index recall as the corpus grows (10k, 100k… passages).

Passages beyond the real corpora are made by recombining real French sentences (PIAF, CNIL,
service-public); their vectors are real e5 passage vectors of those corpora perturbed with Gaussian noise
(cosine ≈ 0.9 to their origin), because embedding 100k passages on 2 cores takes hours. Queries are real
(PIAF questions and Europarl English sentences) and embedded by the real model. Everything else — parsing,
chunking, language tags, analysis, SQLite, tantivy, FAISS — is the real pipeline.

    python bench/scale.py --sizes 10000,100000 [--queries 1000] [--out bench/out/scale.json]
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

from kb import generations
from kb.dense import DenseIndex
from kb.embedding import load_embedder
from kb.engine import load, search
from kb.ingest import Source, ingest
from kb.settings import resolve
from kb.textutil import sentence_spans

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = [
    "piaf/beir/corpus.jsonl",
    "cnil-faq-piafml/beir/corpus.jsonl",
    "service-public-dila-piafml/beir/corpus.jsonl",
]


class ScaleEmbedder:
    """Real query vectors; passage vectors drawn from real ones and perturbed (see the module docstring)."""

    def __init__(self, real, base: np.ndarray, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
        self.real, self.base, self.rng = real, base, np.random.default_rng(seed)
        self.name, self.dim = real.name, real.dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.real.encode_queries(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        picks = self.base[self.rng.integers(0, len(self.base), len(texts))]
        noisy = picks + self.rng.normal(0, 0.022, picks.shape).astype(np.float32)
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def sentences() -> list[str]:
    out = []
    for rel in CORPORA:
        with open(DATA / rel, encoding="utf-8") as f:
            for line in f:
                text = json.loads(line)["text"]
                out += [text[a:b] for a, b in sentence_spans(text) if 6 <= len(text[a:b].split()) <= 60]
    return out


def make_corpus(path: Path, n: int, sents: list[str]) -> None:
    rng = random.Random(n)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            words, parts = 0, []
            while words < 120:
                s = rng.choice(sents)
                parts.append(s)
                words += len(s.split())
            f.write(json.dumps({"_id": f"s{i}", "title": "", "text": " ".join(parts)}, ensure_ascii=False) + "\n")


def real_queries(n: int) -> list[str]:
    qs = []
    for rel in ("piaf/beir/queries.jsonl", "europarl-fr-en-excerpt/en2fr/queries.jsonl"):
        with open(DATA / rel, encoding="utf-8") as f:
            qs += [json.loads(line)["text"] for line in f][: n // 2]
    return qs[:n]


def base_vectors(cache: Path) -> np.ndarray:
    vecs = [np.load(g / "vectors.npy") for d in sorted((cache / "eval").glob("*")) if (g := generations.current(d))]
    if not vecs:
        raise SystemExit("run `kb eval` on the shared corpora first: their vectors seed the synthetic ones")
    return np.concatenate(vecs)


def pct(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100)
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def dense_side_by_side(vectors: np.ndarray, qvecs: np.ndarray, threads: int) -> dict[str, object]:
    t0 = time.perf_counter()
    exact = DenseIndex.build(vectors, exact_max=len(vectors), threads=threads)
    t1 = time.perf_counter()
    hnsw = DenseIndex.build(vectors, exact_max=0, threads=threads)
    t2 = time.perf_counter()
    out: dict[str, object] = {"build_exact_s": round(t1 - t0, 1), "build_hnsw_s": round(t2 - t1, 1)}
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
    return out


def run_size(n: int, args: argparse.Namespace, sents: list[str], real, base: np.ndarray) -> dict[str, object]:  # type: ignore[no-untyped-def]
    settings = resolve(os.environ)
    work = Path(args.workdir) / f"scale-{n}"
    index_dir = work / "index"
    corpus = work / "corpus.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    build_s = None
    if generations.current(index_dir) is None:
        make_corpus(corpus, n, sents)
        t0 = time.perf_counter()
        ingest([], replace(settings, index_dir=index_dir), ScaleEmbedder(real, base),  # type: ignore[arg-type]
               sources=[Source(corpus, f"bench:{corpus}", corpus.name)])  # fmt: skip
        build_s = round(time.perf_counter() - t0, 1)
    gen = generations.current(index_dir)
    assert gen is not None
    disk_mb = sum(p.stat().st_size for p in gen.rglob("*") if p.is_file()) / 2**20
    index = load(index_dir, real, settings.threads)
    queries = real_queries(args.queries)
    report: dict[str, object] = {"passages": index.dense.size, "dense_kind": index.dense.kind, "build_s": build_s,
                                 "disk_mb": round(disk_mb, 1), "queries": len(queries), "modes": {}}  # fmt: skip
    for mode in ("keyword", "semantic", "hybrid"):
        lat = []
        for q in queries:
            t0 = time.perf_counter()
            search(index, q, k=10, mode=mode, highlight="none")
            lat.append((time.perf_counter() - t0) * 1000)
        report["modes"][mode] = pct(lat)  # type: ignore[index]
        print(n, mode, report["modes"][mode], flush=True)  # type: ignore[index]
    qvecs = real.encode_queries(queries[:300])
    report["dense"] = dense_side_by_side(index.dense.vectors, qvecs, settings.threads)
    report["process_peak_rss_mb"] = round(rss_mb(), 1)
    print(n, report["dense"], flush=True)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--workdir", default="bench/data")
    ap.add_argument("--out", default="bench/out/scale.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    real = load_embedder(settings)
    base = base_vectors(settings.cache_dir)
    sents = sentences()
    results = {"note": "synthetic passages (recombined real sentences) with perturbed real vectors", "sizes": []}
    for n in (int(x) for x in args.sizes.split(",")):
        results["sizes"].append(run_size(n, args, sents, real, base))  # type: ignore[union-attr]
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
