"""HTML: the main text with trafilatura (no navigation, scripts or banners), title, headings as sections."""

from __future__ import annotations

import re

from kb.errors import NoTextError
from kb.loaders.text import decode, markdown_document
from kb.types import Document

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def html_document(name: str, data: bytes) -> Document:
    import trafilatura

    html = decode(name, data)
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        favor_recall=True,
        deduplicate=False,
    )
    if not text or not text.strip():
        raise NoTextError(f"{name}: no main text found in this HTML page", field=name)
    meta = trafilatura.extract_metadata(html)
    doc = markdown_document(name, text, kind="html")
    m = _TITLE.search(html[:200_000])
    tag_title = re.sub(r"\s+", " ", m.group(1)).strip() if m else ""
    doc.title = (meta.title if meta and meta.title else "") or tag_title or doc.title
    doc.date = meta.date if meta and meta.date else None
    return doc
