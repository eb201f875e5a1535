"""Best-sentence highlights: the cheap rule against embedding every sentence, on real queries.

For 300 queries each of PIAF, Europarl (English questions over French passages) and CNIL, the first three
hits of the default search get a best sentence by (a) the rule of kb 0.1 — the sentence with the most term
marks, or, for semantic or cross-language hits and hits without marks, the sentence closest to the query by
embedding, every sentence embedded — and (b) today's rule (kb.highlight): distinct matched words,
translations included, and the embedding only when the words do not decide. Reports how often they agree,
how often (b) calls the model, the CPU each costs per search, and on PIAF, whose answers are known, how
often the chosen sentence contains the answer. Writes bench/out/highlight_quality.json.

    python bench/highlight_quality.py [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from kb import highlight
from kb.analysis import query_terms
from kb.embedding import Embedder, load_embedder
from kb.engine import Index, load, search
from kb.evaluate import _index_for, read_beir
from kb.retrieval import Query
from kb.settings import Settings, resolve
from kb.textutil import sentence_spans
from kb.types import Hit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = [("piaf", DATA / "piaf" / "beir"), ("europarl-en2fr", DATA / "europarl-fr-en-excerpt" / "en2fr"),
        ("cnil", DATA / "cnil-faq-piafml" / "beir")]  # fmt: skip


def old_rule(hit: Hit, i: int, q: str, qvec: np.ndarray, embedder: Embedder, semantic: bool) -> tuple[int, int] | None:
    """kb 0.1: most term marks; embeddings of every sentence for semantic/cross-language or unmarked hits."""
    spans = sentence_spans(hit.text)[: highlight.MAX_SENTENCES]
    marks = highlight.term_ranges(hit.text, set(query_terms(q)), hit.citation.language)
    counts = [sum(1 for m in marks if a <= m.start < b) for a, b in spans]
    best = spans[int(np.argmax(counts))] if counts and max(counts) > 0 else None
    if i < highlight.SEMANTIC_HITS and (semantic or not marks) and len(spans) > 1:
        vecs = embedder.encode_sentences([hit.text[a:b] for a, b in spans])
        best = spans[int(np.argmax(vecs @ qvec))]
    return best or (spans[0] if len(spans) == 1 else None)


def new_rule(hits: list[Hit], q: Query, embedder: Embedder) -> list[tuple[int, int] | None]:
    langs = [h.citation.language for h in hits]
    terms = [{t for g in q.groups(lg) for t, _ in g} for lg in langs]
    semantic = [lg != q.language for lg in langs]
    marks = highlight.highlight_hits([h.text for h in hits], langs, terms, q.vector, embedder, semantic)
    return [next(((m.start, m.end) for m in ms if m.kind == "sentence"), None) for ms in marks]


def measure(name: str, index: Index, queries: list[dict[str, Any]], embedder: Embedder) -> dict[str, Any]:
    counts = {"hits": 0, "agree": 0, "model_calls": 0, "answer_old": 0, "answer_new": 0, "with_answer": 0}
    cpu_old = cpu_new = 0.0
    calls = 0
    real_encode = embedder.encode_sentences

    def counting(texts: list[str]) -> np.ndarray:
        nonlocal calls
        calls += 1
        return real_encode(texts)

    embedder.encode_sentences = counting  # type: ignore[method-assign]
    for row in queries:
        hits = search(index, row["text"], k=10, highlight="none").hits[: highlight.SEMANTIC_HITS]
        q = Query.parse(row["text"])
        q.vector = embedder.encode_queries([row["text"]])[0]
        highlight.CACHE = highlight.VectorCache()  # no help from earlier queries: each search pays in full
        t = time.process_time()
        old = [old_rule(h, i, row["text"], q.vector, embedder, h.citation.language != q.language)
               for i, h in enumerate(hits)]  # fmt: skip
        cpu_old += time.process_time() - t
        before = calls
        t = time.process_time()
        new = new_rule(hits, q, embedder)
        cpu_new += time.process_time() - t
        counts["model_calls"] += calls - before
        for h, a, b in zip(hits, old, new, strict=True):
            counts["hits"] += 1
            counts["agree"] += a == b
            answers = row.get("answers") or []
            if answers and answers[0] in h.text:
                counts["with_answer"] += 1
                counts["answer_old"] += a is not None and answers[0] in h.text[a[0] : a[1]]
                counts["answer_new"] += b is not None and answers[0] in h.text[b[0] : b[1]]
    embedder.encode_sentences = real_encode  # type: ignore[method-assign]
    n, hits_n = len(queries), max(1, counts["hits"])
    return {"set": name, "queries": n, "hits": counts["hits"], "agreement": round(counts["agree"] / hits_n, 4),
            "hits_needing_the_model": round(counts["model_calls"] / hits_n, 4),
            "cpu_ms_per_search_old": round(cpu_old / n * 1000, 1), "cpu_ms_per_search_new": round(cpu_new / n * 1000, 1),
            "hits_with_answer": counts["with_answer"],
            "answer_in_sentence_old": round(counts["answer_old"] / max(1, counts["with_answer"]), 4),
            "answer_in_sentence_new": round(counts["answer_new"] / max(1, counts["with_answer"]), 4)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", default="bench/out/highlight_quality.json")
    args = ap.parse_args()
    settings: Settings = resolve(os.environ)
    embedder = load_embedder(settings)
    report = []
    for name, folder in SETS:
        qs, _ = read_beir(folder)
        idx_settings, _ = _index_for(folder, folder / "corpus.jsonl", settings, None, lambda _m: None)
        index = load(idx_settings.index_dir, embedder, settings.threads)
        r = measure(name, index, qs[: args.queries], embedder)
        print(json.dumps(r), flush=True)
        report.append(r)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
