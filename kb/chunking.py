"""Passages of about 150–300 words that end at sentence boundaries, with exact character spans.

Chunks never cross a document, a page or a section heading; consecutive chunks share
``overlap_sentences`` sentence(s). A sentence longer than ``max_words`` is cut at word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kb.settings import ChunkParams
from kb.textutil import count_words, sentence_spans
from kb.types import Chunk, Document, Page

_WORD_SPAN = re.compile(r"\S+")


def chunk(doc: Document, params: ChunkParams | None = None) -> list[Chunk]:
    """The chunks of ``doc``; each chunk's text is ``page.text[start:end]`` of its page."""
    params = params or ChunkParams()
    out: list[Chunk] = []
    for page in doc.pages:
        for section, a, b in _segments(page):
            for start, end in _pack(page.text, a, b, params):
                seq = len(out)
                out.append(
                    Chunk(
                        chunk_id=f"{doc.doc_id}#{seq}",
                        doc_id=doc.doc_id,
                        seq=seq,
                        page=page.n,
                        start=start,
                        end=end,
                        text=page.text[start:end],
                        section=section,
                    )
                )
    return out


def _segments(page: Page) -> Iterator[tuple[str, int, int]]:
    """(section title, start, end) of the stretches of the page between headings.

    A heading with no text of its own (followed at once by another heading) joins the next stretch.
    """
    titles = {s.start: s.title for s in page.sections if 0 <= s.start < len(page.text)}
    starts = [0, *sorted(b for b in titles if b > 0)]
    title, carry = titles.get(0, ""), None
    for i, a in enumerate(starts):
        b = starts[i + 1] if i + 1 < len(starts) else len(page.text)
        title = titles.get(a, title)
        body = page.text[a:b].strip()
        if i + 1 < len(starts) and (not body or body == title):
            carry = a if carry is None else carry
            continue
        yield title, (a if carry is None else carry), b
        carry = None


def _pieces(text: str, a: int, b: int, max_words: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, words); over-long ones cut into windows of ``max_words`` words."""
    out: list[tuple[int, int, int]] = []
    for s, e in sentence_spans(text, a, b):
        n = count_words(text[s:e])
        if n <= max_words:
            out.append((s, e, n))
            continue
        words = list(_WORD_SPAN.finditer(text, s, e))
        for i in range(0, len(words), max_words):
            w = words[i : i + max_words]
            out.append((w[0].start(), w[-1].end(), count_words(text[w[0].start() : w[-1].end()])))
    return out


def _pack(text: str, a: int, b: int, p: ChunkParams) -> Iterator[tuple[int, int]]:
    pieces = _pieces(text, a, b, p.max_words)
    i = 0
    while i < len(pieces):
        j, words = i, 0
        while j < len(pieces) and (words < p.target_words) and words + pieces[j][2] <= p.max_words:
            words += pieces[j][2]
            j += 1
        j = max(j, i + 1)
        rest = sum(x[2] for x in pieces[j:])
        if 0 < rest < p.min_words // 2 and words + rest <= p.max_words:
            j = len(pieces)  # fold a short tail into this chunk rather than leave a scrap
        yield pieces[i][0], pieces[j - 1][1]
        if j >= len(pieces):
            break
        i = max(i + 1, j - p.overlap_sentences)
