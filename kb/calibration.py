"""Language calibration of dense scores: no passage ranks higher for sharing the query's language.

Multilingual embedders give a query a higher cosine with *any* passage of its own language: e5-small, on
Europarl, +0.012 (English queries) to +0.024 (French queries) on the median, about one standard deviation of
the background. For each query kb measures the median cosine to a fixed sample of passages of each language
(its *background*) and subtracts each language's excess over the lowest.

The sample comes from the collection when each of its French and English parts has at least
``COLLECTION_MIN`` passages. Smaller ones (the first few documents of a collection) use the model's *reference
background* when kb ships one (``kb/data/background-<model>.npz``: 256 French and 256 English passage vectors
of Europarl's dev half, built by ``bench/build_background.py``), else the languages that have at least
``SAMPLE_MIN`` passages. The same background gives the fusion its *floor*: the score of
an unrelated passage, below which dense evidence means nothing.

Subtracting the median leaves part of the lift in place near the answer, where it grows with topical
closeness: on the split benchmarks' dev halves a query's own language still scored +0.028 (English) and
+0.014 (French) at the relevant passages after the median was taken off (``bench/language_lift.py``). So
each language's distance above its median is also shrunk by the probability that the query is in that
language: ``calibrated = floor + (cosine − median) / (1 + LIFT · P(query language = passage language))``.
LIFT was chosen on the dev halves (0.1–0.3 tried, see the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

SAMPLE_SIZE = 256
COLLECTION_MIN = 64
SAMPLE_MIN = 8
REFERENCE_SIZE = 256
REFERENCE_LANGS = ("fr", "en")
LIFT = 0.2


@dataclass(frozen=True)
class Background:
    """Sample passage vectors per language, and where they come from (collection, reference or none)."""

    samples: dict[str, np.ndarray]
    source: str

    def medians(self, qvec: np.ndarray) -> dict[str, float]:
        return {lang: float(np.median(s @ qvec)) for lang, s in self.samples.items()}


def reference_path(model: str) -> str:
    return f"data/background-{re.sub(r'[^A-Za-z0-9._-]+', '-', model.rsplit('/', 1)[-1])}.npz"


@lru_cache(maxsize=4)
def reference(model: str, dim: int) -> dict[str, np.ndarray] | None:
    """The shipped reference background of ``model``, if kb has one for it."""
    path = resources.files("kb").joinpath(reference_path(model))
    if not path.is_file():
        return None
    with path.open("rb") as f, np.load(f, allow_pickle=False) as data:
        if str(data["model"]) != model:
            return None
        out = {lang: np.ascontiguousarray(data[lang], dtype=np.float32) for lang in REFERENCE_LANGS}
    return out if all(v.shape[1] == dim for v in out.values()) else None


def for_small_collection(counts: dict[str, int], model: str, dim: int) -> Background | None:
    """The model's reference background when the collection's French or English part is too small for its own
    (None: sample the collection)."""
    main = [lang for lang in REFERENCE_LANGS if counts.get(lang, 0)]
    if main and min(counts[lang] for lang in main) < COLLECTION_MIN:
        ref = reference(model, dim)
        if ref is not None:
            return Background(ref, "reference")
    return None


def select(langs: list[str], chunk_lang: np.ndarray, vectors: np.ndarray, model: str) -> Background:
    """The background for a collection whose passage ``i`` is in ``langs[chunk_lang[i]]``."""
    counts = {lang: int(np.count_nonzero(chunk_lang == code)) for code, lang in enumerate(langs)}
    small = for_small_collection(counts, model, vectors.shape[1])
    if small is not None:
        return small
    rng = np.random.default_rng(0)
    samples = {}
    for code, lang in enumerate(langs):
        vids = np.flatnonzero(chunk_lang == code)
        if vids.size >= SAMPLE_MIN:
            pick = np.sort(rng.choice(vids, min(SAMPLE_SIZE, vids.size), replace=False))
            samples[lang] = np.ascontiguousarray(vectors[pick], dtype=np.float32)
    return Background(samples, "collection" if samples else "none")


@dataclass(frozen=True)
class Calibration:
    """For one query: each passage language's background median, how much its cosines are shrunk toward it,
    and the calibrated floor (the lowest median)."""

    medians: dict[str, float]
    floor: float | None
    shrink: dict[str, float] = field(default_factory=dict)

    def calibrated(self, lang: str, cosine: float) -> float:
        """The cosine with this language's advantage for the query taken off."""
        if self.floor is None or lang not in self.medians:
            return cosine
        return self.floor + (cosine - self.medians[lang]) * self.shrink.get(lang, 1.0)


def calibrate(background: Background, qvec: np.ndarray, probs: dict[str, float] | None = None) -> Calibration:
    """``probs``: the query's language probabilities (None: no shrinking)."""
    if not background.samples:
        return Calibration({}, None)
    medians = background.medians(qvec)
    shrink = {lang: 1.0 / (1.0 + LIFT * (probs or {}).get(lang, 0.0)) for lang in medians}
    return Calibration(medians, min(medians.values()), shrink)
