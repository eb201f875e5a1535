"""Reading order of multi-column and layout-heavy PDFs: do sentences come out whole?

For each page, a reference reading order is built from geometry alone (pypdfium2's character boxes): characters
are grouped into lines and split where a gutter separates them; on a page with pieces on both halves, a run of
pieces that each keep to one half is read left column first, then right, up to the next piece spanning both.
Its sentences of eight words or more "must come out whole": compared on letters and digits only (spacing,
hyphens and punctuation aside), a sentence is whole when it is one run in the extracted text, and a page reads
correctly when 90 % of its sentences are. Measured on the text kb indexes (pypdf, as ingest reads it), on
pypdfium2's own text and on pypdf's layout mode. The reference is itself imperfect (figure labels, rotated
margin text and infographics confuse it), so the rates are lower bounds; what matters is the comparison.

    python bench/reading_order.py [--out bench/out/reading_order.json]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from kb.loaders.pdf import _dehyphenate, _open
from kb.textutil import clean, sentence_spans

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf-robustness"
CATEGORIES = ("french-gov", "multi-column", "two-column", "french-academic")
WHOLE = 0.9
EXTRACTORS = ("kb", "pypdfium2", "pypdf_layout")


def squash(text: str) -> str:
    """Letters and digits only, lower-cased: how rectangles or lines are joined (spaces, line-end hyphens,
    ligatures split in two rectangles) must not count, only the order of the words."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


GUTTER = 12.0  # points: a wider gap between two pieces of one line separates columns


def reference_sentences(page: Any) -> list[str]:
    """Sentences of the page in a reading order found from geometry alone: lines top to bottom, each split where
    a gutter separates its pieces; on a page with pieces on both halves, a run of pieces that each keep to one
    half is read left column first, then right, up to the next piece spanning both."""
    tp = page.get_textpage()
    width = page.get_width()
    chars = []
    for i in range(tp.count_chars()):
        text = tp.get_text_range(i, 1)
        if text.strip():
            left, bottom, right, top = tp.get_charbox(i, loose=True)
            chars.append((left, bottom, right, top, text))
    rects = chars
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for r in sorted(rects, key=lambda r: (-(r[1] + r[3]) / 2, r[0])):
        mid, height = (r[1] + r[3]) / 2, r[3] - r[1]
        if lines and abs((lines[-1][0][1] + lines[-1][0][3]) / 2 - mid) < 0.5 * max(height, 1.0):
            lines[-1].append(r)
        else:
            lines.append([r])
    pieces = [p for line in lines for p in _pieces(sorted(line))]
    mid = width / 2
    side = [0 if p[1] <= mid + GUTTER else 1 if p[0] >= mid - GUTTER else None for p in pieces]
    two_columns = min(side.count(0), side.count(1)) >= 5
    out: list[str] = []
    columns: list[list[str]] = [[], []]
    for p, s in zip(pieces, side, strict=True):
        if two_columns and s is not None:
            columns[s].append(p[2])
            continue
        out += columns[0] + columns[1] + [p[2]]
        columns = [[], []]
    text = clean(" ".join(out + columns[0] + columns[1]))
    return [squash(text[a:b]) for a, b in sentence_spans(text) if len(text[a:b].split()) >= 8]


def _pieces(line: list[tuple[float, float, float, float, str]]) -> list[tuple[float, float, str]]:
    """(left, right, text) of the parts of a line that a gutter separates."""
    out: list[tuple[float, float, str]] = []
    for left, _b, right, _t, text in line:
        if out and left - out[-1][1] <= GUTTER:
            out[-1] = (out[-1][0], right, out[-1][2] + " " + text)
        else:
            out.append((left, right, text))
    return out


def whole(sentences: list[str], text: str) -> float:
    flat = squash(text)
    return sum(s in flat for s in sentences) / len(sentences) if sentences else 1.0


def check(path: Path) -> dict[str, Any]:
    import pypdfium2 as pdfium

    data = path.read_bytes()
    reader = _open(path.name, data)
    kb_pages = _dehyphenate([clean(p.extract_text() or "") for p in reader.pages])
    layout = [clean(p.extract_text(extraction_mode="layout") or "") for p in reader.pages]
    pdf = pdfium.PdfDocument(data)
    pages = []
    for i in range(len(pdf)):
        ref = reference_sentences(pdf[i])
        if len(ref) < 3:
            continue  # too little running text to judge
        own = pdf[i].get_textpage().get_text_range()
        pages.append({"page": i + 1, "sentences": len(ref), "kb": round(whole(ref, kb_pages[i]), 3),
                      "pypdfium2": round(whole(ref, own), 3), "pypdf_layout": round(whole(ref, layout[i]), 3)})  # fmt: skip
    pdf.close()
    pages_whole = {k: sum(p[k] >= WHOLE for p in pages) for k in EXTRACTORS}
    sentences_whole = {f"{k}_sentences": round(sum(p[k] * p["sentences"] for p in pages), 1) for k in EXTRACTORS}
    return {"pages": pages, "sentences": sum(p["sentences"] for p in pages), **pages_whole, **sentences_whole}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="bench/out/reading_order.json")
    args = ap.parse_args()
    with open(DATA / "manifest.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if any(c in r["category"] for c in CATEGORIES)]
    report = {}
    for r in rows:
        res = check(DATA / r["file"])
        report[r["file"]] = {"category": r["category"], **res}
        n = len(res["pages"])
        print(f"{r['file'][:70]:70} pages judged {n:3}  read whole: kb {res['kb']}/{n}  pypdfium2 {res['pypdfium2']}/{n}"
              f"  pypdf layout {res['pypdf_layout']}/{n}", flush=True)  # fmt: skip
    docs = [v for v in report.values() if v["pages"]]
    gov = [v for v in docs if v["category"].startswith("french-gov")]
    total = sum(v["sentences"] for v in docs)
    report["_summary"] = {k: {"pages_whole": f"{sum(v[k] for v in docs)}/{sum(len(v['pages']) for v in docs)}",
                              "sentences_whole": round(sum(v[f"{k}_sentences"] for v in docs) / total, 3),
                              "gov_sentences_whole": round(sum(v[f"{k}_sentences"] for v in gov)
                                                           / sum(v["sentences"] for v in gov), 3),
                              "gov_documents_all_pages_whole": f"{sum(v[k] == len(v['pages']) for v in gov)}/{len(gov)}"}
                          for k in EXTRACTORS}  # fmt: skip
    print(json.dumps(report["_summary"]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
