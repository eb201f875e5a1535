"""Text helpers shared by loaders and the chunker: normalisation and sentence spans."""

from __future__ import annotations

import re
import unicodedata

LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\ufeff\ufffe\uffff]")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")  # symbol-font bullets in PDFs

# Words after which a period does not end a sentence (lower-cased, without the period).
ABBREVIATIONS = frozenset(
    """
    m mm mme mmes mlle mlles dr pr me mgr st ste cf etc art al éd ed p pp ex vol chap fig n no nos
    janv févr fév avr juil sept oct nov déc env resp hab tél tel min max av apr j.-c mr mrs ms prof
    jr sr inc ltd co corp dept approx vs e.g i.e viz jan feb mar apr jun jul aug sep dec
    """.split()  # noqa: SIM905
)

_BOUNDARY = re.compile(r"[.!?…]+[»”\"')\]]*(?=\s)|\n\s*\n|(?<=[:;])\n|\n(?=\s*(?:[-•–*]|\d+[.)])\s)")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def clean(text: str) -> str:
    """NFC, ligatures spelled out, control characters dropped, line ends unified."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text.translate(LIGATURES))
    return _PRIVATE_USE.sub("•", _CONTROL.sub("", text))


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _ends_with_abbreviation(text: str, end: int) -> bool:
    """True when the period at text[end-1] closes an abbreviation or an initial ("M.", "art.", "J.")."""
    if end == 0 or text[end - 1] != ".":
        return False
    m = re.search(r"([\w.\-]+)\.$", text[max(0, end - 20) : end])
    if not m:
        return False
    word = m.group(1).lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of ``text[start:end]``, stripped of surrounding whitespace.

    A sentence ends at . ! ? … followed by white space (not after an abbreviation, an initial or before a
    lower-case word), at a blank line, at a line ending in ':' or ';' and before a list item.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cur = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        if m.group(0)[0] in ".!?…":
            nxt = re.match(r"\s*(\S)", text[stop:end])
            if _ends_with_abbreviation(text, m.start() + 1) and m.group(0) == ".":
                continue
            if nxt and nxt.group(1).islower():
                continue
        _append(text, spans, cur, stop)
        cur = stop
    _append(text, spans, cur, end)
    return spans


def _append(text: str, spans: list[tuple[int, int]], a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


def slugify(value: str, max_len: int = 60) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    value = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-").lower()
    return value[:max_len].strip("-") or "doc"
