"""Query sets with one typo each, to measure typo tolerance (bench/data/typos/).

For the CNIL and service-public query sets: in every query, one word of five letters or more, picked at random
(seeded), gets one random edit — a letter dropped, doubled, replaced by a keyboard neighbour, or swapped with the
next one. Queries without such a word are left out, so the typo set and its clean twin (same ids) match.
`kb eval DIR --queries bench/data/typos/<set>.jsonl` runs them; bench/quality.sh does, with and without
tolerance (--no-typos).

Usage: python bench/make_typos.py [--data ../shared/data] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {"cnil": "cnil-faq-piafml/beir", "service-public": "service-public-dila-piafml/beir"}
NEIGHBOURS = {
    c: n for row in ("azertyuiop", "qsdfghjklm", "wxcvbn") for c, n in zip(row, row[1:] + row[-2], strict=True)
}
WORD = re.compile(r"[^\W\d_]{5,}")


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # never the first letter, as people rarely miss it
    kind = rng.choice(("drop", "double", "neighbour", "swap"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "neighbour":
        c = word[i].lower()
        return word[:i] + NEIGHBOURS.get(c, "e" if c != "e" else "a") + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def with_typo(text: str, rng: random.Random) -> str | None:
    found = list(WORD.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + typo(m.group(0), rng) + text[m.end() :]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "typos")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rel in SETS.items():
        rng = random.Random(args.seed)
        with open(args.data / rel / "queries.jsonl", encoding="utf-8") as f:
            queries = [json.loads(line) for line in f if line.strip()]
        clean, typed = [], []
        for q in queries:
            bad = with_typo(q["text"], rng)
            if bad is not None and bad != q["text"]:
                clean.append(q)
                typed.append(q | {"text": bad, "clean": q["text"]})
        for suffix, rows in (("clean", clean), ("typos", typed)):
            with open(args.out / f"{name}-{suffix}.jsonl", "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        print(f"{name}: {len(typed)} queries with a typo (of {len(queries)})")


if __name__ == "__main__":
    main()
