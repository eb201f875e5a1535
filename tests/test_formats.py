"""The documents policy teams hold, with the real model: a scanned French PDF (OCR), a Word file, an
OpenDocument file and a web page fetched by URL from a local server — each found by a French and an
English question, with an exact citation."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kb.backend import IndexReader
from kb.embedding import Embedder
from kb.engine import search
from kb.errors import InputError
from kb.fetch import fetch
from kb.ingest import ingest
from kb.loaders import ocr
from kb.local import load
from kb.settings import Settings
from kb.types import Hit
from tests import makefiles
from tests.conftest import DATA

PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Fonds régional pour les thérapies géniques</title>
</head><body><nav>Accueil | Contact</nav><main><article><h1>Fonds régional pour les thérapies géniques</h1>
<p>La région Occitanie crée un fonds de trente millions d'euros pour financer les essais cliniques de thérapie génique
menés par les jeunes entreprises de biotechnologie installées sur son territoire.</p>
<p>Les dossiers de candidature sont examinés chaque trimestre par un comité d'experts indépendants.</p>
</article></main><footer>Mentions légales</footer></body></html>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    (root / "fonds.html").write_text(PAGE, encoding="utf-8")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def formats(
    base_settings: Settings, embedder: Embedder, site: str, tmp_path_factory: pytest.TempPathFactory
) -> IndexReader:
    where = tmp_path_factory.mktemp("formats")
    docs = where / "docs"
    docs.mkdir()
    makefiles.docx_file(docs / "formation.docx")
    makefiles.odt_file(docs / "achats-vaccins.odt")
    jorf = DATA / "pdf-robustness/french-gov/jorf_2023-06-21_texte5_DINUM-delegation.pdf"
    if jorf.exists() and ocr.missing() is None:
        makefiles.scanned_pdf(jorf, docs / "decision-scannee.pdf")
    settings = replace(base_settings, index_dir=where / "index", allow_private_urls=True)
    report = ingest([docs], settings, embedder, urls=[site + "/fonds.html"])
    assert report.count("failed") == 0, report.outcomes
    return load(settings.index_dir, embedder)


def exact(index: IndexReader, hit: Hit) -> None:
    """The cited page's text at the cited span is the passage."""
    c = hit.citation
    page = index.page(c.doc_id, c.page or 1)
    assert page is not None and page[c.start : c.end] == hit.text


@pytest.mark.parametrize(("doc", "fr", "en"), [
    ("formation", "Combien de semaines dure la formation des opérateurs ?", "How long is the training of operators?"),
    ("achats-vaccins", "Quel stock de vaccins les hôpitaux constituent-ils ?", "How many months of vaccine stock do hospitals build up?"),
    ("fonds", "Quel montant pour le fonds régional des thérapies géniques ?", "How much money does the regional gene therapy fund hold?"),
])  # fmt: skip
def test_found_in_french_and_english(formats: IndexReader, doc: str, fr: str, en: str) -> None:
    for q in (fr, en):
        top = search(formats, q, k=3).hits[0]
        assert top.doc_id == doc, (q, [h.doc_id for h in search(formats, q, k=3).hits])
        exact(formats, top)


def test_scanned_pdf_recognised(formats: IndexReader) -> None:
    if formats.document("decision-scannee") is None:
        pytest.skip("needs ../shared/data and Tesseract")
    for q in ("délégation de signature de la directrice interministérielle du numérique",
              "Who received a delegation of signature from the interministerial digital director?"):  # fmt: skip
        top = search(formats, q, k=3).hits[0]
        assert top.doc_id == "decision-scannee"
        exact(formats, top)
    assert formats.ocr_pages("decision-scannee") == {1}


def test_office_metadata_sections_and_citation(formats: IndexReader) -> None:
    d = formats.document("formation")
    assert d is not None and d["title"] == "Plan de formation bioproduction" and d["publisher"] == "Campus Biotech"
    assert d["date"] == "2025-04-02" and not d["paginated"]
    hit = search(formats, "apprentis dans les usines de biomédicaments", k=1).hits[0]
    assert hit.citation.section == "Apprentissage" and hit.citation.page is None
    o = formats.document("achats-vaccins")
    assert o is not None and o["publisher"] == "Direction des achats hospitaliers" and o["date"] == "2024-11-05"
    assert "Vaccin | Stock" in (formats.page("achats-vaccins", 1) or "")


def test_url_kept_in_citation_and_unchanged_skipped(formats: IndexReader, site: str, base_settings: Settings,
                                                    embedder: Embedder, tmp_path: Path) -> None:  # fmt: skip
    d = formats.document("fonds")
    assert d is not None and d["source_url"] == site + "/fonds.html" and d["title"].startswith("Fonds régional")
    settings = replace(base_settings, index_dir=tmp_path / "index", allow_private_urls=True)
    assert ingest([], settings, embedder, urls=[site + "/fonds.html"]).count("added") == 1
    assert ingest([], settings, embedder, urls=[site + "/fonds.html"]).count("unchanged") == 1


def test_url_checks(site: str) -> None:
    with pytest.raises(InputError, match="private or local address"):
        fetch(site + "/fonds.html", 2**20)  # loopback refused unless allowed (SSRF)
    with pytest.raises(InputError, match="only http"):
        fetch("file:///etc/passwd", 2**20, allow_private=True)
    with pytest.raises(Exception, match="content type"):
        fetch(site + "/image.png", 2**20, allow_private=True)
    with pytest.raises(Exception, match="limit"):
        fetch(site + "/fonds.html", 100, allow_private=True)
    with pytest.raises(Exception, match="404"):
        fetch(site + "/missing.html", 2**20, allow_private=True)
