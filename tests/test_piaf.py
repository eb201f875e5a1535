"""BEIR JSON Lines: the PIAF corpus ingests with its ids, and `kb eval` measures it."""

from __future__ import annotations

import json
from pathlib import Path

from kb import generations
from kb.store import Store
from tests.conftest import need_shared, run_kb


def test_piaf_ingests_with_ids_and_evaluates(tmp_path: Path) -> None:
    folder = need_shared() / "piaf" / "beir"
    index = tmp_path / "piaf-index"
    out = run_kb(
        "eval", str(folder), "--index", str(index), "--limit", "300", "--out", str(tmp_path / "r.json"), timeout=1800
    )
    assert out.returncode == 0, out.stderr[-3000:]
    store = Store(generations.current(index) / "kb.sqlite", readonly=True)
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        ids = [json.loads(line)["_id"] for line in f]
    assert store.count("documents") == len(ids) == 1518
    assert {d["doc_id"] for d in store.documents()} == set(ids)
    d0 = store.document("piaf-d0")
    assert d0 is not None and d0["title"] == "Sport" and d0["language"] == "fr" and d0["kind"] == "jsonl"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["queries"] == 300 and set(report["modes"]) == {"keyword", "semantic", "hybrid"}
    hybrid = report["modes"]["hybrid"]
    assert hybrid["ndcg@10"] >= max(report["modes"]["keyword"]["ndcg@10"], report["modes"]["semantic"]["ndcg@10"])
    assert "| hybrid |" in out.stdout


def test_eval_reuses_index_and_reports_errors(tmp_path: Path) -> None:
    folder = need_shared() / "crpa-faq-piafml" / "beir"
    index = tmp_path / "crpa"
    first = run_kb("eval", str(folder), "--index", str(index), "--out", str(tmp_path / "a.json"))
    assert first.returncode == 0, first.stderr[-2000:]
    gen = generations.current(index)
    second = run_kb("eval", str(folder), "--index", str(index), "--modes", "keyword", "--out", str(tmp_path / "b.json"))
    assert second.returncode == 0 and generations.current(index) == gen
    assert json.loads((tmp_path / "b.json").read_text())["modes"].keys() == {"keyword"}
    bad = run_kb("eval", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "missing" in bad.stderr


def test_jsonl_broken_lines_reported_with_numbers(tmp_path: Path) -> None:
    f = tmp_path / "push.jsonl"
    f.write_text('{"_id": "a1", "title": "A", "text": "Premier document valide sur les vaccins."}\n'
                 "{broken\n"
                 '{"_id": "a2", "text": ""}\n'
                 '{"_id": "a3", "text": "Third valid document about biomanufacturing."}\n', encoding="utf-8")  # fmt: skip
    out = run_kb("ingest", str(f), "--index", str(tmp_path / "i"), "--json")
    assert out.returncode == 0, out.stderr
    o = json.loads(out.stdout)["outcomes"][0]
    assert o["status"] == "added" and o["doc_ids"] == ["a1", "a3"]
    assert "push.jsonl:2: not JSON" in o["message"] and "push.jsonl:3:" in o["message"]
