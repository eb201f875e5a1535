"""Language identification with langdetect, deterministic (fixed seed).

Passages and documents: all of langdetect's profiles, reported as ``fr``, ``en`` or another code.
Queries: a detector restricted to French and English profiles (short queries are otherwise often
misread as Danish or Italian), giving probabilities that the search fusion uses. On a short sentence
langdetect's character n-grams often err ("He loves you." read as French, "Tente ta chance !" as English, 36 of
Tatoeba's 2,000 sentences), so function words of one language only ("he", "you"; "ta", "je") weigh in too.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Any

from kb.analysis import ENGLISH_STOP, FRENCH_STOP, fold, words

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


FUNCTION_ODDS = 10.0  # each function word of only one language multiplies its odds by this
TRUST = 0.9  # langdetect's own probability is held within [1 - TRUST, TRUST] before function words weigh in


def query_language(text: str) -> dict[str, float]:
    """P(fr) and P(en) of a query; an empty dict when it has no letters."""
    probs = _probabilities(text, ("fr", "en"))
    if not probs:
        return {}
    votes = function_votes(text)
    if not votes:
        return {k: probs.get(k, 0.0) for k in ("fr", "en")}
    p = min(TRUST, max(1.0 - TRUST, probs.get("fr", 0.0)))
    logit = math.log(p / (1.0 - p)) + votes * math.log(FUNCTION_ODDS)
    p_fr = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))  # bounded: a long query has many votes
    return {"fr": p_fr, "en": 1.0 - p_fr}


def function_votes(text: str) -> int:
    """French function words minus English ones, of those in one language's stop list only (two letters or
    more: "s" of "let's" and "t" of "t'aime" say little)."""
    votes = 0
    for w in words(text):
        f = fold(w)
        if len(f) >= 2 and (f in FRENCH_STOP) != (f in ENGLISH_STOP):
            votes += 1 if f in FRENCH_STOP else -1
    return votes
