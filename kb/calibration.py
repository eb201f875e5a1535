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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

SAMPLE_SIZE = 256
COLLECTION_MIN = 64
SAMPLE_MIN = 8
REFERENCE_SIZE = 256
REFERENCE_LANGS = ("fr", "en")


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
    """For one query: what to subtract from each passage language's cosines, and the calibrated floor."""

    offsets: dict[str, float]
    floor: float | None

    def offset(self, lang: str) -> float:
        return self.offsets.get(lang, 0.0)


def calibrate(background: Background, qvec: np.ndarray) -> Calibration:
    if not background.samples:
        return Calibration({}, None)
    medians = background.medians(qvec)
    low = min(medians.values())
    offsets = {lang: m - low for lang, m in medians.items()}
    return Calibration(offsets, low)
