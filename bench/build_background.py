"""Build the default model's reference background (kb/data/background-multilingual-e5-small.npz).

e5-small scores a query higher against *any* passage of its own language. kb measures that lift per query from
a sample of passages of each language ("background") and subtracts it. A collection of a few documents has no
such sample, so the default model ships one: the vectors of 256 French and 256 English passages of the dev
half of the Europarl excerpt (bench/make_splits.py: even 5-sentence blocks), float16. Vectors only, no text.

Usage: python bench/build_background.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from kb.calibration import REFERENCE_SIZE, reference_path
from kb.embedding import load_embedder
from kb.settings import DEFAULT_MODEL, resolve

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    settings = resolve(os.environ, model=DEFAULT_MODEL)
    embedder = load_embedder(settings)
    with open(args.data / "europarl-fr-en-excerpt" / "mixed" / "corpus.jsonl", encoding="utf-8") as f:
        passages = [json.loads(line) for line in f if line.strip()]
    arrays: dict[str, np.ndarray] = {}
    for lang in ("fr", "en"):
        texts = [p["text"] for p in passages if p["_id"].startswith(f"{lang}-p") and int(p["_id"][4:]) % 2 == 0]
        arrays[lang] = embedder.encode_passages(texts[:REFERENCE_SIZE]).astype(np.float16)
    out = ROOT / "kb" / reference_path(embedder.name)
    np.savez_compressed(out, model=np.array(embedder.name), fr=arrays["fr"], en=arrays["en"])
    print(f"{out}: {', '.join(f'{k} {v.shape}' for k, v in arrays.items())}")


if __name__ == "__main__":
    main()
