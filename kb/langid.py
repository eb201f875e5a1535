"""Language identification with langdetect, deterministic (fixed seed).

Passages and documents: all of langdetect's profiles, reported as ``fr``, ``en`` or another code.
Queries: a detector restricted to French and English profiles (short queries are otherwise often
misread as Danish or Italian), giving probabilities that the search fusion uses.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()
SEED = 0


@lru_cache(maxsize=2)
def _factory(langs: tuple[str, ...] | None) -> Any:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.seed = SEED
    if langs is None:
        factory.load_profile(PROFILES_DIRECTORY)
    else:
        import os

        profiles = []
        for lang in langs:
            with open(os.path.join(PROFILES_DIRECTORY, lang), encoding="utf-8") as f:
                profiles.append(f.read())
        factory.load_json_profile(profiles)
    return factory


def _probabilities(text: str, langs: tuple[str, ...] | None) -> dict[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    with _LOCK:
        detector = _factory(langs).create()
        detector.append(text[:5000])
        try:
            return {p.lang: p.prob for p in detector.get_probabilities()}
        except LangDetectException:
            return {}


def detect(text: str) -> str:
    """The language code of a passage or document ("" when there is nothing to judge)."""
    probs = _probabilities(text, None)
    return max(probs, key=lambda k: probs[k]) if probs else ""


OVERRIDE_CHARS = 200
OVERRIDE_PROB = 0.95


def passage_language(text: str, declared: str) -> str:
    """A passage's language: the document's declared one unless the passage is long enough and clearly
    in another language (an English abstract in a French report); short passages are often misread."""
    if len(text) < OVERRIDE_CHARS:
        return declared
    probs = _probabilities(text, None)
    best = max(probs, key=lambda k: probs[k]) if probs else declared
    return best if probs.get(best, 0.0) >= OVERRIDE_PROB else declared


def query_language(text: str) -> dict[str, float]:
    """P(fr) and P(en) of a query; an empty dict when it has no letters."""
    probs = _probabilities(text, ("fr", "en"))
    return {k: probs.get(k, 0.0) for k in ("fr", "en")} if probs else {}
