"""Ingestion through the real pipeline: shipped corpus, incremental updates, bad files, exact spans."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from kb import generations
from kb.embedding import Embedder
from kb.engine import Index
from kb.ingest import ingest
from kb.settings import Settings
from kb.store import Store
from tests.conftest import FIXTURES, ROOT, run_kb


def assert_spans_exact(store: Store) -> int:
    n = 0
    for doc in store.documents():
        pages = dict(store.pages(doc["doc_id"]))
        for c in store.chunks_of(doc["doc_id"]):
            assert pages[c["page"]][c["start"] : c["end_"]] == c["text"], c["chunk_id"]
            n += 1
    return n


def test_shipped_corpus_ingested_with_metadata(corpus_index: Index) -> None:
    docs = {d["doc_id"]: d for d in corpus_index.store.documents()}
    assert set(docs) == {"france2030-biotherapies", "france-biolead-launch"}
    fr = docs["france2030-biotherapies"]
    assert fr["language"] == "fr" and fr["publisher"].startswith("Direction générale des Entreprises")
    assert fr["source_url"].startswith("https://entreprises.gouv.fr/")
    assert docs["france-biolead-launch"]["language"] == "en"
    langs = corpus_index.store.languages()
    assert langs.get("fr", 0) >= 3 and langs.get("en", 0) >= 3
    assert assert_spans_exact(corpus_index.store) == corpus_index.info().passages
    m = corpus_index.manifest
    assert m["model"] == "intfloat/multilingual-e5-small" and m["dimension"] == 384
    assert m["chunker"]["max_words"] == 300 and len(m["corpus_hash"]) == 64


def test_chunks_carry_sections(corpus_index: Index) -> None:
    chunks = corpus_index.store.chunks_of("france2030-biotherapies")
    assert any(c["section"].startswith("Devenir premier pays européen") for c in chunks)


def test_incremental_unchanged_changed_deleted(base_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "bilingual", docs)
    settings = replace(base_settings, index_dir=tmp_path / "index")
    first = ingest([docs], settings, embedder)
    assert first.count("added") == 6 and first.count("failed") == 0
    gen1 = generations.current(settings.index_dir)
    again = ingest([docs], settings, embedder)
    assert again.count("unchanged") == 6 and not again.changed
    assert generations.current(settings.index_dir) == gen1
    (docs / "strategie-bioproduction.txt").write_text(
        "Stratégie révisée\n\nUn texte entièrement nouveau sur les bioréacteurs.\n"
    )
    (docs / "charte-partage-2.txt").unlink()
    upd = ingest([docs], settings, embedder)
    assert upd.count("updated") == 1 and upd.count("deleted") == 1 and upd.count("unchanged") == 4
    store = Store(generations.current(settings.index_dir) / "kb.sqlite", readonly=True)
    assert store.document("note-2") is None
    assert "bioréacteurs" in store.chunks_of("strategie")[0]["text"]
    assert assert_spans_exact(store) == store.count("chunks")
    import numpy as np

    assert np.load(generations.current(settings.index_dir) / "vectors.npy").shape[0] == store.count("chunks")


def test_keep_deleted_flag(base_settings: Settings, embedder: Embedder, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Premier document sur la bioproduction en France et ses usines.")
    (docs / "b.txt").write_text("Second document about biomanufacturing plants in Europe.")
    settings = replace(base_settings, index_dir=tmp_path / "index")
    ingest([docs], settings, embedder)
    (docs / "b.txt").unlink()
    report = ingest([docs], settings, embedder, keep_deleted=True)
    assert report.count("deleted") == 0 and report.documents == 2


def test_bad_files_reported_run_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Un bon document sur les biothérapies et la bioproduction en France.")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "random.pdf").write_bytes(b"\x00\x01garbage" * 100)
    (docs / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    (docs / "notes.docx").write_text("zip? no")
    (docs / "latin1.txt").write_bytes("Données économiques de l'été, café crème".encode("latin-1"))
    shutil.copy(ROOT.parent / "shared/data/pdf-robustness/unstructured/password.pdf", docs / "secret.pdf") if (
        ROOT.parent / "shared/data/pdf-robustness/unstructured/password.pdf").exists() else None  # fmt: skip
    out = run_kb("ingest", str(docs), "--index", str(tmp_path / "index"), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    by_name = {o["path"]: o for o in report["outcomes"]}
    assert by_name["good.txt"]["status"] == "added" and by_name["latin1.txt"]["status"] == "added"
    assert by_name["empty.txt"]["error_code"] == "empty_file"
    assert by_name["random.pdf"]["error_code"] == "broken_file" and "random.pdf" in by_name["random.pdf"]["message"]
    assert by_name["image.png"]["error_code"] == "unsupported_type"
    assert by_name["notes.docx"]["error_code"] == "broken_file" and "zip" in by_name["notes.docx"]["message"]
    if "secret.pdf" in by_name:
        assert by_name["secret.pdf"]["error_code"] == "encrypted"
    assert "FAILED" not in out.stdout  # JSON mode prints only JSON
    human = run_kb("ingest", str(docs / "empty.txt"), "--index", str(tmp_path / "index2"))
    assert human.returncode == 1 and "empty.txt: empty file" in human.stdout


def test_cli_docs_and_show(served_index: Path) -> None:
    out = run_kb("docs", "--index", str(served_index))
    assert out.returncode == 0 and "france2030-biotherapies" in out.stdout
    out = run_kb("show", "penuries", "--index", str(served_index))
    assert (
        out.returncode == 0
        and "penuries#0 [" in out.stdout
        and "section='Constituer des stocks de sécurité'" in out.stdout
    )
    out = run_kb("show", "nope", "--index", str(served_index))
    assert out.returncode == 2 and "no document" in out.stderr


def test_no_index_is_a_clear_error(tmp_path: Path) -> None:
    out = run_kb("search", "stock", "--index", str(tmp_path / "missing"))
    assert out.returncode == 3 and "no index" in out.stderr and "kb ingest" in out.stderr


def test_hnsw_above_exact_max_grows_without_rebuild(
    base_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    from kb.engine import load, search

    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "bilingual", docs)
    settings = replace(base_settings, index_dir=tmp_path / "index", exact_max=5)
    ingest([docs], settings, embedder)
    index = load(settings.index_dir, embedder)
    assert index.dense_index.kind == "hnsw" and index.info().dense == "hnsw"
    (docs / "extra.txt").write_text("Vaccins à ARN\n\nUne nouvelle usine de vaccins à ARN messager ouvre près de Lyon.")
    ingest([docs], settings, embedder)  # adds only: the graph is extended, not rebuilt
    index = load(settings.index_dir, embedder)
    assert (
        index.dense_index.kind == "hnsw"
        and index.dense_index.index.ntotal == index.dense_index.size == index.store.count("chunks")
    )
    assert search(index, "usine de vaccins à ARN près de Lyon", k=1).hits[0].doc_id == "extra"
    (docs / "extra.txt").unlink()
    ingest([docs], settings, embedder)  # a deletion rebuilds the graph over the remaining rows
    index = load(settings.index_dir, embedder)
    assert index.dense_index.index.ntotal == index.dense_index.size and index.document("extra") is None
