"""Candidates and their evidence for one query, in each mode (keyword, semantic, hybrid).

The dense side takes the best passages by cosine (FAISS), calibrated per passage language
(:mod:`kb.calibration`). The keyword side runs one BM25 search per passage language with the query as it
would be written in that language (:func:`kb.lexicon.query_groups`): an English question meets French
passages through its translations and its names, numbers and cognates. Hybrid fuses both (:mod:`kb.fusion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kb import fusion
from kb.analysis import LANGS, query_words, words
from kb.backend import IndexReader
from kb.calibration import Calibration, calibrate
from kb.fusion import WEIGHT, Candidate, fuse, soften
from kb.langid import query_language
from kb.lexicon import Group, query_groups
from kb.types import Filters
from kb.typos import WEIGHT as TYPO_WEIGHT
from kb.typos import Vocabulary

OTHER = "other"  # passages in neither French nor English


@dataclass
class Query:
    """A query analysed once: its language probabilities, content words and (when needed) its vector."""

    text: str
    probs: dict[str, float]
    words: list[tuple[str, dict[str, str]]]
    vector: np.ndarray | None = None
    corrections: dict[str, list[str]] = field(default_factory=dict)  # word → indexed terms of its likely spellings

    @classmethod
    def parse(cls, text: str) -> Query:
        return cls(text, soften(query_language(text), len(words(text))), query_words(text))

    @property
    def language(self) -> str:
        return max(self.probs, key=lambda x: self.probs[x]) if self.probs else "und"

    def groups(self, lang: str) -> list[Group]:
        groups = query_groups(self.words, self.probs, lang if lang in LANGS else OTHER)
        for (tok, _), group in zip(self.words, groups, strict=True):
            have = {t for t, _ in group}
            group += [(t, TYPO_WEIGHT) for t in self.corrections.get(tok, []) if t not in have]
        return groups

    def correct(self, vocab: Vocabulary | None) -> None:
        """Find the likely spellings of the words the collection does not know (typo tolerance)."""
        if vocab is not None:
            for tok, _ in self.words:
                fixes = list(dict.fromkeys(stem for _, stem in vocab.corrections(tok)))
                if fixes:
                    self.corrections[tok] = fixes


@dataclass
class Ranking:
    candidates: list[Candidate]
    keyword_weight: float = WEIGHT
    calibration: Calibration = field(default_factory=lambda: Calibration({}, None))


def rank(index: IndexReader, query: Query, mode: str, n: int, filters: Filters, typos: bool = True) -> Ranking:
    """Candidates best first with their evidence, within ``filters``; ``typos``: typo tolerance."""
    cands: dict[int, Candidate] = {}
    if typos and mode != "semantic" and not query.corrections:
        query.correct(index.vocabulary())
    cal = Calibration({}, None)
    if mode != "keyword" and query.vector is not None:
        cal = calibrate(index.background, query.vector, query.probs)
        for v, s in index.dense(query.vector, n, filters):
            cands[v] = Candidate(v, "", dense=s)
    if mode != "semantic":
        for lg, exclude in _keyword_languages(index.passage_languages(), filters.langs()):
            lang = lg if lg in LANGS or lg in filters.langs() else None
            for v, s in index.keyword(query.groups(lg), n, lang, exclude, filters):
                cands.setdefault(v, Candidate(v, "")).keyword = s
    for c, lang in zip(cands.values(), index.languages(list(cands)), strict=True):
        c.language = lang
    if mode == "keyword":
        return Ranking(sorted(cands.values(), key=lambda c: -c.keyword), 1.0)
    _complete(index, query.vector, cands, cal)
    if mode == "semantic":
        return Ranking(sorted(cands.values(), key=lambda c: -c.calibrated), 0.0, cal)
    found = list(cands.values())
    mixed = fusion.mixes(np.array([c.calibrated for c in found], np.float64),
                         np.array([c.keyword for c in found], np.float64), [c.language for c in found])  # fmt: skip
    if mixed:
        _mark_covering(index, query, found)
    fused, weight = fuse(found, cal.floor, len(query.words), mixed)
    return Ranking(fused, weight, cal)


def _keyword_languages(codes: list[str], langs: tuple[str, ...]) -> list[tuple[str, list[str] | None]]:
    """(passage language, languages to leave out) of each keyword search: French, English, then the rest
    (or the languages the filters allow)."""
    if langs:
        return [(lg, None) for lg in langs]
    out: list[tuple[str, list[str] | None]] = [(lg, None) for lg in LANGS if lg in codes]
    if any(c not in LANGS for c in codes):
        out.append((OTHER, list(LANGS)))
    return out


def _complete(index: IndexReader, qvec: np.ndarray | None, cands: dict[int, Candidate], cal: Calibration) -> None:
    """Cosines for keyword-only candidates, and what calibration takes off each one's."""
    missing = [c.vid for c in cands.values() if c.dense is None]
    if missing and qvec is not None:
        for v, s in zip(missing, index.cosines(qvec, missing), strict=True):
            cands[v].dense = s
    for c in cands.values():
        if c.dense is not None:
            c.offset = c.dense - cal.calibrated(c.language, c.dense)


def _mark_covering(index: IndexReader, query: Query, cands: list[Candidate]) -> None:
    """Mark the candidates in another language than the query's that match most content words of a short
    query (their keyword evidence does not fade sooner when the candidates mix languages, :mod:`kb.fusion`)."""
    if not fusion.SHORT or not query.words or len(query.words) >= fusion.SHORT:
        return
    others = [c for c in cands if c.keyword > 0 and c.language != query.language]
    rows = index.passages([c.vid for c in others]) if others else {}
    groups = {lang: query.groups(lang) for lang in {c.language for c in others}}
    for c in others:
        row = rows.get(c.vid)
        if row is not None:
            terms, g = set(row.terms.split()), groups[c.language]
            c.covers = sum(any(t in terms for t, _ in forms) for forms in g) >= fusion.COVER * len(g)


def matched_terms(query: Query, lang: str, passage_terms: set[str]) -> list[dict[str, object]]:
    """Which query words a passage matched, and through which form (for ``explain``)."""
    out = []
    for (tok, forms), group in zip(query.words, query.groups(lang), strict=True):
        hit = next(((t, w) for t, w in sorted(group, key=lambda x: -x[1]) if t in passage_terms), None)
        if hit is not None:
            fixed = hit[0] in query.corrections.get(tok, [])
            out.append({"word": tok, "term": hit[0], "translated": not fixed and hit[0] not in forms.values(),
                        "corrected": fixed, "weight": hit[1]})  # fmt: skip
    return out
