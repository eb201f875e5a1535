"""OCR on this machine: speed, character error rate, and what the image-only PDFs now give.

* CER: every page of the French government PDFs of ../shared/data/pdf-robustness (those with a text layer) is
  rendered to an image at 200 and 300 dpi and recognised (kb.loaders.ocr); the reference is the page's own text
  layer (pypdf, as kb reads it). CER = edit distance / reference length, over text with whitespace collapsed
  (line breaks and column order are the renderer's business, not the recogniser's); beside it a flexible CER
  (``flexible_cer``) that pairs lines in any order, so that a two-column page read in another column order
  counts what was misread, not where it was put. "Clean" pages are the
  text pages of the three plain documents; the one-page infographics are reported apart.
* Speed: pages recognised per second at 300 dpi (kb's setting), one Tesseract at a time.
* The image-only and scanned PDFs of the set, ingested with OCR on: how many now give searchable text.

    python bench/ocr_quality.py [--out bench/out/ocr.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from kb.errors import KBError
from kb.loaders import ocr, parse
from kb.loaders.pdf import _open

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf-robustness"


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def cer(ref: str, hyp: str) -> float:
    ref, hyp = squash(ref), squash(hyp)
    return Levenshtein.distance(ref, hyp) / max(1, len(ref))


def flexible_cer(ref: str, hyp: str) -> float:
    """CER that does not count reading order: each reference line (longest first) is paired with the unpaired
    recognised line closest to it (normalised edit distance ≤ 0.5) and their edit distance counts; a reference
    line left unpaired counts in full, and so does every recognised line left over (inserted text). In the
    spirit of flexible character accuracy (Clausner, Pletschacher and Antonacopoulos, 2020), simplified to
    whole lines."""
    refs = sorted((squash(x) for x in ref.splitlines() if x.strip()), key=len, reverse=True)
    hyps = [squash(x) for x in hyp.splitlines() if x.strip()]
    errors = 0
    for line in refs:
        best = process.extractOne(line, hyps, scorer=Levenshtein.normalized_distance, score_cutoff=0.5)
        errors += len(line) if best is None else Levenshtein.distance(line, hyps.pop(best[2]))
    errors += sum(len(h) for h in hyps)
    return errors / max(1, sum(map(len, refs)))


def weighted(rates: list[float], lengths: list[int]) -> float:
    """Errors behind per-page rates: each rate times its page's reference length."""
    return sum(x * n for x, n in zip(rates, lengths, strict=True))


def pages_of(path: Path) -> list[str]:
    reader = _open(path.name, path.read_bytes())
    return [p.extract_text() or "" for p in reader.pages]


def measure_cer(rows: list[dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dpi in (200, 300):
        per_doc, total_err, total_flex, total_len, pages, seconds = {}, 0.0, 0.0, 0, 0, 0.0
        for r in rows:
            path = DATA / r["file"]
            refs = pages_of(path)
            keep = [i for i, t in enumerate(refs) if not ocr.useless(t)]
            t0 = time.perf_counter()
            got = ocr.recognise(path.read_bytes(), keep, dpi=dpi)
            seconds += time.perf_counter() - t0
            errs = [cer(refs[i], got[i]) for i in keep]
            flex = [flexible_cer(refs[i], got[i]) for i in keep]
            lens = [len(squash(refs[i])) for i in keep]
            per_doc[r["file"]] = {"pages": len(keep), "cer": round(weighted(errs, lens) / max(1, sum(lens)), 4),
                                  "flexible_cer": round(weighted(flex, lens) / max(1, sum(lens)), 4)}  # fmt: skip
            if "infographic" not in r["category"]:
                total_err += weighted(errs, lens)
                total_flex += weighted(flex, lens)
                total_len += sum(lens)
            pages += len(keep)
        out[f"{dpi}dpi"] = {"cer_clean_pages": round(total_err / max(1, total_len), 4),
                            "flexible_cer_clean_pages": round(total_flex / max(1, total_len), 4), "documents": per_doc,
                            "pages": pages, "pages_per_s": round(pages / seconds, 3)}  # fmt: skip
        o = out[f"{dpi}dpi"]
        print(
            dpi, o["cer_clean_pages"], o["flexible_cer_clean_pages"], o["pages_per_s"], json.dumps(per_doc), flush=True
        )
    return out


def image_only(rows: list[dict[str, str]]) -> dict[str, Any]:
    results = {}
    for r in rows:
        path = DATA / r["file"]
        try:
            parsed = parse(path.name, path.read_bytes(), "auto")
            text = " ".join(p.text for d in parsed.documents for p in d.pages)
            results[r["file"]] = {"category": r["category"], "searchable": sum(c.isalpha() for c in text) >= 30,
                                  "letters": sum(c.isalpha() for c in text), "sample": squash(text)[:120]}  # fmt: skip
        except KBError as exc:
            results[r["file"]] = {"category": r["category"], "searchable": False, "error": exc.code}
    return {"files": results, "searchable": sum(v["searchable"] for v in results.values()), "of": len(results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="bench/out/ocr.json")
    args = ap.parse_args()
    if ocr.missing():
        raise SystemExit(ocr.missing())
    rows = list(csv.DictReader(open(DATA / "manifest.csv", encoding="utf-8")))  # noqa: SIM115
    gov = [r for r in rows if r["category"].startswith("french-gov")]
    scans = [r for r in rows if "image" in r["category"] or "scan" in r["category"]]
    report = {"tesseract_languages": "+".join(ocr.LANGS), "cer": measure_cer(gov), "image_only": image_only(scans)}
    print(json.dumps(report["image_only"], indent=1, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
