"""What the results page shows, made from kb's search result: hits grouped by document, snippets with their
marks, facet values as links that add or remove a filter, and the page's URLs (every state is in the URL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import quote, urlencode

from api.links import links
from kb.backend import IndexReader
from kb.types import Hit, SearchResult

FACET_PARAMS = {"document": "doc", "publisher": "publisher", "year": "year", "language": "lang"}


def segments(
    text: str, marks: list[tuple[int, int, str]], start: int = 0, end: int | None = None
) -> list[tuple[str, str]]:
    """``text[start:end]`` split into (piece, css classes) so that marked ranges can be wrapped without raw HTML."""
    end = len(text) if end is None else end
    cuts = sorted({start, end, *(p for a, b, _ in marks for p in (a, b) if start <= p <= end)})
    out = []
    for a, b in pairwise(cuts):
        classes = " ".join(sorted({kind for s, e, kind in marks if s <= a and b <= e}))
        out.append((text[a:b], classes))
    return out


@dataclass
class State:
    """The page's URL state: the query, its filters (several values each), mode and options."""

    q: str = ""
    params: dict[str, list[str]] = field(default_factory=dict)
    ui: str = "fr"

    def url(self, path: str = "/", **change: Any) -> str:  # values: a string, or a list for several
        items = [("q", self.q)] + [(k, v) for k, vs in self.params.items() for v in vs]
        items = [(k, v) for k, v in items if k not in change] + [
            (k, x) for k, v in change.items() for x in (v if isinstance(v, list) else [v]) if x not in ("", None)
        ]
        if self.ui == "en":
            items.append(("ui", "en"))
        return path + "?" + urlencode([(k, v) for k, v in items if v not in ("", None)])

    def toggled(self, param: str, value: str) -> str:
        """This page with ``value`` of ``param`` added or removed (back to the first results)."""
        now = self.params.get(param, [])
        new: list[str] = [v for v in now if v != value] if value in now else [*now, value]
        change: dict[str, Any] = {param: new, "offset": ""}
        return self.url(**change)

    def selected(self, param: str, value: str) -> bool:
        return value in self.params.get(param, [])


def hit_view(hit: Hit, state: State) -> dict[str, Any]:
    marks = [(h.start, h.end, h.kind) for h in hit.highlights]
    c = hit.citation
    best = next(((h.start, h.end) for h in hit.highlights if h.kind == "sentence"), None)
    a, b = hit.snippet or (0, len(hit.text))
    lk = links(c, hit.quote(), best)
    context = lk["context"].replace("#", f"&{urlencode({'q': state.q})}#", 1) if state.q else lk["context"]
    if state.ui == "en":
        context = context.replace("#", "&ui=en#", 1)
    return {"hit": hit, "c": c, "snippet": segments(hit.text, marks, a, b), "cut_before": a > 0,
            "cut_after": b < len(hit.text), "full": segments(hit.text, marks), "source": lk["source"],
            "context": context, "also": [(o, links(o)) for o in hit.also_in]}  # fmt: skip


def grouped(hits: list[Hit], state: State) -> list[dict[str, Any]]:
    """Hits of the same document together, under the first one, in the order of their best hit."""
    groups: dict[str, dict[str, Any]] = {}
    for h in hits:
        view = hit_view(h, state)
        if h.doc_id in groups:
            groups[h.doc_id]["more"].append(view)
        else:
            groups[h.doc_id] = {"first": view, "more": []}
    return list(groups.values())


def facet_views(result: SearchResult, index: IndexReader, state: State, t: dict[str, str]) -> list[dict[str, Any]]:
    """Each facet with its values: label, count, whether selected, and the link that toggles it."""
    out = []
    for name, counts in result.facets.items():
        param = FACET_PARAMS[name]
        values = list(counts.items())
        for v in state.params.get(param, []):  # a selected value stays visible even when nothing matches it
            if v not in counts:
                values.append((v, 0))
        items = [{"label": _label(name, v, index, t), "count": n, "selected": state.selected(param, v),
                  "url": state.toggled(param, v)} for v, n in values]  # fmt: skip
        if items:
            out.append({"name": name, "title": t.get(name, name), "options": items})
    return out


def _label(facet: str, value: str, index: IndexReader, t: dict[str, str]) -> str:
    if facet == "document":
        doc = index.document(value)
        return str(doc["title"]) if doc else value
    if facet == "language":
        return t.get(value, value)
    return value


def export_urls(state: State) -> dict[str, str]:
    return {fmt: state.url("/api/v1/search", format=fmt, offset="", explain="", ui="") for fmt in ("csv", "ris")}


def document_url(doc_id: str, page: int, state: State) -> str:
    return state.url(f"/documents/{quote(doc_id, safe='')}", page=str(page))
