"""Where a person reads a passage: this service's page view, and the source at that place.

Built here, in the web layer, from a citation: kb knows documents, pages and spans, not this service's URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as q

from kb.types import Citation, Hit


def links(c: Citation, quote: str = "", sentence: tuple[int, int] | None = None) -> dict[str, str]:
    """``context``: the page view with the passage marked (and its best ``sentence``, offsets in the passage,
    singled out); ``source``: the stored PDF at ``#page=N`` when there is one, else the source URL with a text
    fragment (``#:~:text=``) of ``quote`` so that browsers that support it scroll to the passage, else the
    page view."""
    page = c.page or 1
    seq = c.chunk_id.rsplit("#", 1)[-1]
    hl = f"&hl={c.start + sentence[0]}-{c.start + sentence[1]}" if sentence else ""
    context = f"/documents/{q(c.doc_id, safe='')}?page={page}&c={seq}{hl}#c{seq}"
    if c.has_file:
        source = f"/files/{q(c.doc_id, safe='')}#page={page}"
    elif c.source_url:
        words = " ".join(quote.split()[:8])
        source = c.source_url + (f"#:~:text={q(words, safe='')}" if words else "")
    else:
        source = context
    return {"context": context, "source": source}


def hit_json(hit: Hit) -> dict[str, Any]:
    """A hit as the API returns it: kb's hit with the links of its citation and of its other sources."""
    d = hit.to_dict()
    best = next(((h.start, h.end) for h in hit.highlights if h.kind == "sentence"), None)
    d["citation"]["links"] = links(hit.citation, hit.quote(), best)
    for other, c in zip(d["also_in"], hit.also_in, strict=True):
        other["links"] = links(c)
    return d
