"""The previous round's ranking on the split sets: the "before" columns of the split table.

Runs the code of an earlier commit (a git worktree, default 7f23e1c, the last landed commit before
language-neutral ranking) on the test halves of bench/data/splits, one language pair at a time, and writes
bench/out/before/eval-<set>.json in today's report shape (modes → groups → nDCG@10, hit@1, ...). The old
``kb.evaluate`` did not report hit@1; it is read off its MRR@10 per query (a first hit at rank 1 is MRR 1).

    python bench/before_splits.py [--commit 7f23e1c] [--limit N]

It re-executes itself with the worktree first on ``sys.path`` and its own KB_CACHE (the old index format).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ROOT / "bench" / "data" / "splits"
OUT = ROOT / "bench" / "out" / "before"
SETS = ("europarl-split", "tatoeba-split")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commit", default="7f23e1c")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--inside", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        run_old(Path(args.inside), args.limit)
        return
    tree = Path(tempfile.gettempdir()) / f"kb-before-{args.commit}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.commit], check=True)
    env = os.environ | {"PYTHONPATH": str(tree), "KB_CACHE": str(tree / ".cache")}
    cmd = [sys.executable, __file__, "--inside", str(tree)] + (["--limit", str(args.limit)] if args.limit else [])
    subprocess.run(cmd, env=env, check=True, cwd=tree)


def run_old(tree: Path, limit: int | None) -> None:
    import kb
    import kb.evaluate as old
    from kb.settings import resolve

    assert Path(kb.__file__).resolve().is_relative_to(tree), kb.__file__  # the old code, not today's
    OUT.mkdir(parents=True, exist_ok=True)
    settings = resolve(os.environ)
    for name in SETS:
        folder = SPLITS / name
        qs = [json.loads(line) for line in (folder / "queries.jsonl").open(encoding="utf-8")]
        qs = [q for q in qs if q.get("split") == "test"]
        pairs = sorted({(q["lang"], q["answer_lang"]) for q in qs})
        report: dict[str, Any] = {"dataset": name, "split": "test", "commit": tree.name, "modes": {}}
        for lang, answer in pairs:
            group = [q for q in qs if (q["lang"], q["answer_lang"]) == (lang, answer)][:limit]
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
                f.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in group)
            hits = _hit_at_1(old)
            r = old.evaluate(folder, settings, queries=Path(f.name), modes=["semantic", "hybrid"])
            for mode, scores in r["modes"].items():
                g = report["modes"].setdefault(mode, {"groups": {}})["groups"]
                g[f"{lang}→{answer}"] = scores | {"queries": len(group), "hit@1": round(hits.pop(0), 4)}
            os.unlink(f.name)
            print(name, lang, "→", answer, {m: report["modes"][m]["groups"][f"{lang}→{answer}"] for m in r["modes"]})
        overall(report)
        (OUT / f"eval-{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def overall(report: dict[str, Any]) -> None:
    """Each mode's scores over all its queries: the groups' scores weighted by their query counts."""
    for scores in report["modes"].values():
        groups = scores["groups"].values()
        n = sum(g["queries"] for g in groups)
        for key in ("ndcg@10", "mrr@10", "hit@1", "recall@10", "recall@100"):
            scores[key] = round(sum(g[key] * g["queries"] for g in groups) / n, 4)
        scores["queries"] = n


def _hit_at_1(old: Any) -> list[float]:
    """Wraps the old ``_scores`` so that each call also records hit@1 (share of queries with MRR@10 = 1)."""
    found: list[float] = []
    scores = getattr(old, "_scores_orig", old._scores)
    old._scores_orig = scores

    def with_hit(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
        found.append(sum(old.mrr(r, qrels[q]) == 1.0 for q, r in runs.items()) / max(1, len(runs)))
        return scores(runs, qrels)  # type: ignore[no-any-return]

    old._scores = with_hit
    return found


if __name__ == "__main__":
    main()
