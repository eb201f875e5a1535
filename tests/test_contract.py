"""One suite over every index backend (as txtai runs one ANN suite over every backend): local, Qdrant Edge in
process, and a Qdrant server when KB_QDRANT_URL is set.

It runs on the fake embedder (hashed vectors), so it checks what a backend must do — store, filter, cite,
update, delete, switch generations — not the model; the English question finds the French passage through
kb's lexicon. The same searches with the real model are in test_search.py.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kb.backend import IndexReader, backend_for
from kb.engine import search
from kb.ingest import ingest, remove
from kb.settings import Settings
from kb.types import Filters
from tests.conftest import FIXTURES
from tests.fakes import HashEmbedder

SERVER = os.environ.get("KB_QDRANT_URL")
BACKENDS = ["local", "qdrant-edge",
            pytest.param("qdrant-server", marks=pytest.mark.skipif(not SERVER, reason="KB_QDRANT_URL is not set: "
                                                                   "no Qdrant server to run the suite against"))]  # fmt: skip
EMB = HashEmbedder()


def settings_for(kind: str, where: Path) -> Settings:
    s = Settings(index_dir=where / "index", workers=1)
    if kind == "qdrant-edge":
        return replace(s, index_backend="qdrant")
    if kind == "qdrant-server":
        return replace(s, index_backend="qdrant", qdrant_url=SERVER, qdrant_api_key=os.environ.get("KB_QDRANT_API_KEY"),
                       qdrant_collection=f"kb-test-{uuid.uuid4().hex[:8]}")  # fmt: skip
    return s


@pytest.fixture(scope="module", params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def index(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexReader]:
    where = tmp_path_factory.mktemp(kind)
    docs = where / "docs"
    shutil.copytree(FIXTURES / "bilingual", docs)
    settings = settings_for(kind, where)
    ingest([docs], settings, EMB)
    reader = backend_for(settings).open(EMB)
    yield reader
    reader.close()


def test_ingest_counts_and_exact_citations(index: IndexReader) -> None:
    info = index.info()
    assert info.documents == 6 and info.passages >= 12 and info.model == EMB.name and info.dimension == EMB.dim
    assert set(info.languages) == {"fr", "en"}
    assert {d["doc_id"] for d in index.documents()} == {"penuries", "biolead-charter", "strategie", "devices",
                                                        "note-1", "note-2"}  # fmt: skip
    for d in index.documents():
        passages = index.document_passages(d["doc_id"])
        assert passages and [p.seq for p in passages] == list(range(len(passages)))
        for p in passages:
            page = index.page(d["doc_id"], p.page)
            assert page is not None and page[p.start : p.end] == p.text
    assert index.document("nope") is None and index.page("penuries", 99) is None


def test_english_question_finds_french_passage(index: IndexReader) -> None:
    r = search(index, "How many months of safety stock?", mode="keyword", k=3, highlight="terms")
    top = r.hits[0]
    assert top.doc_id == "penuries" and top.citation.language == "fr" and "quatre mois" in top.text
    assert top.citation.title == "Feuille de route pénuries de médicaments" and top.citation.date == "2024-02-20"


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_each_filter_inside_retrieval(index: IndexReader, mode: str) -> None:
    q = "production de médicaments"
    hits = search(index, q, mode=mode, k=20, filters=Filters(language="en")).hits
    assert hits and {h.citation.language for h in hits} == {"en"}
    assert {h.doc_id for h in search(index, q, mode=mode, filters=Filters(doc_id="strategie")).hits} == {"strategie"}
    assert {h.doc_id for h in search(index, q, mode=mode, k=20, filters=Filters(source="ministry")).hits} == {"devices"}
    dated = search(index, q, mode=mode, k=20, filters=Filters(date_from="2024", date_to="2024-12-31")).hits
    assert {h.doc_id for h in dated} == {"penuries"}
    old = search(index, q, mode=mode, k=20, filters=Filters(date_to="2022")).hits
    assert old and all((h.citation.date or "9") <= "2022-12-31" for h in old)


def test_k_results_when_k_exist(index: IndexReader) -> None:
    n_fr = index.info().languages["fr"]
    r = search(index, "biological medicines jobs", k=n_fr, filters=Filters(language="fr"), highlight="none")
    assert len(r.hits) == n_fr - 1  # the two identical "note" passages count once


def test_duplicate_text_once_with_both_sources(index: IndexReader) -> None:
    r = search(index, "partager les données de capacité de production, goulets d'étranglement", k=5)
    shared = [h for h in r.hits if "Les signataires s'engagent" in h.text]
    assert len(shared) == 1
    assert {shared[0].doc_id, *(c.doc_id for c in shared[0].also_in)} == {"note-1", "note-2"}


def test_update_and_delete(kind: str, tmp_path: Path) -> None:
    settings = settings_for(kind, tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Saumons de l'Adour\n\nLes saumons remontent l'Adour chaque printemps pour frayer.")
    (docs / "b.txt").write_text("Vaccins\n\nLa production de vaccins à ARN messager demande des bioréacteurs.")
    ingest([docs], settings, EMB)
    backend = backend_for(settings)
    g1 = backend.current()
    (docs / "a.txt").write_text("Truites du gave\n\nLes truites du gave de Pau sont pêchées au printemps.")
    report = ingest([docs], settings, EMB)
    assert report.count("updated") == 1 and report.count("unchanged") == 1 and backend.current() != g1
    index = backend.open(EMB)
    assert index.info().documents == 2
    assert search(index, "truites", mode="keyword", k=3).hits[0].doc_id == "a"
    assert not [h for h in search(index, "saumons", mode="keyword", k=3).hits if "saumons" in h.text.lower()]
    (docs / "b.txt").unlink()
    assert ingest([docs], settings, EMB).count("deleted") == 1
    index = backend.open(EMB)
    assert index.document("b") is None and index.info().documents == 1
    remove(["a"], settings, EMB)
    index = backend.open(EMB)
    assert index.info().documents == 0 and index.info().passages == 0
    assert not search(index, "truites", mode="keyword", k=3).hits


def test_generation_switch_under_concurrent_searches(kind: str, tmp_path: Path) -> None:
    """Searches running while a document is added each see the index before it or after it, whole."""
    settings = settings_for(kind, tmp_path)
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "bilingual", docs)
    ingest([docs], settings, EMB)
    backend = backend_for(settings)
    before = backend.current()
    seen: list[tuple[str, bool]] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            index = backend.open(EMB) if backend.current() != before else first
            r = search(index, "usine pilote grenobloise lots cliniques", mode="keyword", k=5, highlight="none")
            seen.append((r.generation, any(h.doc_id == "grenoble" for h in r.hits)))

    first = backend.open(EMB)
    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    (docs / "grenoble.txt").write_text(
        "Usine pilote\n\n" + "L'usine pilote grenobloise fabrique des lots cliniques. " * 30
    )
    ingest([docs], settings, EMB)
    after = backend.current()
    while not any(g == after for g, _ in seen):
        pass
    stop.set()
    for t in threads:
        t.join()
    assert before != after and {g for g, _ in seen} <= {before, after}
    assert all(found == (g == after) for g, found in seen)  # the new document exactly in the new generation


def test_typo_tolerance_exact_first(index: IndexReader) -> None:
    r = search(index, "médicamnets essentiels", mode="keyword", k=3, explain=True)
    top = r.hits[0]
    assert top.doc_id == "penuries" and "médicaments essentiels" in top.text
    assert any(m["word"] == "médicamnets" and m["corrected"] for m in top.explain.matched)  # type: ignore[union-attr]
    assert not search(index, "médicamnets essentiels", mode="keyword", k=3, typos=False).hits or all(
        "médicament" not in h.text for h in search(index, "médicamnets", mode="keyword", k=3, typos=False).hits
    )
    exact = search(index, "médicaments essentiels", mode="keyword", k=1).hits[0]
    assert exact.score > top.score  # an exact match outranks a corrected one


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_missing_index_says_how_to_build_one(kind: str, tmp_path: Path) -> None:
    from kb.errors import NoIndexError

    backend = backend_for(settings_for(kind, tmp_path))
    assert not backend.exists()
    for attempt in (backend.require, lambda: backend.open(EMB)):
        with pytest.raises(NoIndexError, match=r"no index in .*kb ingest") as err:
            attempt()
        assert err.value.field == "index"
