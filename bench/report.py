"""Collect bench/out/*.json into bench/out/report.md and draw docs/latency-memory.png and docs/quality.png."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

OUT = Path("bench/out")
DOCS = Path("docs")
DATASETS = [("cnil", "CNIL FAQ"), ("service-public", "service-public"), ("piaf", "PIAF"),
            ("europarl-fr2en", "Europarl fr→en"), ("europarl-en2fr", "Europarl en→fr"),
            ("europarl-mixed", "Europarl mixed"), ("crpa", "CRPA FAQ")]  # fmt: skip


def load(name: str) -> Any:
    p = OUT / name
    return json.loads(p.read_text()) if p.exists() else None


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


def quality_table() -> str:
    rows = [
        "| benchmark | queries | passages | keyword | semantic | hybrid | ms/query (hybrid) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, label in DATASETS:
        r = load(f"eval-{key}.json")
        if not r:
            continue
        m = r["modes"]
        cell = {mode: f"{m[mode]['ndcg@10']:.3f}" if mode in m else "—" for mode in ("keyword", "semantic", "hybrid")}
        rows.append(f"| {label} | {r['queries']} | {r['passages']} | {cell['keyword']} | {cell['semantic']} | "
                    f"**{cell['hybrid']}** | {m.get('hybrid', {}).get('ms_per_query', '—')} |")  # fmt: skip
    return "\n".join(rows)


def scale_table(scale: Any) -> str:
    rows = ["| passages | dense | keyword p50/p99 | semantic p50/p99 | hybrid p50/p95/p99 | disk MB | build s | "
            "`kb serve` peak RSS MB |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scale["sizes"]:
        m = s["modes"]
        rows.append(f"| {s['passages']:,} | {s['dense_kind']} | {m['keyword']['p50_ms']}/{m['keyword']['p99_ms']} | "
                    f"{m['semantic']['p50_ms']}/{m['semantic']['p99_ms']} | {m['hybrid']['p50_ms']}/{m['hybrid']['p95_ms']}/"
                    f"{m['hybrid']['p99_ms']} | {s['disk_mb']} | {s['build_s']} | {s.get('serve_peak_rss_mb', '—')} |")  # fmt: skip
    rows += ["", "| passages | exact p50/p99 ms | exact MB | HNSW p50/p99 ms | HNSW MB | HNSW recall@10 | HNSW build s |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for s in scale["sizes"]:
        d = s["dense"]
        rows.append(f"| {s['passages']:,} | {d['exact']['p50_ms']}/{d['exact']['p99_ms']} | {d['exact']['memory_mb']} | "
                    f"{d['hnsw']['p50_ms']}/{d['hnsw']['p99_ms']} | {d['hnsw']['memory_mb']} | {d['hnsw']['recall@10']} | "
                    f"{d['build_hnsw_s'] or 'see build s'} |")  # fmt: skip
    sweeps = [s for s in scale["sizes"] if s["dense"].get("hnsw_ef_sweep")]
    if sweeps:
        efs = [p["ef_search"] for p in sweeps[0]["dense"]["hnsw_ef_sweep"]]
        rows += ["", "HNSW recall@10 against exact (p50 ms) by efSearch:", "",
                 "| passages | " + " | ".join(f"ef {e}" for e in efs) + " |", "|---" * (len(efs) + 1) + "|"]  # fmt: skip
        for s in sweeps:
            cells = [f"{p['recall@10']:.3f} ({p['p50_ms']})" for p in s["dense"]["hnsw_ef_sweep"]]
            rows.append(f"| {s['passages']:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def load_table(load_: Any) -> str:
    rows = ["| clients | requests | errors | searches/s | p50 ms | p95 ms | p99 ms | server CPU ms/search | "
            "cores busy: server / load generator |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for lv in load_["levels"]:
        rows.append(f"| {lv['clients']} | {lv['requests']} | {lv['errors']} | {lv['throughput_rps']} | {lv['p50_ms']} | "
                    f"{lv['p95_ms']} | {lv['p99_ms']} | {lv.get('server_cpu_ms_per_search', '—')} | "
                    f"{lv.get('server_cores_busy', '—')} / {lv.get('load_generator_cores_busy', '—')} |")  # fmt: skip
    w = load_["writes_under_load"]
    rows.append(f"\nDuring an upload ({w['upload_s']} s) and a delete ({w['delete_s']} s) under 8 clients: {w['requests']} "
                f"searches, {w['errors']} errors, {w['answers_from_unknown_generation']} answers from an unknown generation, "
                f"{w['answers_inconsistent_with_generation']} inconsistent with their generation. Server RSS "
                f"{load_['rss_mb']:.0f} MB (peak {load_['peak_rss_mb_after_writes']:.0f} MB after the writes).")  # fmt: skip
    return "\n".join(rows)


def _size(scale: Any, n: int) -> Any:
    return next((s for s in (scale or {}).get("sizes", []) if s["passages"] == n), None)


def targets_table(scale: Any, load_: Any, ingest: Any) -> str:
    """Each target of the benchmark issue against its measured figure: met, or missed by how much."""
    rows = ["| target | measured | |", "|---|---|---|"]

    def row(what: str, got: float | None, limit: float, unit: str, higher_is_better: bool = False) -> None:
        if got is None:
            rows.append(f"| {what} | not measured | — |")
            return
        ok = got >= limit if higher_is_better else got <= limit
        gap = "met" if ok else f"missed by {abs(got - limit):.3g} {unit} ({abs(got / limit - 1):.0%})"
        rows.append(f"| {what} | {got:g} {unit} | {gap} |")

    s100, s1m = _size(scale, 100_000), _size(scale, 1_000_000)
    h100 = s100["modes"]["hybrid"] if s100 else {}
    row("hybrid p50 ≤ 30 ms at 100k (in process)", h100.get("p50_ms"), 30, "ms")
    row("hybrid p99 ≤ 100 ms at 100k (in process)", h100.get("p99_ms"), 100, "ms")
    row("hybrid p50 ≤ 60 ms at 1M (in process)", s1m["modes"]["hybrid"]["p50_ms"] if s1m else None, 60, "ms")
    row("HNSW recall@10 ≥ 0.98 at 1M", s1m["dense"]["hnsw"]["recall@10"] if s1m else None, 0.98, "", True)
    at100 = load_ and "100000" in str(load_.get("index"))
    eight = next((lv for lv in load_["levels"] if lv["clients"] == 8), None) if at100 else None
    row("`kb serve`, 8 clients, 100k: ≥ 40 searches/s", eight and eight["throughput_rps"], 40, "/s", True)
    row("`kb serve`, 8 clients, 100k: p99 ≤ 250 ms", eight and eight["p99_ms"], 250, "ms")
    row("`kb serve` peak RSS at 100k ≤ 1.5 GB", s100.get("serve_peak_rss_mb") if s100 else None, 1536, "MB")
    e = ingest["embedding"] if ingest else None
    row("ingest end to end ≥ 85% of raw encode", e and round(e["ratio"] * 100, 1), 85, "%", True)
    best = max((p["pages_per_s"] for p in ingest["pdf"]), default=None) if ingest else None
    row("PDF parsing ≥ 20 pages/s (2 parser workers, the default)", best, 20, "pages/s", True)
    return "\n".join(rows)


def profile_part(profile: Any, load_: Any) -> list[str]:
    """Where a search's CPU goes, and what that means for `kb serve` on this many cores."""
    whole = profile["search_highlight_terms"]
    rows = ["| stage | CPU ms | wall ms (mean) | wall p50 / p99 ms | share of CPU |", "|---|---|---|---|---|"]
    for name, st in [*profile["stages"].items(), ("**whole search, highlight=terms**", whole)]:
        spread = f"{st['wall_p50_ms']} / {st['wall_p99_ms']}" if st.get("wall_p50_ms") else "—"
        rows.append(f"| {name} | {st['cpu_ms']} | {st['wall_ms']} | {spread} | {st['cpu_ms'] / whole['cpu_ms']:.0%} |")
    rows.append(
        "\nEach stage is timed alone over all the queries, then the whole search; *the rest* is what the stages "
        "leave unexplained, so timing noise between the passes can make it small."
    )
    text = [f"### Profile of one search ({profile['index']}, {profile['queries']} real queries, {profile['runtime']}, "
            f"model on {profile['model_threads']} thread(s) as in `kb serve`)", "", *rows]  # fmt: skip
    eight = next((lv for lv in (load_ or {}).get("levels", []) if lv["clients"] == 8), None)
    if eight and eight.get("server_cpu_ms_per_search"):
        cpu, cores = eight["server_cpu_ms_per_search"], os.cpu_count() or 1
        text += ["", f"`kb serve` at 8 clients spent {cpu} ms of CPU per search, {cpu - whole['cpu_ms']:.1f} ms more "
                 f"than the search itself (HTTP, validation, JSON, request threads taking turns on the GIL). {cores} cores therefore serve at most "
                 f"{cores * 1000 / cpu:.0f} searches/s; with 8 clients waiting on each other the mean latency is "
                 f"8 / throughput = {8000 / eight['throughput_rps']:.0f} ms at the measured {eight['throughput_rps']}/s."]  # fmt: skip
    return text


def plots(scale: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if scale:
        sizes = [s["passages"] for s in scale["sizes"]]
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        for mode in ("keyword", "semantic", "hybrid"):
            a.plot(sizes, [s["modes"][mode]["p50_ms"] for s in scale["sizes"]], marker="o", label=f"{mode} p50")
        a.plot(sizes, [s["modes"]["hybrid"]["p99_ms"] for s in scale["sizes"]], marker="x", ls="--", label="hybrid p99")
        a.set(xscale="log", xlabel="passages", ylabel="ms per query (in process)", title="Query latency")
        a.legend()
        b.plot(sizes, [s["disk_mb"] for s in scale["sizes"]], marker="o", label="index on disk (MB)")
        served = [s for s in scale["sizes"] if "serve_peak_rss_mb" in s]
        b.plot([s["passages"] for s in served], [s["serve_peak_rss_mb"] for s in served], marker="o",
               label="kb serve peak RSS (MB)")  # fmt: skip
        b.set(xscale="log", xlabel="passages", title="Memory and disk")
        b.legend()
        fig.tight_layout()
        fig.savefig(DOCS / "latency-memory.png", dpi=90)
    fig, ax = plt.subplots(figsize=(10, 4))
    found = [(label, load(f"eval-{key}.json")) for key, label in DATASETS]
    found = [(label, r) for label, r in found if r]
    for i, mode in enumerate(("keyword", "semantic", "hybrid")):
        ax.bar([j + i * 0.27 for j in range(len(found))], [r["modes"].get(mode, {}).get("ndcg@10", 0) for _, r in found],
               width=0.27, label=mode)  # fmt: skip
    ax.set_xticks([j + 0.27 for j in range(len(found))], [label for label, _ in found], rotation=15)
    ax.set(ylabel="nDCG@10", title="Retrieval quality by mode and benchmark", ylim=(0, 1))
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOCS / "quality.png", dpi=90)


def main() -> None:
    scale, load_, ingest, calib, profile = (
        load("scale.json"),
        load("load.json"),
        load("ingest.json"),
        load("language_calibration.json"),
        load("profile.json"),
    )
    parts = [f"Machine: {machine()}", "", "### Targets", "", targets_table(scale, load_, ingest)]
    parts += ["", "### Quality (nDCG@10, `kb eval`)", "", quality_table()]
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
        parts += [
            "",
            "### Scale (in process, 1,000 real queries, highlights off)",
            "",
            scale["note"] + ".",
            "",
            scale_table(scale),
        ]
    if load_:
        parts += ["", f"### HTTP (`kb serve`, {load_['index']}, highlight={load_['highlight']})", "", load_table(load_)]
    if profile:
        parts += ["", *profile_part(profile, load_)]
    if calib:
        w, wo = calib["with"]["modes"], calib["without"]["modes"]
        parts += ["", "### Language calibration (Europarl mixed, 600 queries)", "",
                  f"semantic nDCG@10 {wo['semantic']['ndcg@10']} → {w['semantic']['ndcg@10']}, hybrid "
                  f"{wo['hybrid']['ndcg@10']} → {w['hybrid']['ndcg@10']} (without → with)."]  # fmt: skip
    (OUT / "report.md").write_text("\n".join(parts) + "\n")
    plots(scale)
    print("\n".join(parts))


if __name__ == "__main__":
    main()
