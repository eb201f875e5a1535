"""The French–English keyword lexicon: dictionary-based query translation for the keyword side of search.

An English question rarely shares words with the French passage that answers it ("months" / "mois"), so BM25
alone favours English passages on the same topic. The keyword side therefore also looks for each query word's
translations: ``kb/data/lexicon-fr-en.tsv`` pairs analysed terms (folded Snowball stems, as the keyword index
stores them) with their translation probabilities, learned by ``bench/build_lexicon.py`` (IBM Model 1) from the
dev halves of the aligned Europarl and Tatoeba pairs. Loaded once, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

MIN_PROB = 0.1  # translations less likely than this are left out
MIN_WEIGHT = 0.01


@dataclass(frozen=True)
class Lexicon:
    en_fr: dict[str, tuple[tuple[str, float], ...]]
    fr_en: dict[str, tuple[tuple[str, float], ...]]

    def translate(self, term: str, source: str) -> tuple[tuple[str, float], ...]:
        """(term in the other language, probability) for an analysed ``term`` of language ``source``."""
        table = self.en_fr if source == "en" else self.fr_en if source == "fr" else {}
        return table.get(term, ())

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.en_fr.values())


def parse(text: str) -> Lexicon:
    en_fr: dict[str, list[tuple[str, float]]] = {}
    fr_en: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        en, fr, p_fr, p_en = line.split("\t")[:4]
        if float(p_fr) >= MIN_PROB:
            en_fr.setdefault(en, []).append((fr, float(p_fr)))
        if float(p_en) >= MIN_PROB:
            fr_en.setdefault(fr, []).append((en, float(p_en)))

    def freeze(d: dict[str, list[tuple[str, float]]]) -> dict[str, tuple[tuple[str, float], ...]]:
        return {k: tuple(sorted(v, key=lambda x: -x[1])) for k, v in d.items()}

    return Lexicon(freeze(en_fr), freeze(fr_en))


@lru_cache(maxsize=1)
def default() -> Lexicon:
    return parse(resources.files("kb").joinpath("data/lexicon-fr-en.tsv").read_text(encoding="utf-8"))


Group = list[tuple[str, float]]


def query_groups(words: list[tuple[str, dict[str, str]]], probs: dict[str, float], lang: str,
                 lexicon: Lexicon | None = None) -> list[Group]:  # fmt: skip
    """The keyword query for passages in ``lang``: one group per query word, of which the best-matching form
    counts — the word as written (its French and English analyses: names, numbers and cognates such as
    "bioproduction" match in any language) and its translations into ``lang``, each weighted by the
    probability that the query is in the source language times the translation's share of the best one."""
    lex = lexicon or default()
    groups = []
    for _tok, forms in words:
        weights = dict.fromkeys(forms.values(), 1.0)
        for src, term in forms.items():
            if src == lang or lang not in ("fr", "en"):
                continue
            trans = lex.translate(term, src)
            p_src = probs.get(src, 0.5)
            for t, pr in trans:
                w = p_src * pr / trans[0][1]
                if w > weights.get(t, 0.0) and w >= MIN_WEIGHT:
                    weights[t] = w
        groups.append(list(weights.items()))
    return groups
