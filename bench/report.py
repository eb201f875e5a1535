"""Collect bench/out/*.json into bench/out/report.md and draw docs/latency-memory.png and docs/quality.png.

Speed and scale tables here; the quality tables in report_quality.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from report_quality import (
    DATASETS,
    OUT,
    ablation_table,
    backends_table,
    encoders_table,
    load,
    quality_table,
    split_table,
    studies,
    typo_table,
)

DOCS = Path("docs")


def machine() -> str:
    from importlib.metadata import version

    import faiss
    import onnxruntime
    import sentence_transformers
    import tantivy  # noqa: F401
    import torch
    from scale import machine as host

    h = host()
    return (f"{h['cores']} cores, {h['cpu']}; Python {h['python']}, torch {torch.__version__}, "
            f"onnxruntime {onnxruntime.__version__}, sentence-transformers {sentence_transformers.__version__}, "
            f"faiss {faiss.__version__}, tantivy {version('tantivy')}")  # fmt: skip


def _sizes(scale: Any, backend: str) -> list[Any]:
    return [s for s in (scale or {}).get("sizes", []) if s.get("backend", "local") == backend]


def scale_table(scale: Any) -> str:
    rows = ["| backend | passages | dense | keyword p50/p99 | semantic p50/p99 | hybrid p50/p95/p99 | disk MB | build s | "
            "process peak RSS MB | `kb serve` peak RSS MB | first answer s | delete one document s | add one s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scale["sizes"]:
        m, w = s["modes"], s.get("writes", {})
        rows.append(f"| {s.get('backend', 'local')} | {s['passages']:,} | {s['dense_kind']} | {m['keyword']['p50_ms']}/"
                    f"{m['keyword']['p99_ms']} | {m['semantic']['p50_ms']}/{m['semantic']['p99_ms']} | "
                    f"{m['hybrid']['p50_ms']}/{m['hybrid']['p95_ms']}/{m['hybrid']['p99_ms']} | {s['disk_mb']} | "
                    f"{s['build_s']} | {s.get('process_peak_rss_mb', '—')} | {s.get('serve_peak_rss_mb', '—')} | "
                    f"{s.get('serve_first_answer_s', '—')} | {w.get('delete_one_document_s', '—')} | "
                    f"{w.get('add_one_document_s', '—')} |")  # fmt: skip
    rows += ["", "| backend | passages | exact p50/p99 ms | HNSW p50/p99 ms | HNSW recall@10 against exact |",
             "|---|---|---|---|---|"]  # fmt: skip
    for s in scale["sizes"]:
        d = s["dense"]
        rows.append(f"| {s.get('backend', 'local')} | {s['passages']:,} | {d['exact']['p50_ms']}/{d['exact']['p99_ms']} | "
                    f"{d['hnsw']['p50_ms']}/{d['hnsw']['p99_ms']} | {d['hnsw']['recall@10']} |")  # fmt: skip
    sweeps = [s for s in scale["sizes"] if s["dense"].get("hnsw_ef_sweep")]
    if sweeps:
        efs = [p["ef_search"] for p in sweeps[0]["dense"]["hnsw_ef_sweep"]]
        rows += ["", "Local HNSW recall@10 against exact (p50 ms) by efSearch:", "",
                 "| passages | " + " | ".join(f"ef {e}" for e in efs) + " |", "|---" * (len(efs) + 1) + "|"]  # fmt: skip
        for s in sweeps:
            cells = [f"{p['recall@10']:.3f} ({p['p50_ms']})" for p in s["dense"]["hnsw_ef_sweep"]]
            rows.append(f"| {s['passages']:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def load_table(load_: Any) -> str:
    rows = ["| request | clients | searches/s | p50 ms | p95 ms | p99 ms | errors | 429s (p99 ms) | server CPU ms/search | "
            "cores busy: server / load generator |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for lv in load_["levels"]:
        rows.append(f"| {lv.get('request', 'api-terms')} | {lv['clients']} | {lv['throughput_rps']} | {lv['p50_ms']} | "
                    f"{lv['p95_ms']} | {lv['p99_ms']} | {lv['errors']} | {lv.get('rejected_429', 0)} "
                    f"({lv.get('rejected_p99_ms', '—')}) | {lv.get('server_cpu_ms_per_search', '—')} | "
                    f"{lv.get('server_cores_busy', '—')} / {lv.get('load_generator_cores_busy', '—')} |")  # fmt: skip
    st = load_.get("start", {})
    rows.append(f"\n`kb serve --workers {load_.get('workers', 1)}`: first answer {st.get('first_answer_s', '—')} s after "
                f"start; PSS {load_.get('pss_mb_after_start', '—')} MB after start, {load_.get('pss_mb', '—')} MB after the "
                f"load (RSS {load_.get('rss_mb', 0):.0f} MB).")  # fmt: skip
    w = load_.get("writes_under_load")
    if w:
        rows.append(f"During an upload ({w['upload_s']} s) and a delete ({w['delete_s']} s) under 8 clients: {w['requests']} "
                    f"searches, {w['errors']} errors, {w['answers_from_unknown_generation']} answers from an unknown "
                    f"generation, {w['answers_inconsistent_with_generation']} inconsistent with their generation; peak RSS "
                    f"{load_.get('peak_rss_mb_after_writes', 0):.0f} MB after the writes.")  # fmt: skip
    return "\n".join(rows)


def _size(scale: Any, n: int, backend: str = "local") -> Any:
    return next((s for s in _sizes(scale, backend) if s["passages"] >= n * 0.99 and s["passages"] <= n * 1.01), None)


def _level(load_: Any, request: str, clients: int) -> Any:
    return next((lv for lv in (load_ or {}).get("levels", []) if lv.get("request") == request and lv["clients"] == clients), None)  # fmt: skip


def targets_table(scale: Any, load_: Any, load2: Any, ingest: Any) -> str:
    """Each target against its measured figure: met, or missed by how much."""
    rows = ["| target | measured | |", "|---|---|---|"]

    def row(what: str, got: float | None, limit: float, unit: str, higher_is_better: bool = False) -> None:
        if got is None:
            rows.append(f"| {what} | not measured | — |")
            return
        ok = got >= limit if higher_is_better else got <= limit
        gap = "met" if ok else f"missed by {abs(got - limit):.3g} {unit} ({abs(got / limit - 1):.0%})"
        rows.append(f"| {what} | {got:g} {unit} | {gap} |")

    for request, label in (("page", "the page (`/?q=`, results)"), ("page-sentences", "the page's follow-up for the model's best sentences"),
                           ("api", "the API's default request")):  # fmt: skip
        one, eight = _level(load_, request, 1), _level(load_, request, 8)
        row(f"{label}, 1 client: p50 ≤ 60 ms", one and one["p50_ms"], 60, "ms")
        row(f"{label}, 1 client: p99 ≤ 150 ms", one and one["p99_ms"], 150, "ms")
        row(f"{label}, 8 clients: ≥ 70 searches/s", eight and eight["throughput_rps"], 70, "/s", True)
        row(f"{label}, 8 clients: p99 ≤ 250 ms", eight and eight["p99_ms"], 250, "ms")
    for n in (10_000, 100_000):
        s = _size(scale, n)
        row(f"first answer ≤ 5 s after `kb serve` starts, {n // 1000}k", s and s.get("serve_first_answer_s"), 5, "s")
    e = (ingest or {}).get("embedding")
    row("ingest end to end ≥ 20 passages/s", e and e["end_to_end_passages_per_s"], 20, "passages/s", True)
    row("total memory (PSS) with 2 workers ≤ 2 GB, 100k", load2 and load2.get("pss_mb"), 2048, "MB")
    eight = _level(load_, "page", 8)
    for n in (32, 64):
        lv = _level(load_, "page", n)
        if lv and eight:
            row(f"{n} clients: admitted p99 ≤ 2 × the 8-client p99 ({2 * eight['p99_ms']:g} ms)", lv["p99_ms"],
                2 * eight["p99_ms"], "ms")  # fmt: skip
            row(f"{n} clients: 429s answered in < 10 ms (p99)", lv.get("rejected_p99_ms"), 10, "ms")
    s100, s1m = _size(scale, 100_000), _size(scale, 1_000_000)
    row("hybrid p50 ≤ 30 ms at 100k (in process)", s100 and s100["modes"]["hybrid"]["p50_ms"], 30, "ms")
    row("hybrid p50 ≤ 60 ms at 1M (in process)", s1m and s1m["modes"]["hybrid"]["p50_ms"], 60, "ms")
    row("HNSW recall@10 ≥ 0.98 at 1M", s1m and s1m["dense"]["hnsw"]["recall@10"], 0.98, "", True)
    return "\n".join(rows)


def profile_part(profile: Any, load_: Any) -> list[str]:
    """Where a search's CPU goes, and what that means for `kb serve` on this many cores."""
    whole = profile["search_default"]
    rows = ["| stage | CPU ms | wall ms (mean) | wall p50 / p99 ms | share of the default search's CPU |",
            "|---|---|---|---|---|"]  # fmt: skip
    wholes = [("**whole search, the API's default (highlight=auto)**", whole),
              ("whole search, highlight=terms", profile["search_highlight_terms"]),
              ("whole search, highlight=terms + the page's four facets", profile.get("search_highlight_terms_with_facets")),
              ("the page (`/?q=`, in process: routing, search, facets, template)", profile.get("page_in_process")),
              ("the page's follow-up (`&highlight=auto`, in process, no facets)", profile.get("page_sentences_in_process"))]  # fmt: skip
    for name, st in [*profile["stages"].items(), *((n, w) for n, w in wholes if w)]:
        spread = f"{st['wall_p50_ms']} / {st['wall_p99_ms']}" if st.get("wall_p50_ms") else "—"
        rows.append(f"| {name} | {st['cpu_ms']} | {st['wall_ms']} | {spread} | {st['cpu_ms'] / whole['cpu_ms']:.0%} |")
    if "facets_cpu_ms" in profile:
        rows.append(f"\nCounting the four facets costs {profile['facets_cpu_ms']} ms of CPU per search.")
    text = [f"Profile ({profile['index']}, {profile['queries']} real queries, {profile['runtime']}, query precision "
            f"{profile.get('query_precision', 'fp32')}, model on {profile['model_threads']} thread(s) as in `kb serve`):",
            "", *rows]  # fmt: skip
    eight = _level(load_, "page", 8)
    if eight and eight.get("server_cpu_ms_per_search"):
        cpu, cores = eight["server_cpu_ms_per_search"], os.cpu_count() or 1
        text += ["", f"`kb serve` at 8 clients on the page spent {cpu} ms of CPU per search. {cores} cores therefore "
                 f"serve at most {cores * 1000 / cpu:.0f} searches/s; with 8 clients waiting on each other the mean "
                 f"latency is 8 / throughput = {8000 / eight['throughput_rps']:.0f} ms at the measured "
                 f"{eight['throughput_rps']}/s."]  # fmt: skip
    return text


def plots(scale: Any) -> None:
    try:
        import matplotlib
    except ImportError:
        print("plots skipped: matplotlib is not installed (pip install -e '.[bench]')")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if scale:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        for backend, style in (("local", "-"), ("qdrant", ":")):
            got = _sizes(scale, backend)
            if not got:
                continue
            sizes = [s["passages"] for s in got]
            for pct, marker in (("p50", "o"), ("p99", "x")):
                lat = [s["modes"]["hybrid"][f"{pct}_ms"] for s in got]
                a.plot(sizes, lat, marker=marker, ls=style, label=f"{backend} hybrid {pct}")
            b.plot(sizes, [s["disk_mb"] for s in got], marker="o", ls=style, label=f"{backend}: disk (MB)")
            b.plot(
                sizes,
                [s.get("process_peak_rss_mb", 0) for s in got],
                marker="x",
                ls=style,
                label=f"{backend}: peak RSS (MB)",
            )
        a.set(xscale="log", xlabel="passages", ylabel="ms per query (in process)", title="Query latency")
        a.legend()
        b.set(xscale="log", yscale="log", xlabel="passages", title="Memory and disk")
        b.legend()
        fig.tight_layout()
        fig.savefig(DOCS / "latency-memory.png", dpi=90)
    found = [(label, load(f"eval-{key}.json")) for key, label in DATASETS[:7]]
    found = [(label, r) for label, r in found if r]
    if not found:
        return
    fig, ax = plt.subplots(figsize=(12, 4))
    for i, mode in enumerate(("keyword", "semantic", "hybrid")):
        ax.bar([j + i * 0.27 for j in range(len(found))], [r["modes"].get(mode, {}).get("ndcg@10", 0) for _, r in found],
               width=0.27, label=mode)  # fmt: skip
    ax.set_xticks([j + 0.27 for j in range(len(found))], [label for label, _ in found], rotation=15)
    ax.set(ylabel="nDCG@10", title="Retrieval quality by mode and benchmark", ylim=(0, 1))
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOCS / "quality.png", dpi=90)


def speed_parts(scale: Any, load_: Any, load2: Any, ingest: Any, profile: Any) -> list[str]:
    parts = ["### Targets", "", targets_table(scale, load_, load2, ingest)]
    if profile:
        parts += ["", *profile_part(profile, load_)]
    for name, lo in (("one worker", load_), ("two workers", load2)):
        if lo:
            parts += ["", f"### HTTP, {name} (`kb serve`, {lo['index']})", "", load_table(lo)]
    if ingest:
        e = ingest["embedding"]
        pdf = ", ".join(f"{p['pages_per_s']} pages/s with {p['workers']} worker(s)" for p in ingest["pdf"])
        parts += ["", "### Ingest", "", f"PDF parsing over the 80 PDFs ({ingest['pdf'][0]['pages']} pages): {pdf}.",
                  f"End to end {e['end_to_end_passages_per_s']} passages/s against the model's raw encode "
                  f"{e['raw_passages_per_s']} passages/s on the same {e['passages']} passages: ratio {e['ratio']:.0%}."]  # fmt: skip
        if ingest.get("corpus_builds"):
            parts += ["", "| `kb ingest` of | documents | passages | wall s | passages/s |", "|---|---|---|---|---|"]
            parts += [f"| {b['corpus']} | {b['documents']} | {b['passages']} | {b['seconds']} | {b['passages_per_s']} |"
                      for b in ingest["corpus_builds"]]  # fmt: skip
    if scale:
        parts += ["", "### Scale (in process, 1,000 real queries, highlights off)", "", scale["note"] + ".", "",
                  scale_table(scale)]  # fmt: skip
    return parts


def main() -> None:
    scale, load_, load2, ingest, profile = (load(n) for n in ("scale.json", "load.json", "load-workers2.json",
                                                               "ingest.json", "profile.json"))  # fmt: skip
    parts = [f"Machine: {machine()}", "", *speed_parts(scale, load_, load2, ingest, profile)]
    parts += ["", "### Quality (nDCG@10, `kb eval`)", "", quality_table(), "", "### Split sets per language pair "
              "(nDCG@10 / hit@1)", "", split_table(), "", "### Typo tolerance", "", typo_table()]  # fmt: skip
    for title, table in (("Qdrant Edge beside local", backends_table()), ("Encoder variants", encoders_table()),
                         ("Ranking ablation (hybrid nDCG@10; cross-language groups nDCG@10/hit@1)", ablation_table())):  # fmt: skip
        if table:
            parts += ["", f"### {title}", "", table]
    parts += ["", "### Smaller studies", "", *studies()]
    (OUT / "report.md").write_text("\n".join(parts) + "\n")
    plots(scale)
    print("\n".join(parts))


if __name__ == "__main__":
    main()
