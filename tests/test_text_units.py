"""Fast unit tests of text handling: sentences, chunking, analysis, language."""

from __future__ import annotations

import pytest

from kb.analysis import query_terms, query_words, terms
from kb.chunking import chunk
from kb.langid import detect, function_votes, query_language
from kb.loaders.pdf import _dehyphenate, _strip_running_lines
from kb.settings import ChunkParams
from kb.textutil import clean, count_words, sentence_spans
from kb.types import Document, Page, Section


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_french_abbreviations_do_not_end_sentences() -> None:
    text = "M. Dupont cite l'art. 3, p. 12, etc. et part en janv. 2024. Mme Durand répond. Fin !"
    assert sentences(text) == [
        "M. Dupont cite l'art. 3, p. 12, etc. et part en janv. 2024.",
        "Mme Durand répond.",
        "Fin !",
    ]


def test_sentence_boundaries_lists_and_blank_lines() -> None:
    text = "Objectifs :\n- doubler la production ;\n- créer des emplois.\n\nNouveau paragraphe. Suite."
    assert sentences(text) == ["Objectifs :", "- doubler la production ;", "- créer des emplois.",
                               "Nouveau paragraphe.", "Suite."]  # fmt: skip


def long_doc() -> Document:
    para = " ".join(f"Phrase numéro {i} sur la bioproduction des biomédicaments en France." for i in range(120))
    text = "Titre\n" + para + "\n\nAutre partie\n" + para[:2000]
    return Document(doc_id="d", title="t", kind="text", pages=[
        Page(1, text, [Section(0, "Titre"), Section(text.index("Autre partie"), "Autre partie")]),
        Page(2, "Courte page deux. Elle a deux phrases."),
    ])  # fmt: skip


def test_chunks_are_exact_sized_and_never_cross_sections_or_pages() -> None:
    doc = long_doc()
    chunks = chunk(doc, ChunkParams())
    for c in chunks:
        assert doc.pages[c.page - 1].text[c.start : c.end] == c.text
        assert count_words(c.text) <= 300
    first = [c for c in chunks if c.section == "Titre"]
    assert all(count_words(c.text) >= 150 for c in first[:-1])
    boundary = doc.pages[0].text.index("Autre partie")
    assert all(c.end <= boundary or c.start >= boundary for c in chunks if c.page == 1)
    assert chunks[-1].page == 2 and chunks[-1].text == "Courte page deux. Elle a deux phrases."
    # one sentence of overlap between consecutive chunks of a section
    assert first[1].start < first[0].end


def test_overlong_sentence_is_cut_at_words() -> None:
    text = " ".join(["mot"] * 700)
    chunks = chunk(Document("d", "t", [Page(1, text)], "text"))
    assert len(chunks) == 3 and all(count_words(c.text) <= 300 for c in chunks)


def test_clean_spells_out_ligatures_and_keeps_oe() -> None:
    assert clean("ﬁnancement de l'œuvre ﬂuide\r\n") == "financement de l'œuvre fluide\n"


def test_pdf_running_headers_page_numbers_and_hyphens() -> None:
    words = ["bioréacteurs", "vaccins", "anticorps", "thérapies", "usines"]
    pages = [f"Rapport annuel 2024\nCette page parle des {w} et de la bioproduc-\ntion.\nPage {i} / 5"
             for i, w in enumerate(words, start=1)]  # fmt: skip
    pages[2] = "Rapport annuel 2024\nUn porte-parole parle. Le porte-\nparole répond.\n3"
    out = _strip_running_lines(_dehyphenate(pages))
    assert all("Rapport annuel" not in p and "/ 5" not in p for p in out)
    assert "bioproduction." in out[0]
    assert "Le porte-parole répond." in out[2]


def test_analysis_folds_elides_and_stems() -> None:
    assert terms("L'État finance l'œuvre des biothérapies", "fr") == ["etat", "financ", "oeuvr", "biotherap"]
    assert terms("The shortages of medicines", "en") == ["shortag", "medicin"]
    assert "de" not in query_terms("pénuries de médicaments")
    assert query_words("Quels objectifs pour Biolead en 2030 ?") == [
        ("objectifs", {"fr": "object", "en": "objectif"}), ("biolead", {"fr": "biolead", "en": "biolead"}),
        ("2030", {"fr": "2030", "en": "2030"}),
    ]  # fmt: skip
    assert [w for w, _ in query_words("He doesn't know")] == ["know"]  # contractions are stop words


def test_language_detection_is_deterministic() -> None:
    text = "Les industriels doivent constituer un stock de sécurité."
    assert {detect(text) for _ in range(5)} == {"fr"}
    assert detect("Manufacturers must report their supply chains.") == "en"
    probs = [query_language("stock safety months") for _ in range(5)]
    assert all(p == probs[0] for p in probs) and probs[0]["en"] > 0.5
    assert query_language("???") == {}


def test_function_words_correct_the_language_of_short_queries() -> None:
    # langdetect's character n-grams alone read these two the wrong way round (Tatoeba sentences)
    assert query_language("He loves you.")["en"] > 0.5
    assert query_language("Tente ta chance !")["fr"] > 0.5
    assert query_language("Il t'aime.")["fr"] > 0.5
    # no function word of one language only: langdetect's reading stands
    assert query_language("bioproduction thérapies") == query_language("bioproduction thérapies")
    assert function_votes("bioproduction thérapies") == 0
    long = query_language("the of and to in " * 200)  # many votes: bounded, no overflow
    assert 0.0 < long["fr"] < 1e-9 and long["en"] == pytest.approx(1.0)


@pytest.mark.parametrize("bad", ["", "   \n"])
def test_sentence_spans_of_blank_text(bad: str) -> None:
    assert sentence_spans(bad) == []


def test_thin_text_layer_kept_when_recognition_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from kb.loaders import ocr
    from kb.loaders.pdf import load_pdf
    from tests.hostile import text_pdf

    monkeypatch.setattr(ocr, "missing", lambda: None)
    monkeypatch.setattr(ocr, "recognise", lambda data, pages, dpi=300: {i: "" for i in pages})
    doc = load_pdf("label.pdf", text_pdf("Annexe II"))  # 8 letters: too thin, so recognition is tried
    assert doc.pages[0].text.strip() == "Annexe II" and not doc.pages[0].ocr
    monkeypatch.setattr(
        ocr, "recognise", lambda data, pages, dpi=300: {i: "Annexe II : liste des sites" for i in pages}
    )
    doc = load_pdf("scan.pdf", text_pdf("Annexe II"))
    assert doc.pages[0].text.startswith("Annexe II : liste") and doc.pages[0].ocr
