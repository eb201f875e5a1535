"""Retrieval quality on a BEIR folder: nDCG@10, MRR@10, Recall@10/100 per mode, at document level."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from kb.backend import IndexReader, backend_for
from kb.embedding import load_embedder
from kb.engine import search
from kb.errors import InputError, KBIndexError
from kb.hashing import file_hash
from kb.ingest import Source, ingest
from kb.settings import Settings

DEPTH = 100


def read_beir(folder: Path, queries: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    qpath = queries or folder / "queries.jsonl"
    for p in (qpath, folder / "qrels.tsv"):
        if not p.is_file():
            raise InputError(f"{p}: missing (a BEIR folder has corpus.jsonl, queries.jsonl, qrels.tsv)", field=str(p))
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and parts[2].lstrip("-").isdigit():
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    with open(qpath, encoding="utf-8") as f:
        qs = [json.loads(line) for line in f if line.strip()]
    return [q for q in qs if str(q["_id"]) in qrels], qrels


def ndcg(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]) if rel.get(d, 0) > 0)
    ideal = sorted((r for r in rel.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def mrr(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranked[:k]) if rel.get(d, 0) > 0), 0.0)


def recall(ranked: list[str], rel: dict[str, int], k: int) -> float:
    wanted = {d for d, r in rel.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def hit(ranked: list[str], rel: dict[str, int], k: int = 1) -> float:
    return 1.0 if any(rel.get(d, 0) > 0 for d in ranked[:k]) else 0.0


def _documents(index: IndexReader, query: str, mode: str, typos: bool = True) -> list[str]:
    """Documents in the order of their best passage (the first DEPTH)."""
    result = search(index, query, k=DEPTH, mode=mode, highlight="none", max_k=DEPTH, max_chars=100_000, typos=typos)
    seen: dict[str, None] = {}
    for h in result.hits:
        seen.setdefault(h.doc_id, None)
        for other in h.also_in:
            seen.setdefault(other.doc_id, None)
    return list(seen)


def dataset_name(folder: Path) -> str:
    return folder.parent.name if folder.name == "beir" else folder.name


def _index_for(folder: Path, corpus: Path, settings: Settings, index_dir: Path | None,
               progress: Callable[[str], None]) -> tuple[Settings, float]:  # fmt: skip
    """Build (or reuse, when the corpus is unchanged) the index of a BEIR corpus; returns its build time."""
    digest = file_hash(corpus)
    if index_dir is None:
        variant = "" if settings.passage_precision == "fp32" else f"|{settings.passage_precision}"
        variant += "" if settings.index_backend == "local" else f"|{settings.index_backend}"
        tag = hashlib.sha1(f"{settings.model}|{corpus.resolve()}{variant}".encode()).hexdigest()[:10]
        index_dir = settings.cache_dir / "eval" / f"{dataset_name(folder)}-{tag}"
    settings = replace(settings, index_dir=index_dir, qdrant_collection=f"eval-{index_dir.name}")
    t0 = time.perf_counter()
    source = Source(corpus, f"beir:{corpus.resolve()}", corpus.name)
    if not _reusable(settings, source.key, digest):
        ingest([], settings, load_embedder(settings), sources=[source], progress=progress)
    return settings, time.perf_counter() - t0


def _reusable(settings: Settings, key: str, digest: str) -> bool:
    """An index of this corpus, model and passage precision already there."""
    backend = backend_for(settings)
    if not backend.exists():
        return False
    try:
        index = backend.open(load_embedder(settings))
    except KBIndexError:
        return False
    try:
        info = index.info()
        return info.passage_precision == settings.passage_precision and index.sources().get(key) == digest
    finally:
        index.close()


def evaluate(folder: Path, settings: Settings, queries: Path | None = None, modes: list[str] | None = None,
             index_dir: Path | None = None, limit: int | None = None, progress: Callable[[str], None] | None = None,
             corpus_file: str | None = None, split: str | None = None, typos: bool = True) -> dict[str, Any]:  # fmt: skip
    say = progress or (lambda _m: None)
    corpus = folder / (corpus_file or "corpus.jsonl")
    if not corpus.is_file():
        raise InputError(f"{corpus}: missing", field="corpus")
    qs, qrels = read_beir(folder, queries)
    if split:
        qs = [q for q in qs if q.get("split") == split]
    qs = qs[:limit] if limit else qs
    settings, build_s = _index_for(folder, corpus, settings, index_dir, say)
    index = backend_for(settings).open(load_embedder(settings))
    groups = _groups(index, qs, qrels)
    report: dict[str, Any] = {"dataset": dataset_name(folder), "corpus": str(corpus), "queries": len(qs),
                              "split": split, "passages": index.info().passages, "model": settings.model,
                              "backend": settings.index_backend, "typo_tolerance": typos,
                              "index_build_s": round(build_s, 1), "modes": {}}  # fmt: skip
    for mode in modes or ["keyword", "semantic", "hybrid"]:
        t0 = time.perf_counter()
        runs = {str(q["_id"]): _documents(index, q["text"], mode, typos) for q in qs}
        per_query_ms = (time.perf_counter() - t0) * 1000 / max(1, len(qs))
        scores = _scores(runs, qrels) | {"ms_per_query": round(per_query_ms, 1)}
        if len(set(groups.values())) > 1:
            scores["groups"] = {g: _scores({q: runs[q] for q in runs if groups[q] == g}, qrels)
                                for g in sorted(set(groups.values()))}  # fmt: skip
        report["modes"][mode] = scores
        say(f"{dataset_name(folder)} {mode}: {scores}")
    return report


def _groups(index: IndexReader, qs: list[dict[str, Any]], qrels: dict[str, dict[str, int]]) -> dict[str, str]:
    """Each query's "query language→answer language" (its ``lang`` field or detected; its relevant passages')."""
    from kb.langid import query_language

    langs: dict[str, str] = {}
    out = {}
    for q in qs:
        qid = str(q["_id"])
        qlang = q.get("lang")
        if not qlang:
            probs = query_language(q["text"])
            qlang = max(probs, key=lambda k: probs[k]) if probs else "und"
        for d in qrels[qid]:
            if d not in langs:
                doc = index.document(d)
                langs[d] = doc["language"] if doc else ""
        answer = sorted({langs[d] for d, r in qrels[qid].items() if r > 0 and langs[d]}) or ["?"]
        out[qid] = f"{qlang}→{'+'.join(answer)}"
    return out


def _scores(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
    n = max(1, len(runs))
    return {
        "queries": len(runs),
        "ndcg@10": round(sum(ndcg(r, qrels[q]) for q, r in runs.items()) / n, 4),
        "mrr@10": round(sum(mrr(r, qrels[q]) for q, r in runs.items()) / n, 4),
        "hit@1": round(sum(hit(r, qrels[q]) for q, r in runs.items()) / n, 4),
        "recall@10": round(sum(recall(r, qrels[q], 10) for q, r in runs.items()) / n, 4),
        "recall@100": round(sum(recall(r, qrels[q], 100) for q, r in runs.items()) / n, 4),
    }


def format_table(report: dict[str, Any]) -> str:
    head = f"{report['dataset']}: {report['queries']} queries, {report['passages']} passages, model {report['model']}"
    if report.get("split"):
        head += f", {report['split']} queries only"
    lines = [
        head,
        "| mode | queries | nDCG@10 | MRR@10 | hit@1 | R@10 | R@100 | ms/query |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, s in report["modes"].items():
        rows = [(mode, s)] + [(f"{mode} {g}", gs) for g, gs in s.get("groups", {}).items()]
        for name, r in rows:
            lines.append(f"| {name} | {r['queries']} | {r['ndcg@10']:.3f} | {r['mrr@10']:.3f} | {r['hit@1']:.3f} | "
                         f"{r['recall@10']:.3f} | {r['recall@100']:.3f} | {s['ms_per_query']:.1f} |")  # fmt: skip
    return "\n".join(lines)
