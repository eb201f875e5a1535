"""The web search page (French interface, English with ?ui=en) and the page view of a document.

Server-rendered with Jinja2 (autoescaped: no query or document text reaches the page unescaped); the only
script is /static/app.js (copy citation, keyboard shortcut), allowed by the Content-Security-Policy.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.links import links
from api.state import State
from kb.backend import IndexReader, Passage
from kb.engine import search
from kb.errors import KBError, NotFoundError
from kb.types import Filters, Hit

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

TEXT = {
    "fr": {
        "title": "Recherche — biothérapies et bioproduction", "search": "Rechercher", "placeholder":
        "Posez une question, en français ou en anglais", "all_langs": "Toutes les langues",
        "all_docs": "Tous les documents", "mode": "Mode", "hybrid": "hybride", "semantic": "sémantique",
        "keyword": "mots-clés", "results": "passages", "none": "Aucun passage trouvé.", "page": "p.",
        "open_source": "Ouvrir la source", "in_context": "Voir dans le document", "copy_citation": "Copier la citation",
        "copied": "Citation copiée", "also_in": "Aussi dans", "nodate": "s. d.", "language": "Langue",
        "document": "Document", "other_ui": "English", "next": "Suite", "prev": "Précédent",
        "back": "Retour à la recherche", "section": "Section", "filters": "Filtres",
        "hint": "Astuce : « / » place le curseur dans la recherche.",
        "why": "Pourquoi ce rang", "semantic_score": "proximité de sens", "lang_offset": "correction de langue",
        "keyword_score": "mots-clés", "weight": "poids", "matched": "mots trouvés", "passage_lang": "passage en",
        "query_lang": "question en", "none_matched": "aucun",
    },
    "en": {
        "title": "Search — biotherapies and bioproduction", "search": "Search", "placeholder":
        "Ask a question, in French or English", "all_langs": "All languages", "all_docs": "All documents",
        "mode": "Mode", "hybrid": "hybrid", "semantic": "semantic", "keyword": "keyword", "results": "passages",
        "none": "No passage found.", "page": "p.", "open_source": "Open the source", "in_context": "See in document",
        "copy_citation": "Copy citation", "copied": "Citation copied", "also_in": "Also in", "nodate": "n.d.",
        "language": "Language", "document": "Document", "other_ui": "Français", "next": "Next",
        "prev": "Previous", "back": "Back to search", "section": "Section", "filters": "Filters",
        "hint": "Tip: \"/\" puts the cursor in the search box.",
        "why": "Why this rank", "semantic_score": "semantic closeness", "lang_offset": "language correction",
        "keyword_score": "keywords", "weight": "weight", "matched": "words found", "passage_lang": "passage in",
        "query_lang": "question in", "none_matched": "none",
    },
}  # fmt: skip
PAGE_SIZE = 10


def segments(text: str, marks: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """Split ``text`` into (piece, css classes) so that marked ranges can be wrapped without raw HTML."""
    cuts = sorted({0, len(text), *(p for a, b, _ in marks for p in (a, b) if 0 <= p <= len(text))})
    out = []
    for a, b in pairwise(cuts):
        classes = " ".join(sorted({kind for s, e, kind in marks if s <= a and b <= e}))
        out.append((text[a:b], classes))
    return out


def _hit_view(hit: Hit) -> dict[str, Any]:
    marks = [(h.start, h.end, h.kind) for h in hit.highlights]
    c = hit.citation
    return {"hit": hit, "c": c, "segments": segments(hit.text, marks), "links": links(c, hit.quote()),
            "also": [(o, links(o)) for o in hit.also_in]}  # fmt: skip


MAX_DOC_OPTIONS = 300
_OPTIONS: dict[str, list[dict[str, Any]]] = {}


def _doc_options(index: IndexReader, selected: str) -> list[dict[str, Any]]:
    """The document filter's choices: the first MAX_DOC_OPTIONS titles (sorted once per generation) and the
    selected one; a page listing 100,000 documents would cost more than the search."""
    if index.generation not in _OPTIONS:
        _OPTIONS.clear()
        docs = (
            index.documents(0, MAX_DOC_OPTIONS) if index.document_count() > 10 * MAX_DOC_OPTIONS else index.documents()
        )
        _OPTIONS[index.generation] = sorted(docs, key=lambda d: d["title"].lower())[:MAX_DOC_OPTIONS]
    options = _OPTIONS[index.generation]
    doc = index.document(selected) if selected else None
    if doc is not None and all(d["doc_id"] != selected for d in options):
        options = [doc, *options]
    return options


def _ui(request: Request) -> str:
    return "en" if request.query_params.get("ui") == "en" else "fr"


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=2000)] = "",
    lang: Annotated[str, Query(max_length=3)] = "",
    doc: Annotated[str, Query(max_length=200)] = "",
    mode: Annotated[str, Query(max_length=10)] = "hybrid",
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    explain: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    state: State = request.app.state.kb
    ui = _ui(request)
    ctx: dict[str, Any] = {"request": request, "t": TEXT[ui], "ui": ui, "q": q, "lang": lang, "doc": doc,
                           "mode": mode, "hits": [], "error": None, "result": None, "offset": offset, "explain": explain,
                           "docs": _doc_options(state.live(), doc)}  # fmt: skip
    if q.strip():
        try:
            result = search(state.live(), q, k=PAGE_SIZE, mode=mode, filters=Filters(lang or None, doc or None),
                            offset=offset, max_chars=state.settings.limits.max_query_chars, explain=explain)  # fmt: skip
            ctx["result"], ctx["hits"] = result, [_hit_view(h) for h in result.hits]
        except KBError as exc:
            ctx["error"] = exc.message
    base = {
        "q": q,
        "lang": lang,
        "doc": doc,
        "mode": mode,
        **({"ui": "en"} if ui == "en" else {}),
        **({"explain": "1"} if explain else {}),
    }
    ctx["next_url"] = "/?" + urlencode(base | {"offset": offset + PAGE_SIZE})
    ctx["prev_url"] = "/?" + urlencode(base | {"offset": max(0, offset - PAGE_SIZE)})
    ctx["other_ui_url"] = "/?" + urlencode(
        {k: v for k, v in base.items() if k != "ui"} | ({} if ui == "en" else {"ui": "en"})
    )
    status = 400 if ctx["error"] else 200
    return templates.TemplateResponse(request, "search.html", ctx, status_code=status)


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    state: State = request.app.state.kb
    index = state.live()
    doc = index.document(doc_id)
    text = index.page(doc_id, page) if doc else None
    if doc is None or text is None:
        raise NotFoundError(f"no document {doc_id[:100]!r} page {page}", field="doc_id")
    chunks = index.page_passages(doc_id, page)
    n_pages = doc["n_pages"]
    ui = _ui(request)
    ctx = {"request": request, "t": TEXT[ui], "ui": ui, "doc": doc, "page": page, "n_pages": n_pages,
           "blocks": _blocks(text, chunks)}  # fmt: skip
    return templates.TemplateResponse(request, "document.html", ctx)


def _blocks(text: str, chunks: list[Passage]) -> list[dict[str, Any]]:
    """The page as a sequence of passages (each anchored #c<seq>) and the text between them."""
    out: list[dict[str, Any]] = []
    pos = 0
    for c in sorted(chunks, key=lambda c: c.start):
        start = max(c.start, pos)
        if start > pos:
            out.append({"id": None, "text": text[pos:start]})
        if c.end > start:
            out.append({"id": f"c{c.seq}", "text": text[start : c.end], "section": c.section})
        pos = max(pos, c.end)
    if pos < len(text):
        out.append({"id": None, "text": text[pos:]})
    return out
