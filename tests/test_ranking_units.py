"""Fast unit tests of language-neutral ranking: lexicon, query translation, fusion, calibration (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from kb import calibration, fusion, lexicon
from kb.analysis import query_words
from kb.fusion import STANDOUT, WEIGHT, Candidate, fuse, keyword_weight

LEX = lexicon.parse(
    "# comment\nmonth\tmois\t0.930\t0.985\t19\nstock\tstock\t1.0\t1.0\t9\n"
    "drug\tmedica\t0.600\t0.500\t4\ndrug\tdrogu\t0.300\t0.700\t3\nrare\tpeu\t0.050\t0.050\t2\n"
)


def test_lexicon_parse_and_translate() -> None:
    assert LEX.translate("month", "en") == (("mois", 0.93),)
    assert LEX.translate("mois", "fr") == (("month", 0.985),)
    assert LEX.translate("drug", "en") == (("medica", 0.6), ("drogu", 0.3))  # best first
    assert LEX.translate("rare", "en") == ()  # below MIN_PROB
    assert LEX.translate("month", "de") == ()


def test_shipped_lexicon_loads() -> None:
    lex = lexicon.default()
    assert lex.size > 1000
    assert ("mois", pytest.approx(0.932, abs=0.05)) in [(t, p) for t, p in lex.translate("month", "en")]


def test_query_groups_translate_into_the_passage_language() -> None:
    words = query_words("How many months of drug stock?")
    fr = lexicon.query_groups(words, {"en": 1.0, "fr": 0.0}, "fr", LEX)
    en = lexicon.query_groups(words, {"en": 1.0, "fr": 0.0}, "en", LEX)
    month = dict(fr[0])
    assert month["month"] == 1.0 and month["mois"] == pytest.approx(1.0)  # as written, and translated
    drug = dict(fr[1])
    assert drug["medica"] == pytest.approx(1.0) and drug["drogu"] == pytest.approx(0.5)  # share of the best
    assert "mois" not in dict(en[0])  # English passages get the English words only
    # a French query: translating its words as if they were English would be noise, weighted by P(en) = 0
    fr_query = lexicon.query_groups(query_words("mois"), {"fr": 1.0, "en": 0.0}, "fr", LEX)
    assert all(w in (1.0,) for _, w in fr_query[0])


def cands(dense: list[float], keyword: list[float], langs: str = "fe") -> list[Candidate]:
    """Candidates whose languages cycle through ``langs`` (f: fr, e: en)."""
    lang = {"f": "fr", "e": "en"}
    return [Candidate(i, lang[langs[i % len(langs)]], dense=d, keyword=k)
            for i, (d, k) in enumerate(zip(dense, keyword, strict=True))]  # fmt: skip


def test_fusion_without_keyword_keeps_the_semantic_order() -> None:
    ranked, _ = fuse(cands([0.80, 0.85, 0.82], [0, 0, 0]), floor=0.70)
    assert [c.vid for c in ranked] == [1, 2, 0]


def test_keyword_reorders_when_dense_hesitates() -> None:
    ranked, weight = fuse(cands([0.850, 0.849, 0.70], [0.0, 9.0, 0.0]), floor=0.70)
    assert weight == pytest.approx(WEIGHT, rel=0.02) and ranked[0].vid == 1


def test_keyword_fades_when_one_passage_stands_out() -> None:
    # the best stands out by STANDOUT of its distance to the floor: keyword evidence no longer counts
    d = np.array([0.90, 0.90 - STANDOUT * 0.2, 0.70])
    assert keyword_weight(d, floor=0.70) == pytest.approx(0.0, abs=1e-9)
    ranked, weight = fuse(cands(d.tolist(), [0.0, 9.0, 9.0]), floor=0.70)
    assert weight == pytest.approx(0.0, abs=1e-9) and ranked[0].vid == 0
    # within one language keyword evidence is comparable: it always counts in full
    ranked, weight = fuse(cands(d.tolist(), [0.0, 9.0, 9.0], langs="f"), floor=0.70)
    second = next(c for c in ranked if c.vid == 1)
    assert weight == WEIGHT and second.score == pytest.approx(second.dense_norm + WEIGHT)


def test_short_queries_fade_sooner_unless_another_language_covers_them() -> None:
    d = np.array([0.90, 0.90 - STANDOUT * 0.05, 0.70])  # stands out by a quarter of STANDOUT
    long_weight = keyword_weight(d, floor=0.70, n_words=fusion.SHORT)
    assert long_weight == pytest.approx(WEIGHT * 0.75)
    assert keyword_weight(d, floor=0.70, n_words=1) < long_weight  # one content word: fades sooner
    assert keyword_weight(d, floor=0.70, n_words=1) == pytest.approx(0.0, abs=1e-9)
    c = cands(d.tolist(), [0.0, 9.0, 9.0])
    c[1].covers = True  # matches most of the query's words in the other language: keeps the plain weight
    ranked, weight = fuse(c, floor=0.70, n_words=1)
    assert weight == pytest.approx(0.0, abs=1e-9)
    assert ranked[0].vid == 1 and ranked[0].weight == pytest.approx(keyword_weight(d, floor=0.70))
    assert next(x for x in ranked if x.vid == 2).weight == weight


def test_languages_mix_only_among_the_best_by_either_score() -> None:
    n = 3 * fusion.MIXED_TOP
    dense = np.linspace(0.9, 0.6, n)
    langs = ["fr"] * (n - 1) + ["de"]  # a stray German passage, last by cosine and without keyword evidence
    assert not fusion.mixes(dense, np.zeros(n), langs)
    kw = np.zeros(n)
    kw[-1] = 5.0  # the keyword side brings it up: now the best candidates mix languages
    assert fusion.mixes(dense, kw, langs)
    assert fusion.mixes(dense, np.zeros(n), ["de", *langs[1:]])  # first by cosine


def test_language_offset_is_part_of_the_calibrated_score() -> None:
    a = Candidate(0, "en", dense=0.86, offset=0.02)
    b = Candidate(1, "fr", dense=0.85, offset=0.0)
    assert a.calibrated < b.calibrated
    ranked, _ = fuse([a, b], floor=0.7)
    assert ranked[0] is b


def unit(rng: np.random.Generator, n: int, dim: int = 8) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_background_from_the_collection_when_large_enough() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 200)
    chunk_lang = np.array([0] * 100 + [1] * 100, np.int16)
    bg = calibration.select(["fr", "en"], chunk_lang, vectors, "some/model")
    assert bg.source == "collection" and set(bg.samples) == {"fr", "en"}
    # an English-leaning query: English passages score above French ones on the median; calibration takes
    # that excess off, so a passage at its language's median scores the floor whatever its language
    q = vectors[100:].mean(axis=0)
    q /= np.linalg.norm(q)
    cal = calibration.calibrate(bg, q)
    med = bg.medians(q)
    assert med["en"] > med["fr"] and cal.floor == pytest.approx(med["fr"])
    assert cal.calibrated("en", med["en"]) == pytest.approx(cal.floor)
    assert cal.calibrated("en", med["en"] + 0.1) == pytest.approx(cal.floor + 0.1)  # no language probabilities
    assert cal.calibrated("de", 0.5) == 0.5  # a language without a background is left as it is


def test_calibration_shrinks_the_query_language_toward_its_background() -> None:
    # the lift grows near the answer: above its median, the query's own language is shrunk by 1 + LIFT·P(lang)
    bg = calibration.Background({"fr": np.eye(4, dtype=np.float32)[:2], "en": np.eye(4, dtype=np.float32)[2:]}, "x")
    q = np.array([0.1, 0.1, 0.7, 0.7], np.float32)
    cal = calibration.calibrate(bg, q, {"en": 1.0, "fr": 0.0})
    low = cal.floor
    assert low == pytest.approx(0.1)
    assert cal.calibrated("en", 0.7 + 0.12) == pytest.approx(low + 0.12 / (1 + calibration.LIFT))
    assert cal.calibrated("fr", 0.1 + 0.12) == pytest.approx(low + 0.12)  # the other language is not shrunk


def test_small_collection_uses_the_reference_background(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    ref = {"fr": unit(rng, 16), "en": unit(rng, 16)}
    monkeypatch.setattr(calibration, "reference", lambda model, dim: ref if model == "m" else None)
    chunk_lang = np.array([0, 0, 0, 1, 1], np.int16)
    vectors = unit(rng, 5)
    assert calibration.select(["fr", "en"], chunk_lang, vectors, "m").source == "reference"
    assert calibration.select(["fr", "en"], chunk_lang, vectors, "other").source == "none"  # too few of its own


def test_shipped_reference_background_matches_the_default_model() -> None:
    ref = calibration.reference("intfloat/multilingual-e5-small", 384)
    assert ref is not None and {k: v.shape for k, v in ref.items()} == {"fr": (256, 384), "en": (256, 384)}
    assert calibration.reference("intfloat/multilingual-e5-small", 768) is None
    assert calibration.reference("another/model", 384) is None
