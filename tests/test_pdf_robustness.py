"""All 80 PDFs of ../shared/data/pdf-robustness through `kb ingest`: no crash, no hang, a clear reason each."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from kb import generations
from kb.store import Store
from tests.conftest import need_shared, run_kb
from tests.test_ingest import assert_spans_exact

# pdftotext extracts nothing from this image-only file, but it carries a text label ("Background") on four of
# its six pages that pypdf reads; a one-word document is the honest result.
HIDDEN_TEXT = {"py-pdf-sample-files/007-imagemagick-images_imagemagick-images.pdf"}


@pytest.fixture(scope="module")
def pdf_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, dict[str, object]], Path, list[dict[str, str]]]:
    folder = need_shared() / "pdf-robustness"
    index = tmp_path_factory.mktemp("pdf") / "index"
    out = run_kb("ingest", str(folder), "--index", str(index), "--json", timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    outcomes = {o["path"]: o for o in json.loads(out.stdout)["outcomes"]}
    with open(folder / "manifest.csv", encoding="utf-8") as f:
        manifest = list(csv.DictReader(f))
    return outcomes, index, manifest


def test_every_pdf_has_an_outcome(pdf_run) -> None:  # type: ignore[no-untyped-def]
    outcomes, _, manifest = pdf_run
    assert len(manifest) == 80
    missing = [m["file"] for m in manifest if m["file"] not in outcomes]
    assert missing == []


def test_text_pdfs_yield_chunks_and_others_a_reason(pdf_run) -> None:  # type: ignore[no-untyped-def]
    outcomes, index, manifest = pdf_run
    store = Store(generations.current(index) / "kb.sqlite", readonly=True)
    chunks_by_source = {d["source_key"].split("pdf-robustness/")[-1]: d["n_chunks"] for d in store.documents()}
    recognised: list[str] = []
    for m in manifest:
        o, chars = outcomes[m["file"]], m["pdftotext_chars_no_password"]
        if chars.startswith("ERR"):  # password needed
            assert o["status"] == "failed" and o["error_code"] == "encrypted", (m["file"], o)
            assert "encrypted PDF" in o["message"] and m["file"].split("/")[-1] in o["message"]
        elif m["file"] in HIDDEN_TEXT:
            assert o["status"] == "added", (m["file"], o)
        elif chars == "0":  # image-only: recognised by OCR (KB_OCR=auto), or a clear reason why not
            if o["status"] == "added":
                recognised.append(m["file"])
                assert chunks_by_source[m["file"]] > 0, m["file"]
            else:
                assert o["error_code"] in ("no_text", "broken_file"), (m["file"], o)
                assert m["file"].split("/")[-1] in o["message"]
        else:
            assert o["status"] == "added", (m["file"], o)
            assert chunks_by_source[m["file"]] > 0, m["file"]
    # the set's one scan with words in its image (JBIG2) is read; the other image-only files picture no text
    assert "pdfminer-six/contrib__pdf-with-jbig2.pdf" in recognised, recognised


def test_every_chunk_span_is_exact(pdf_run) -> None:  # type: ignore[no-untyped-def]
    _, index, _ = pdf_run
    store = Store(generations.current(index) / "kb.sqlite", readonly=True)
    assert assert_spans_exact(store) == store.count("chunks") > 300


def test_french_pdf_metadata_and_pages(pdf_run) -> None:  # type: ignore[no-untyped-def]
    _, index, _ = pdf_run
    store = Store(generations.current(index) / "kb.sqlite", readonly=True)
    doc = store.document("fiche-14-vademecum-kit-elections-2014-v2-18-02-14")
    assert doc is not None and doc["language"] == "fr" and doc["n_pages"] == 9 and doc["paginated"] == 1
    assert doc["stored_file"] and (generations.current(index) / "files" / doc["stored_file"]).is_file()
    pages = [t for _, t in store.pages(doc["doc_id"])]
    assert "ﬁ" not in "".join(pages)
