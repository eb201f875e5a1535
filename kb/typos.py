"""Typo tolerance for the keyword side: a query word the collection does not know is matched to the known words
it is one edit away from (five letters or more) or two (nine or more), as Meilisearch and Typesense do.

The vocabulary is every folded word of five letters or more in the passages, with the analysed term it is
indexed as; it is written with the index (``vocab.tsv``). A correction counts at ``WEIGHT`` of an exact match,
so an exact match outranks a corrected one. Edits are counted by optimal string alignment (a swap of two
neighbouring letters is one edit), with rapidfuzz, over the words of similar length only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kb.analysis import fold, terms, words

MIN_LETTERS, TWO_EDITS = 5, 9
WEIGHT = 0.5
MAX_CORRECTIONS = 3
FILE = "vocab.tsv"


def max_edits(word: str) -> int:
    return 2 if len(word) >= TWO_EDITS else 1 if len(word) >= MIN_LETTERS else 0


@dataclass
class Vocabulary:
    """Known words → their indexed term, and how many passages hold each."""

    stems: dict[str, str] = field(default_factory=dict)
    df: Counter[str] = field(default_factory=Counter)
    _by_length: dict[int, list[str]] | None = None

    def add(self, text: str, lang: str) -> None:
        seen = {fold(w) for w in words(text) if len(w) >= MIN_LETTERS}
        for w in seen:
            if w not in self.stems:
                stem = terms(w, lang if lang in ("fr", "en") else "fr")
                if not stem:
                    continue
                self.stems[w] = stem[0]
            self.df[w] += 1
        self._by_length = None

    def corrections(self, word: str) -> list[tuple[str, str]]:
        """(known word, its term) for an unknown ``word``, closest and most frequent first."""
        from rapidfuzz import distance, process

        w = fold(word)
        edits = max_edits(w)
        if not edits or w in self.stems or not w.isalpha():
            return []
        if self._by_length is None:
            self._by_length = {}
            for known in self.stems:
                self._by_length.setdefault(len(known), []).append(known)
        near = [k for n in range(len(w) - edits, len(w) + edits + 1) for k in self._by_length.get(n, [])]
        found = process.extract(w, near, scorer=distance.OSA.distance, score_cutoff=edits, limit=None)
        found.sort(key=lambda x: (x[1], -self.df[x[0]]))
        return [(k, self.stems[k]) for k, _, _ in found[:MAX_CORRECTIONS]]

    def save(self, path: Path) -> None:
        lines = (f"{w}\t{self.stems[w]}\t{self.df[w]}\n" for w in sorted(self.stems))
        path.write_text("".join(lines), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary | None:
        if not path.is_file():
            return None  # an index written before typo tolerance: exact matches only
        vocab = cls()
        for line in path.read_text(encoding="utf-8").splitlines():
            w, stem, n = line.split("\t")
            vocab.stems[w], vocab.df[w] = stem, int(n)
        return vocab

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str]]) -> Vocabulary:
        """The vocabulary of (text, language) passages."""
        vocab = cls()
        for text, lang in rows:
            vocab.add(text, lang)
        return vocab
