"""The web search page (French interface, English with ?ui=en) and the page view of a document.

Server-rendered with Jinja2 (autoescaped: no query or document text reaches the page unescaped); the only
script is /static/app.js (copy citation, keyboard shortcut, focus, best sentences), allowed by the
Content-Security-Policy. Everything works without it: passages open with <details>, facets are links, the
state is in the URL. The results come first with the best sentences their matched words decide
(``highlight=terms``: no model run); the script then asks for the same page with ``highlight=auto`` and takes
the model's best sentences of the first hits from it, so nobody waits for them to see results.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from api.auth import COOKIE, SESSION_S
from api.state import State
from api.texts import TEXT
from api.views import State as PageState
from api.views import document_url, export_urls, facet_views, grouped, segments
from kb.backend import IndexReader, Passage
from kb.engine import search
from kb.errors import KBError, NotFoundError
from kb.facets import FACETS
from kb.types import Filters

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGE_SIZE = 10
MAX_DOC_OPTIONS = 300
MULTI = ("lang", "doc", "publisher", "year")
_OPTIONS: dict[str, list[tuple[dict[str, Any], str]]] = {}  # generation → (document, its <option>)
_HL = re.compile(r"^(\d{1,7})-(\d{1,7})$")


def _doc_options(index: IndexReader, selected: list[str]) -> Markup:
    """The document filter's choices, as HTML: the first MAX_DOC_OPTIONS titles (sorted and escaped once per
    generation) and the selected ones; a page listing 100,000 documents would cost more than the search."""
    if index.generation not in _OPTIONS:
        _OPTIONS.clear()
        docs = (
            index.documents(0, MAX_DOC_OPTIONS) if index.document_count() > 10 * MAX_DOC_OPTIONS else index.documents()
        )
        ordered = sorted(docs, key=lambda d: d["title"].lower())[:MAX_DOC_OPTIONS]
        _OPTIONS[index.generation] = [(d, _option(d)) for d in ordered]
    options = _OPTIONS[index.generation]
    known = {d["doc_id"] for d, _ in options}
    extra = [(d, _option(d)) for d in (index.document(s) for s in selected if s not in known) if d is not None]
    first = selected[0] if selected else None
    return Markup("".join(_option(d, True) if d["doc_id"] == first else h for d, h in extra + options))


def _option(d: dict[str, Any], selected: bool = False) -> str:
    mark = " selected" if selected else ""
    return f'<option value="{escape(d["doc_id"])}"{mark}>{escape(d["title"][:80])}</option>'


def _ui(request: Request) -> str:
    return "en" if request.query_params.get("ui") == "en" else "fr"


def _page_state(request: Request, q: str) -> PageState:
    qp = request.query_params
    params = {k: [v[:200] for v in qp.getlist(k) if v][:20] for k in MULTI}
    for k in ("mode", "explain", "offset"):
        if qp.get(k):
            params[k] = [qp[k][:10]]
    return PageState(q, {k: v for k, v in params.items() if v}, _ui(request))


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=2000)] = "",
    mode: Annotated[str, Query(max_length=10)] = "hybrid",
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    explain: Annotated[bool, Query()] = False,
    highlight: Annotated[Literal["terms", "auto"], Query()] = "terms",
) -> HTMLResponse:
    state: State = request.app.state.kb
    index = state.live()
    page, ui = _page_state(request, q), _ui(request)
    t = TEXT[ui]
    p = page.params
    ctx: dict[str, Any] = {"request": request, "t": t, "ui": ui, "q": q, "mode": mode, "offset": offset,
                           "signed_in": _signed_in(request),
                           "explain": explain, "lang": (p.get("lang") or [""])[0], "doc": (p.get("doc") or [""])[0],
                           "docs": _doc_options(index, p.get("doc", [])), "groups": [], "facets": [], "error": None,
                           "result": None, "page": page, "hidden": _hidden(p)}  # fmt: skip
    if q.strip():
        filters = Filters(languages=tuple(p.get("lang", [])), doc_ids=tuple(p.get("doc", [])),
                          publishers=tuple(p.get("publisher", [])), years=tuple(p.get("year", [])))  # fmt: skip
        try:
            result = search(index, q, k=PAGE_SIZE, mode=mode, filters=filters, offset=offset, explain=explain,
                            highlight=highlight, max_chars=state.settings.limits.max_query_chars,
                            facets=FACETS if highlight == "terms" else ())  # fmt: skip
            ctx.update(result=result, groups=grouped(result.hits, page), facets=facet_views(result, index, page, t),
                       exports=export_urls(page))  # fmt: skip
            if highlight == "terms" and result.hits:  # the script fetches the model's best sentences
                u = request.url.include_query_params(highlight="auto")
                ctx["upgrade_url"] = f"{u.path}?{u.query}"
        except KBError as exc:
            ctx["error"] = exc.message
    ctx["next_url"] = page.url(offset=str(offset + PAGE_SIZE))
    ctx["prev_url"] = page.url(offset=str(max(0, offset - PAGE_SIZE)) if offset > PAGE_SIZE else "")
    ctx["other_ui_url"] = PageState(page.q, page.params, "fr" if ui == "en" else "en").url()
    status = 400 if ctx["error"] else 200
    return templates.TemplateResponse(request, "search.html", ctx, status_code=status)


def _hidden(params: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Facet selections the form does not show, kept when the form is sent again."""
    shown = {"lang": 1, "doc": 1}  # the first value of each sits in its <select>
    return [(k, v) for k in ("lang", "doc", "publisher", "year") for v in params.get(k, [])[shown.get(k, 0) :]]


def _signed_in(request: Request) -> bool:
    state: State = request.app.state.kb
    return state.settings.private and getattr(request.state, "caller", None) is not None


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> HTMLResponse:
    ui = _ui(request)
    ctx = {"request": request, "t": TEXT[ui], "ui": ui, "next": _local(next), "error": None}
    return templates.TemplateResponse(request, "login.html", ctx)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    """A key typed in the login form becomes an HttpOnly, SameSite=Strict cookie (Secure under https) that
    names the key, not the key itself."""
    import anyio.to_thread

    form = await request.form()
    state: State = request.app.state.kb
    key, nxt = str(form.get("key", ""))[:200], _local(str(form.get("next", "/")))
    ui = "en" if form.get("ui") == "en" else "fr"
    try:
        caller = await anyio.to_thread.run_sync(state.keys.check, key)
    except KBError:
        ctx = {"request": request, "t": TEXT[ui], "ui": ui, "next": nxt, "error": TEXT[ui]["login_failed"]}
        return templates.TemplateResponse(request, "login.html", ctx, status_code=403)
    key_id = key.split("_")[1] if key.startswith("kb_") else "legacy"
    response = RedirectResponse(nxt, status_code=303)
    https = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(COOKIE, state.sessions.make(caller, key_id), max_age=SESSION_S, httponly=True,
                        samesite="strict", secure=https, path="/")  # fmt: skip
    return response


@router.post("/logout", response_model=None)
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _local(url: str) -> str:
    """Where to go after login: a path of this site only (no open redirect)."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    doc_id: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    c: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    hl: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    state: State = request.app.state.kb
    index = state.live()
    doc = index.document(doc_id)
    text = index.page(doc_id, page) if doc else None
    if doc is None or text is None:
        raise NotFoundError(f"no document {doc_id[:100]!r} page {page}", field="doc_id")
    ui = _ui(request)
    back = PageState(q, {}, ui)
    m = _HL.match(hl)
    sentence = (int(m.group(1)), int(m.group(2))) if m else None
    ctx = {"request": request, "t": TEXT[ui], "ui": ui, "doc": doc, "page": page, "n_pages": doc["n_pages"],
           "signed_in": _signed_in(request),
           "blocks": _blocks(text, index.page_passages(doc_id, page), c, sentence), "q": q,
           "back_url": back.url() if q else "", "ocr": page in index.ocr_pages(doc_id), "prev_url": document_url(doc_id, page - 1, back),
           "next_url": document_url(doc_id, page + 1, back)}  # fmt: skip
    return templates.TemplateResponse(request, "document.html", ctx)


def _blocks(text: str, chunks: list[Passage], current: int | None,
            sentence: tuple[int, int] | None) -> list[dict[str, Any]]:  # fmt: skip
    """The page as a sequence of passages (each anchored #c<seq>; the cited one marked as a block with its best
    sentence singled out) and the text between them."""
    out: list[dict[str, Any]] = []
    pos = 0
    for c in sorted(chunks, key=lambda c: c.start):
        start = max(c.start, pos)
        if start > pos:
            out.append({"id": None, "segments": [(text[pos:start], "")]})
        if c.end > start:
            cited = c.seq == current
            marks = [(sentence[0], sentence[1], "sentence")] if cited and sentence else []
            out.append({"id": f"c{c.seq}", "cited": cited, "section": c.section,
                        "segments": segments(text, marks, start, c.end)})  # fmt: skip
        pos = max(pos, c.end)
    if pos < len(text):
        out.append({"id": None, "segments": [(text[pos:], "")]})
    return out
