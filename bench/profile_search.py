"""Where a search's CPU goes: each stage of a hybrid search timed alone over the same real queries, then the
whole search as the API's default request (highlight=auto), with highlight=terms (with and without the four
facets the page counts), and the web page (in process, through the app); what the stages leave unexplained is fusion, SQLite reads, citations and Python.

With the HTTP benchmark's server CPU per search (bench/out/load.json) this says what limits `kb serve`:
two cores give at most 2 / (CPU seconds per search) searches per second, and with 8 clients waiting on
each other the mean latency is 8 / throughput (Little's law).

    python bench/profile_search.py --index bench/data/scale-100000/index [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import machine, real_queries

from kb import facets as facet_counts
from kb import highlight
from kb.embedding import Embedder, load_embedder
from kb.engine import load, search
from kb.facets import FACETS  # all of them: what the page asks for
from kb.highlight import highlight_hits
from kb.langid import query_language
from kb.local import LocalIndex
from kb.retrieval import Query, rank
from kb.settings import Settings, resolve
from kb.types import Filters


def cost(items: list, fn: Callable) -> dict[str, float]:  # type: ignore[type-arg]
    """CPU (all threads of this process) and wall milliseconds per call of ``fn`` over ``items``, and the
    spread of the wall times (the tail of a stage shows in the tail of the served latency)."""
    walls = []
    c = time.process_time()
    for item in items:
        t = time.perf_counter()
        fn(item)
        walls.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(walls, n=100)
    return {"cpu_ms": round((time.process_time() - c) / len(items) * 1000, 2),
            "wall_ms": round(statistics.fmean(walls), 2), "wall_p50_ms": round(q[49], 2), "wall_p99_ms": round(q[98], 2)}  # fmt: skip


def page_request(settings: Settings, emb: Embedder, index: LocalIndex, **extra: str) -> Callable[[str], None]:
    """The web page with a query, through the app in this process (routing, search, template), no socket;
    ``extra``: more parameters (``highlight="auto"``: the request the page's script sends next)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(replace(settings, index_dir=index.path.parent), emb))

    def get(q: str) -> None:
        client.get("/", params={"q": q, **extra}).raise_for_status()

    return get


def facet_costs(index: LocalIndex, qs: list[str], qvecs: np.ndarray) -> dict[str, object]:
    """The four facets counted alone over each query's candidates (the difference of two whole searches is
    within their noise), and a search with one facet selected, which ranks once more without it."""
    ranked = []
    for q, vec in zip(qs, qvecs, strict=True):
        parsed = Query.parse(q)
        parsed.vector = vec
        ranked.append(rank(index, parsed, "hybrid", 100, Filters()).candidates)
    work = list(range(len(qs)))
    lang = Filters(languages=("fr",))
    return {
        "candidates_per_query": round(statistics.fmean(len(c) for c in ranked), 1),
        "four facets counted over the candidates": cost(
            work, lambda i: [facet_counts.count(index, ranked[i], f) for f in FACETS]
        ),
        "search, language=fr selected, no facets": cost(
            qs, lambda q: search(index, q, highlight="terms", filters=lang)
        ),
        "search, language=fr selected, four facets": cost(
            qs, lambda q: search(index, q, highlight="terms", filters=lang, facets=FACETS)
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, type=Path)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", default="bench/out/profile.json")
    args = ap.parse_args()
    settings = resolve(os.environ)
    emb = load_embedder(replace(settings, threads=settings.serve_threads))  # as `kb serve` runs it
    index = load(args.index, emb, settings.threads)
    qs = real_queries(args.queries)
    for q in qs[:20]:  # warm caches and the model's arena
        search(index, q, highlight="terms")
    qvecs = emb.encode_queries(qs)
    results = [search(index, q, highlight="none") for q in qs]
    parsed = [Query.parse(q) for q in qs]
    work = list(range(len(qs)))

    def keyword(i: int) -> None:
        for lang in ("fr", "en"):
            index.keyword_index.search_groups(parsed[i].groups(lang), 100, lang, None)

    def marks(i: int, semantic: bool) -> None:
        hits = results[i].hits
        langs = [h.citation.language for h in hits]
        terms = [{t for g in parsed[i].groups(lg) for t, _ in g} for lg in langs]
        same = [lg != parsed[i].language for lg in langs]
        if semantic:
            highlight.CACHE = highlight.VectorCache()  # each query pays in full
            highlight_hits([h.text for h in hits], langs, terms, qvecs[i], emb, same)
        else:
            highlight_hits([h.text for h in hits], langs, terms, None, None, same)

    stages = {
        "query language (langdetect)": cost(qs, query_language),
        "query embedding (model run)": cost(qs, lambda q: emb.encode_queries([q])),
        "dense search (100 candidates)": cost(work, lambda i: index.dense_index.search(qvecs[i], 100, None)),
        "keyword search (100 candidates per language)": cost(work, keyword),
        "term highlights (10 hits)": cost(work, lambda i: marks(i, False)),
        "best sentences by the model (first 3 hits, when words do not decide)": cost(work, lambda i: marks(i, True)),
    }  # fmt: skip
    whole = cost(qs, lambda q: search(index, q, highlight="auto"))
    parts = sum(s["cpu_ms"] for s in stages.values())
    stages["the rest (fusion, SQLite, citations, Python)"] = {
        "cpu_ms": round(whole["cpu_ms"] - parts, 2),
        "wall_ms": round(whole["wall_ms"] - sum(s["wall_ms"] for s in stages.values()), 2),
    }
    highlight.CACHE = highlight.VectorCache()
    terms_only = cost(qs, lambda q: search(index, q, highlight="terms"))
    terms_facets = cost(qs, lambda q: search(index, q, highlight="terms", facets=FACETS))
    facet_stages = facet_costs(index, qs, qvecs)
    page = cost(qs, page_request(settings, emb, index))
    highlight.CACHE = highlight.VectorCache()
    sentences = cost(qs, page_request(settings, emb, index, highlight="auto"))
    report = {"index": str(args.index), "queries": len(qs), "model_threads": settings.serve_threads, "machine": machine(),
              "runtime": getattr(emb, "runtime", "?"), "query_precision": settings.query_precision, "stages": stages,
              "search_default": whole, "search_highlight_terms": terms_only,
              "search_highlight_terms_with_facets": terms_facets,
              "facets_cpu_ms": round(terms_facets["cpu_ms"] - terms_only["cpu_ms"], 2), "facets": facet_stages,
              "page_in_process": page,
              "page_sentences_in_process": sentences}  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
