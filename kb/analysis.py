"""French and English keyword analysis: folding, elision, stop words, Snowball stemming.

A passage is analysed in its own language; a query in both (its terms are the union), so that a
French word in an English question still matches French text. Terms are plain ASCII words, which the
keyword index stores as pre-analysed whitespace-separated text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_ELISION = re.compile(r"\b(?:l|d|qu|j|n|s|c|m|t|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_FOLD = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'"})

FRENCH_STOP = frozenset(
    """
    a au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur
    leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses
    son sur ta te tes toi ton tu un une vos votre vous c d j l m n s t y ete etre est sont ai as
    avons avez ont etait etaient fut sera seront sont suis es sommes etes ceci cela ca celui celle
    ceux celles dont donc or ni car quel quelle quels quelles si tres plus moins aussi ainsi comme
    tout tous toute toutes autre autres lorsque quand alors apres avant entre sous vers chez sans
    selon afin parce puis deja encore
    """.split()  # noqa: SIM905
)
ENGLISH_STOP = frozenset(
    """
    a an and are as at be been being but by can could did do does doing for from had has have having
    he her here hers him his how i if in into is it its itself me my no nor not of off on once only
    or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours also about above after again against all am
    any because before below between both down during each few further more most many much must
    can cannot don doesn didn isn aren wasn weren hasn haven hadn won wouldn shouldn couldn ll ve re
    """.split()  # noqa: SIM905
)
LANGS = ("fr", "en")
_STOP = {"fr": FRENCH_STOP, "en": ENGLISH_STOP}
_SNOWBALL = {"fr": "french", "en": "english"}


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(_SNOWBALL[lang])


@lru_cache(maxsize=1 << 17)  # words repeat (Zipf): indexing a passage folds each token twice
def fold(word: str) -> str:
    """Lower case, œ/æ spelled out, accents removed."""
    word = unicodedata.normalize("NFD", word.lower().translate(_FOLD))
    return "".join(ch for ch in word if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Lower-cased word tokens, French elisions (l', d', qu'…) removed."""
    return [m.group(0).lower() for m in _TOKEN.finditer(_ELISION.sub(" ", text))]


_ELIDED = re.compile(r"(?:l|d|qu|j|n|s|c|m|t|jusqu|lorsqu|puisqu|quoiqu)['’]", re.I)


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each token in the original text, for term highlights."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group(0)
        start = m.start()
        prefix = _ELIDED.match(text, start)
        if prefix and len(w) <= 6 and text[m.end() : m.end() + 1] in "'’":
            continue  # the elided article itself
        out.append((start, m.end(), w))
    return out


def terms(text: str, lang: str) -> list[str]:
    """Analysed terms of ``text`` in ``lang`` (fr/en; other languages use light, unstemmed folding)."""
    toks = words(text)
    stop = _STOP.get(lang)
    if stop is None:
        return [fold(t) for t in toks if t]
    stem = _stemmer(lang).stemWords
    kept = [t for t in toks if fold(t) not in stop]
    return [fold(s) for s in stem(kept) if s]


def query_terms(text: str) -> list[str]:
    """Unique terms of a query analysed in French and in English (stop words of either dropped)."""
    stop = FRENCH_STOP | ENGLISH_STOP
    toks = [t for t in words(text) if fold(t) not in stop]
    seen: dict[str, None] = {}
    for lang in LANGS:
        for s in _stemmer(lang).stemWords(toks):
            if s:
                seen.setdefault(fold(s), None)
    return list(seen)


def query_words(text: str) -> list[tuple[str, dict[str, str]]]:
    """Each distinct content word of a query, with its analysed form in French and in English."""
    stop = FRENCH_STOP | ENGLISH_STOP
    toks = list(dict.fromkeys(t for t in words(text) if fold(t) not in stop))
    forms = {lang: [fold(s) for s in _stemmer(lang).stemWords(toks)] for lang in LANGS}
    out = [(tok, {lang: forms[lang][i] for lang in LANGS if forms[lang][i]}) for i, tok in enumerate(toks)]
    return [(tok, f) for tok, f in out if f]


def analyze_passage(text: str, lang: str) -> str:
    """Whitespace-joined terms as stored in the keyword index (French analysis for unknown languages)."""
    return " ".join(terms(text, lang if lang in _STOP else "fr"))
