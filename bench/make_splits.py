"""Build the split bilingual benchmarks from ../shared/data into BEIR folders (bench/data/splits/).

Real collections mix languages: a French decree next to an English article on the same topic. The shipped
cross-lingual sets cannot show what that does to ranking (Europarl mixed always has an answer in the query's
own language), so these sets split an aligned corpus by halves:

* **europarl-split**: the 5-sentence passages of ``europarl-fr-en-excerpt`` — French passages for the first half
  of the excerpt (lines 0–1499), English passages for the second half (lines 1500–2998), same sessions, so the
  distractors are on neighbouring topics. Queries: English sentences (≥ 6 words) of the first half, whose answer
  is only in French, and French sentences of the second half, whose answer is only in English; as a control,
  French sentences of the first half and English sentences of the second half (answer in their own language).
* **tatoeba-split**: the same construction over the 1,000 ``tatoeba-fra-eng-laser`` pairs (short everyday
  sentences, which behave like short questions): French sentences 0–499 and English sentences 500–999 are the
  documents.

Each query carries ``lang`` (its language), ``answer_lang`` and ``split``: ``dev`` or ``test`` by the parity of
its answer's block (Europarl passage number, Tatoeba line number). Weights are chosen on dev and reported on
test; ``bench/build_lexicon.py`` learns its lexicon from dev pairs only (:func:`dev_pairs`).

Usage: python bench/make_splits.py [--data ../shared/data] [--out bench/data/splits]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "data" / "splits"
EUROPARL_HALF = 300  # passages 0–299 are lines 0–1499
TATOEBA_HALF = 500


def split_of(block: int) -> str:
    return "dev" if block % 2 == 0 else "test"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write(folder: Path, corpus: list[dict[str, Any]], queries: list[dict[str, Any]],
           qrels: list[tuple[str, str]]) -> None:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        with open(folder / name, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with open(folder / "qrels.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        f.writelines(f"{q}\t{d}\t1\n" for q, d in qrels)


def europarl(data: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]:
    src = data / "europarl-fr-en-excerpt"
    passages = _jsonl(src / "mixed" / "corpus.jsonl")
    block_of_line = {}
    corpus = []
    for p in passages:
        lang, k = str(p["_id"]).split("-p")
        block = int(k)
        first, last = p["lines"]
        for line in range(first, last + 1):
            block_of_line[line] = block
        if (lang == "fr") == (block < EUROPARL_HALF):
            corpus.append({"_id": p["_id"], "text": p["text"], "language": lang})
    queries, qrels = [], []
    for qlang, folder in (("en", "en2fr"), ("fr", "fr2en")):
        for q in _jsonl(src / folder / "queries.jsonl"):
            block = block_of_line[int(q["line"])]
            alang = "fr" if block < EUROPARL_HALF else "en"
            queries.append({"_id": q["_id"], "text": q["text"], "lang": qlang, "answer_lang": alang,
                            "split": split_of(block), "line": q["line"]})  # fmt: skip
            qrels.append((str(q["_id"]), f"{alang}-p{block}"))
    return corpus, queries, qrels


def tatoeba_lines(data: Path) -> tuple[list[str], list[str]]:
    src = data / "tatoeba-fra-eng-laser"
    fr = (src / "tatoeba.fra-eng.fra").read_text(encoding="utf-8").splitlines()
    en = (src / "tatoeba.fra-eng.eng").read_text(encoding="utf-8").splitlines()
    return fr, en


def tatoeba(data: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, str]]]:
    fr, en = tatoeba_lines(data)
    corpus, queries, qrels = [], [], []
    for i, (f, e) in enumerate(zip(fr, en, strict=True)):
        alang = "fr" if i < TATOEBA_HALF else "en"
        corpus.append({"_id": f"{alang}-{i}", "text": f if alang == "fr" else e, "language": alang})
        for qlang, text in (("en", e), ("fr", f)):
            qid = f"{qlang}-q{i}"
            queries.append({"_id": qid, "text": text, "lang": qlang, "answer_lang": alang, "split": split_of(i)})
            qrels.append((qid, f"{alang}-{i}"))
    return corpus, queries, qrels


def dev_pairs(data: Path) -> Iterator[tuple[str, str]]:
    """(French, English) sentence pairs of the dev blocks only: what a lexicon may learn from."""
    src = data / "europarl-fr-en-excerpt" / "original"
    fr = (src / "europarl-v7.fr-en.fr").read_text(encoding="utf-8").splitlines()
    en = (src / "europarl-v7.fr-en.en").read_text(encoding="utf-8").splitlines()
    for line, (f, e) in enumerate(zip(fr, en, strict=True)):
        if split_of(line // 5) == "dev" and f.strip() and e.strip():
            yield f, e
    tfr, ten = tatoeba_lines(data)
    for i, (f, e) in enumerate(zip(tfr, ten, strict=True)):
        if split_of(i) == "dev":
            yield f, e


def held_out_queries(data: Path, out: Path) -> None:
    """The test-half queries of the shipped Europarl sets (fr2en, en2fr, mixed): the lexicon learned from the
    dev half, so the shipped sets' figures are reported on these queries too, uncontaminated."""
    src = data / "europarl-fr-en-excerpt"
    for name in ("fr2en", "en2fr", "mixed"):
        rows = [q for q in _jsonl(src / name / "queries.jsonl") if split_of(int(q["line"]) // 5) == "test"]
        with open(out / f"europarl-{name}-test-queries.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    for name, build in (("europarl-split", europarl), ("tatoeba-split", tatoeba)):
        corpus, queries, qrels = build(args.data)
        _write(args.out / name, corpus, queries, qrels)
        print(f"{args.out / name}: {len(corpus)} passages, {len(queries)} queries")
    held_out_queries(args.data, args.out)


if __name__ == "__main__":
    main()
