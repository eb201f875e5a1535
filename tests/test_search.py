"""Search with the real default model over a small bilingual fixture and the shipped corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.engine import Index, load, search
from kb.errors import IndexMismatchError, NotFoundError, QueryError
from kb.types import Filters
from tests.conftest import run_kb


def test_english_question_finds_french_passage_first(bilingual_index: Index) -> None:
    r = search(bilingual_index, "How many months of safety stock are required for major medicines?")
    top = r.hits[0]
    assert r.query_language == "en"
    assert top.doc_id == "penuries" and top.citation.language == "fr"
    assert "quatre mois" in top.text
    sentence = [h for h in top.highlights if h.kind == "sentence"]
    assert sentence and "quatre mois" in top.text[sentence[0].start : sentence[0].end]


def test_french_question_finds_english_passage_first(bilingual_index: Index) -> None:
    r = search(bilingual_index, "Combien d'emplois dans la bioproduction d'ici 2030 selon France Biolead ?")
    assert r.query_language == "fr"
    assert r.hits[0].doc_id == "biolead-charter" and "20,000" in r.hits[0].text


def test_shipped_corpus_cross_lingual(corpus_index: Index) -> None:
    r = search(corpus_index, "What is the ambition of the acceleration strategy for biotherapies?", k=3)
    assert r.hits[0].doc_id == "france2030-biotherapies"
    r = search(corpus_index, "Combien de membres fondateurs compte France Biolead ?", k=3)
    assert r.hits[0].doc_id == "france-biolead-launch" and "15 founding members" in r.hits[0].text


def _rank_of(r: object, doc_id: str) -> int:
    return next(h.rank for h in r.hits if h.doc_id == doc_id)  # type: ignore[attr-defined]


def test_mixed_collection_answer_first_from_the_first_documents(corpus_index: Index) -> None:
    """The shipped corpus: 4 French and 3 English passages, too few for a background of its own; the model's
    reference background calibrates it, and the keyword side finds the French words through translation and
    cognates. Before: semantic put the 3 English passages first for both questions, hybrid the French third."""
    fr = "france2030-biotherapies"
    q = "Which countries overtook France in pharmaceutical bioproduction?"
    assert corpus_index.background.source == "reference"
    r = search(corpus_index, q, k=4, explain=True)
    assert r.hits[0].doc_id == fr and "voisins européens" in r.hits[0].text
    assert _rank_of(search(corpus_index, q, k=4, mode="semantic"), fr) <= 3
    q = "antibodies, vaccines and recombinant proteins"
    r = search(corpus_index, q, k=4, explain=True)
    assert _rank_of(r, fr) <= 2
    top_fr = next(h for h in r.hits if h.doc_id == fr)
    assert "anticorps" in top_fr.text
    matched = {m["word"] for m in top_fr.explain.matched}  # type: ignore[union-attr]
    assert {"vaccines", "recombinant", "proteins"} <= matched  # cognates match across languages
    assert _rank_of(search(corpus_index, q, k=4, mode="semantic"), fr) <= 3


def test_explain_says_why(bilingual_index: Index) -> None:
    r = search(bilingual_index, "How many months of safety stock must drug companies hold?", k=3, explain=True)
    top = r.hits[0]
    assert top.doc_id == "penuries" and "quatre mois" in top.text
    e = top.explain
    assert e is not None and e.mode == "hybrid"
    assert e.passage_language == "fr" and e.query_language == "en" and e.same_language < 0.1
    assert e.semantic == pytest.approx(top.dense_score) and e.keyword == pytest.approx(top.keyword_score)
    assert top.score == pytest.approx(e.semantic_norm + e.keyword_weight * e.keyword_norm)
    assert {"word": "months", "term": "mois", "translated": True} in [
        {k: m[k] for k in ("word", "term", "translated")} for m in e.matched
    ]
    assert "explain" in top.to_dict() and "explain" not in search(bilingual_index, "stock", k=1).hits[0].to_dict()
    terms = {top.text[h.start : h.end].lower() for h in top.highlights if h.kind == "term"}
    assert "mois" in terms  # translations are highlighted too


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_modes_return_cited_passages(bilingual_index: Index, mode: str) -> None:
    r = search(bilingual_index, "stock de sécurité des médicaments", mode=mode, k=3)
    assert r.mode == mode and r.hits
    for h in r.hits:
        page = bilingual_index.page(h.doc_id, h.citation.page or 1)
        assert page is not None and page[h.citation.start : h.citation.end] == h.text
    assert r.hits[0].doc_id == "penuries"


def test_keyword_highlights_are_terms(bilingual_index: Index) -> None:
    h = search(bilingual_index, "antibiotiques", mode="keyword", k=1).hits[0]
    terms = [h.text[x.start : x.end].lower() for x in h.highlights if x.kind == "term"]
    assert "antibiotiques" in terms


def test_unknown_document_filter(bilingual_index: Index) -> None:
    with pytest.raises(NotFoundError):
        search(bilingual_index, "stock", filters=Filters(doc_id="nope"))


@pytest.mark.parametrize("query", ["", "   ", "?!…;:", "x" * 10_000])
def test_bad_queries_get_clear_errors(bilingual_index: Index, query: str) -> None:
    with pytest.raises(QueryError) as e:
        search(bilingual_index, query)
    assert e.value.field == "q" and e.value.message


def test_bad_parameters(bilingual_index: Index) -> None:
    with pytest.raises(QueryError, match="mode"):
        search(bilingual_index, "stock", mode="fuzzy")
    with pytest.raises(QueryError, match="k must"):
        search(bilingual_index, "stock", k=0)
    with pytest.raises(QueryError, match="date_from"):
        search(bilingual_index, "stock", filters=Filters(date_from="yesterday"))


def test_mismatched_model_fails_clearly(corpus_index: Index) -> None:
    class Other:
        name, dim = "sentence-transformers/other-model", 384

    with pytest.raises(IndexMismatchError, match="built with model"):
        load(corpus_index.path.parent, Other())  # type: ignore[arg-type]
    env_cli = run_kb("search", "stock", "--index", str(corpus_index.path.parent), "--model", "/nonexistent/model")
    assert env_cli.returncode != 0 and "error:" in env_cli.stderr and "Traceback" not in env_cli.stderr


def test_cli_search_json_and_batch(served_index: Path, tmp_path: Path) -> None:
    out = run_kb("search", "pénuries de médicaments", "--index", str(served_index), "--json", "--k", "2")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data["hits"]) == 2 and data["hits"][0]["citation"]["doc_id"]
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": "a", "text": "safety stock"}\n{"_id": "b", "text": "emplois bioproduction"}\n'
                       '{"_id": "c", "text": "!!!"}\n')  # fmt: skip
    out = run_kb("search", "--queries", str(queries), "--json", "--index", str(served_index), "--k", "3")
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["query_id"] for x in lines] == ["a", "b", "c"]
    assert len(lines[0]["hits"]) == 3 and {"doc_id", "chunk_id", "score", "text", "citation"} <= set(
        lines[0]["hits"][0]
    )
    assert lines[2]["error"]["code"] == "bad_query"
    human = run_kb("search", "emplois bioproduction", "--index", str(served_index), "--k", "1")
    assert human.returncode == 0 and "1." in human.stdout
    why = run_kb("search", "How many months of safety stock?", "--index", str(served_index), "--k", "1", "--explain")
    assert why.returncode == 0 and "[why] semantic" in why.stdout and "months→mois" in why.stdout
