"""Hybrid fusion of semantic and keyword evidence that gives no passage an advantage for its language.

Each candidate passage has a cosine with the query, calibrated for its language (:mod:`kb.calibration`), and a
BM25 score against the query *as it would be written in the passage's language* — its own words plus their
lexicon translations (:func:`kb.lexicon.query_groups`) — so that an English question can match "mois" in a
French decree as well as "months" in an English article. Then

    score = dense_norm + WEIGHT · adapt · keyword_norm
    adapt = max(0, 1 − standout / limit)      when the best candidates mix languages, else 1
    standout = (best − second best calibrated cosine) / (best − floor)
    limit = STANDOUT · min(1, content words of the query / SHORT)

where dense_norm is the calibrated cosine min-max normalised over the candidates, keyword_norm the BM25
divided by the best one, and floor the calibrated cosine of an unrelated passage (the background median).
Keyword evidence is not equally reliable across languages: a passage in the query's language matches its
words, one in another language only those the lexicon translates or that are spelt alike. So when the
best candidates mix languages (the MIXED_TOP best by either score: a French passage that only the keyword
side brings up counts, a stray German paragraph far down the list does not), ``adapt`` lets keyword
evidence re-order them while the dense side hesitates and fades it as one passage stands clearly above the
rest: on the split benchmarks a dense top-1 standing out by
0.4 of its distance to the floor was right 98–100 % of the time, one standing out by less than 0.05 only
18–48 %. A short query fades it sooner: with two to five content words (Tatoeba's sentences, like short
questions) one shared or translated word says little, and on the dev halves SHORT = 14 was the value tried
(0, 8, 14) that kept hybrid at or above semantic in both directions of both split sets — except for a passage
in another language than the query's that matches at least COVER of its content words (``covers``:
"antibodies, vaccines and recombinant proteins" against "protéines recombinantes, anticorps, vaccins"), which
through translations and cognates rarely happens by chance: it keeps the plain limit. Within one language
keyword evidence always counts in full.
What was tried, with its numbers, is in the README ("Ranking on mixed-language collections").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEIGHT = 0.5
STANDOUT = 0.6
COVER = 0.75  # share of a short query's content words a passage in another language must match to keep its
# keyword evidence
SHORT = 14  # content words under which keyword evidence fades sooner across languages (0: never)


@dataclass
class Candidate:
    """One passage's evidence for one query (kept for ``explain``)."""

    vid: int
    language: str
    dense: float | None = None  # cosine
    offset: float = 0.0  # what language calibration took off it
    keyword: float = 0.0  # BM25 of the query in the passage's language
    dense_norm: float = 0.0
    keyword_norm: float = 0.0
    weight: float = 0.0  # what its keyword evidence counts for
    covers: bool = False  # in another language than the query's, it matches most content words of the query
    score: float = 0.0

    @property
    def calibrated(self) -> float:
        return (self.dense or 0.0) - self.offset


MIXED_TOP = 10


def mixes(calibrated: np.ndarray, keyword: np.ndarray, languages: list[str]) -> bool:
    """Whether the MIXED_TOP best candidates by calibrated cosine and by keyword score hold two languages."""
    top = set(np.argsort(-calibrated, kind="stable")[:MIXED_TOP].tolist())
    if keyword.size and keyword.max() > 0:
        top |= set(np.argsort(-keyword, kind="stable")[:MIXED_TOP].tolist())
    return len({languages[i] for i in top}) >= 2


def keyword_weight(calibrated: np.ndarray, floor: float | None, mixed: bool = True,
                   n_words: int | None = None) -> float:  # fmt: skip
    """WEIGHT, faded as the best dense candidate stands out from the second when the best candidates mix
    languages (``mixed``), sooner under SHORT content words (``n_words``; None: never sooner)."""
    if calibrated.size < 2 or not mixed:
        return WEIGHT
    second, best = np.sort(calibrated)[-2:]
    base = floor if floor is not None else float(calibrated.min())
    if best <= base:
        return WEIGHT
    limit = STANDOUT * (min(1.0, n_words / SHORT) if SHORT and n_words is not None else 1.0)
    standout = float(best - second) / float(best - base)
    return WEIGHT * max(0.0, 1.0 - standout / limit) if limit > 0 else 0.0


def fuse(cands: list[Candidate], floor: float | None, n_words: int | None = None,
         mixed: bool | None = None) -> tuple[list[Candidate], float]:  # fmt: skip
    """Candidates best first, and the keyword weight for this query's candidates (``n_words``: its content
    words; a ``covers`` candidate's weight does not fade sooner for a short query; ``mixed``: whether the best
    candidates mix languages, if the caller already knows)."""
    if not cands:
        return [], WEIGHT
    d = np.array([c.calibrated for c in cands], np.float64)
    span = float(d.max() - d.min())
    d_norm = (d - d.min()) / span if span > 0 else np.ones_like(d)
    kw = np.array([c.keyword for c in cands], np.float64)
    k_norm = kw / kw.max() if kw.max() > 0 else kw
    if mixed is None:
        mixed = mixes(d, kw, [c.language for c in cands])
    weight = keyword_weight(d, floor, mixed, n_words)
    covering = keyword_weight(d, floor, mixed) if any(c.covers for c in cands) else weight
    for c, a, b in zip(cands, d_norm, k_norm, strict=True):
        c.weight = covering if c.covers else weight
        c.dense_norm, c.keyword_norm, c.score = float(a), float(b), float(a + c.weight * b)
    return sorted(cands, key=lambda c: -c.score), weight


def soften(probs: dict[str, float], n_words: int) -> dict[str, float]:
    """Shrink language probabilities toward even for very short queries, where langdetect over-claims."""
    trust = min(1.0, n_words / 4)
    return {k: 0.5 + (p - 0.5) * trust for k, p in probs.items()}
