"""The web page in a real headless browser (Debian's Chromium driven by Playwright; nothing downloaded):
scannable results, facets, the page view, keyboard use, accessibility (axe-core, WCAG 2.1 A and AA) and the
screenshots of docs/ taken on the shipped corpus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kb.backend import IndexReader
from tests.conftest import ROOT, Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
KEY = {"Authorization": "Bearer test-key-123"}
Q = "How many months of safety stock are required for major medicines?"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium (`.ci/run` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def search_page(browser: Any, server: Server, query: str = Q, width: int = 1100, extra: str = "") -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(server.url + "/" + (f"?{extra}" if extra else ""))
    page.fill("#q", query)
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    if page.locator("#results[data-upgrade]").count():
        page.wait_for_selector("#results[data-upgraded='1']")  # the model's best sentences are in
    return page


def test_english_question_french_passage_scannable(browser: Any, server: Server) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server.url) else None)
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert not page.locator("#mode").is_visible()  # the engine's vocabulary is under "Options avancées"
    page.fill("#q", Q)
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")
    page.wait_for_selector("#results[data-upgraded='1']")
    assert "q=How+many+months" in page.url  # the query is in the URL: a search can be shared
    first = page.locator("li.hit").first
    assert "Feuille de route pénuries de médicaments" in first.locator(".hit-title").inner_text()
    assert first.locator(":scope > .snippet").get_attribute("lang") == "fr"
    cite = first.locator(".cite").first.inner_text()
    assert "Ministère de la Santé" in cite and "2024-02-20" in cite
    assert "quatre mois" in "".join(first.locator(":scope > .snippet mark.sentence").all_inner_texts())
    assert len(first.locator(":scope > .snippet").inner_text()) <= 430  # two or three lines, not the whole passage
    full = first.locator("details.passage .full")
    assert not full.is_visible()
    first.locator("details.passage summary").click()
    assert full.is_visible() and len(full.inner_text()) > len(first.locator(":scope > .snippet").inner_text())
    more = first.locator("details.more summary")
    assert "autres passages de ce document" in more.inner_text() or "autre passage de ce document" in more.inner_text()
    docs = page.locator("li.hit .hit-title").all_inner_texts()
    assert len(docs) == len(set(docs))  # one entry per document
    first.locator("a.context").first.click()
    page.wait_for_selector(".chunk.cited")
    assert "/documents/penuries?page=1" in page.url and "#c" in page.url
    cited = page.locator(".chunk.cited")
    assert "quatre mois" in cited.locator("mark.sentence").inner_text()
    assert page.evaluate("document.activeElement.id") == cited.get_attribute("id")  # scrolled to, with focus
    page.locator("nav.crumbs a").click()
    page.wait_for_selector("li.hit")
    assert page.locator("#q").input_value() == Q  # back to the results, query kept
    assert external == [], f"page fetched from outside: {external}"


def test_results_first_then_the_models_best_sentences(browser: Any, server: Server) -> None:
    # without the script: results at once, best sentences by matched words only (no model run on the request)
    q = "Which countries overtook France in pharmaceutical bioproduction?"
    plain = httpx.get(server.url + "/", params={"q": q}, timeout=30)
    assert plain.status_code == 200 and 'class="hit"' in plain.text
    assert 'data-upgrade="/?q=Which' in plain.text and "highlight=auto" in plain.text
    api = httpx.get(server.url + "/api/v1/search", params={"q": q, "k": 10}, headers=KEY, timeout=30).json()
    # with it: the page takes the default request's (highlight=auto) best sentences into the same hits
    page = search_page(browser, server, q)
    page.wait_for_selector("#results[data-upgraded='1']")
    hits = page.locator("li.hit")
    by_chunk = {h["chunk_id"]: h for h in api["hits"]}
    checked = 0
    for i in range(hits.count()):
        li = hits.nth(i)
        h = by_chunk[li.get_attribute("data-chunk")]
        best = next((x for x in h["highlights"] if x["kind"] == "sentence"), None)
        marks = li.locator(":scope > details.passage > p.full mark.sentence").all_text_contents()
        assert "".join(marks) == (h["text"][best["start"] : best["end"]] if best else "")
        if best:
            href = li.locator(":scope > p.actions a.context").get_attribute("href")
            at = h["citation"]["start"]  # the page view counts from the page's start
            assert f"hl={at + best['start']}-{at + best['end']}" in href  # the context link marks the same sentence
            checked += 1
    assert checked >= 3
    # and it changed something: some hit's best sentence by words alone is not the model's
    terms = httpx.get(server.url + "/api/v1/search", params={"q": q, "k": 10, "highlight": "terms"}, headers=KEY,
                      timeout=30).json()  # fmt: skip
    sentences = [[x for x in h["highlights"] if x["kind"] == "sentence"] for r in (api, terms) for h in r["hits"]]
    assert sentences[: len(api["hits"])] != sentences[len(api["hits"]) :]


def test_facets_select_and_combine(browser: Any, server: Server) -> None:
    page = search_page(browser, server, "production de médicaments")
    publisher = page.locator(".facet", has=page.locator("h3", has_text="Éditeur"))
    publisher.locator("a", has=page.get_by_text("DGE", exact=True)).click()
    page.wait_for_selector("li.hit")
    assert "publisher=" in page.url
    year = page.locator(".facet", has=page.locator("h3", has_text="Année"))
    year.locator("a").filter(has_not=page.locator(".visually-hidden")).first.click()
    page.wait_for_selector("#results")
    assert "publisher=" in page.url and "year=" in page.url
    selected = page.locator(".facet a.selected")
    assert selected.count() == 2
    selected.first.click()  # a selected value removes its filter
    page.wait_for_selector("#results")
    assert page.locator(".facet a.selected").count() == 1


def test_keyboard_only(browser: Any, server: Server) -> None:
    """Search, open a passage, copy a citation and change a facet without a mouse."""
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(server.url + "/")
    page.keyboard.press("/")
    page.keyboard.type("stock de sécurité des médicaments")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"{selector} cannot be reached with Tab")

    tab_to("li.hit details.passage summary")
    page.keyboard.press("Enter")
    assert page.locator("li.hit details.passage").first.get_attribute("open") is not None
    tab_to("button.copy")
    page.keyboard.press("Enter")
    page.locator("button.copy", has_text="Citation copiée").wait_for()
    assert "Ministère de la Santé" in page.evaluate("navigator.clipboard.readText()")
    tab_to(".facet a")
    page.keyboard.press("Enter")
    page.wait_for_selector(".facet a.selected")
    outline = page.evaluate("getComputedStyle(document.querySelector('#q')).outlineStyle")
    assert outline is not None  # focus styles are defined (:focus-visible); axe checks the rest
    context.close()


def axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options=WCAG)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result.response["violations"]]


def test_accessibility_wcag21_aa(browser: Any, server: Server) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(server.url + "/")
    checked = {"home": axe(page)}
    page = search_page(browser, server, "production de médicaments")
    page.locator("details.advanced summary").click()
    page.locator("li.hit details.passage summary").first.click()
    checked["results (filters, facets, passage open)"] = axe(page)
    page.locator("li.hit a.context").first.click()
    page.wait_for_selector(".chunk.cited")
    checked["page view"] = axe(page)
    page.goto(server.url + "/?q=zzqxw+vvkjy&mode=keyword")
    checked["empty result"] = axe(page)
    page.goto(server.url + "/?q=%3F%21")
    assert page.locator(".error[role=alert]").count() == 1
    checked["error page"] = axe(page)
    page = search_page(browser, server, "production de médicaments", width=390)
    checked["results on a phone"] = axe(page)
    assert {k: v for k, v in checked.items() if v} == {}


def test_filters_phone_and_english_interface(browser: Any, server: Server) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(server.url + "/?ui=en")
    assert page.locator("button[type=submit]").inner_text() == "Search"
    page.keyboard.press("/")
    page.keyboard.type("production de médicaments")
    page.select_option("#lang", "en")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("li.hit")
    assert set(page.locator("li.hit > .snippet").evaluate_all("els => els.map(e => e.lang)")) == {"en"}
    assert "lang=en" in page.url and "ui=en" in page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must not scroll sideways on a phone"


def test_export_links(browser: Any, server: Server) -> None:
    page = search_page(browser, server, "production de médicaments")
    for fmt, kind in (("csv", "text/csv"), ("ris", "application/x-research-info-systems")):
        href = page.locator(".export a", has_text=fmt.upper()).get_attribute("href")
        r = httpx.get(server.url + href, timeout=60)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind) and "Ministère" in r.text


def test_script_and_quotes_shown_as_text(browser: Any, server: Server) -> None:
    evil = ('Note <script>window.pwned=1</script> "guillemets" et \'apostrophes\' <img src=x onerror="window.pwned=2">\n\n'
            'Le texte parle de la production de vaccins <b>en gras</b> à Lyon.')  # fmt: skip
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("evil.txt", evil.encode())},
                   data={"doc_id": "evil", "title": "<script>alert(1)</script>"}, headers=KEY, timeout=300)  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/?q=" + "<script>window.pwned=3</script> vaccins Lyon")
        page.wait_for_selector("li.hit")
        hit = page.locator("li.hit", has_text="guillemets").first
        hit.locator("details.passage summary").click()
        assert "<script>window.pwned=1</script>" in hit.locator(".full").inner_text()
        assert "<script>alert(1)</script>" in hit.locator(".hit-title").inner_text()
        assert page.evaluate("window.pwned") is None and dialogs == []
        assert page.locator("#q").input_value().startswith("<script>")
        assert page.locator("#doc option[value=evil]").inner_text() == "<script>alert(1)</script>"
        page.goto(server.url + "/?q=vaccins&doc=evil")
        assert page.locator("#doc").input_value() == "evil"  # the filter's choice stays selected
        assert page.evaluate("window.pwned") is None and dialogs == []
        page.goto(server.url + "/documents/evil?page=1")
        assert "<b>en gras</b>" in page.locator(".page-text").inner_text()
        assert page.evaluate("window.pwned") is None
    finally:
        httpx.delete(server.url + "/api/v1/documents/evil", headers=KEY, timeout=300)


def test_screenshots_of_the_shipped_corpus(browser: Any, corpus_index: IndexReader) -> None:
    """docs/search-desktop.png, docs/search-phone.png and docs/page-view.png, for the README."""
    srv = Server(corpus_index.path.parent)  # type: ignore[attr-defined]
    try:
        docs = ROOT / "docs"
        q = "Which countries overtook France in pharmaceutical bioproduction?"
        page = search_page(browser, srv, q, width=1200)
        page.screenshot(path=str(docs / "search-desktop.png"))
        phone = search_page(browser, srv, "Quels objectifs pour France Biolead en 2030 ?", width=390)
        phone.screenshot(path=str(docs / "search-phone.png"))
        page.locator("li.hit a.context").first.click()
        page.wait_for_selector(".chunk.cited")
        page.screenshot(path=str(docs / "page-view.png"))
        assert all(
            (docs / n).stat().st_size > 10_000 for n in ("search-desktop.png", "search-phone.png", "page-view.png")
        )
    finally:
        srv.stop()


def test_page_view_of_a_long_document(browser: Any, server: Server) -> None:
    pdf = ROOT.parent / "shared/data/pdf-robustness/french-gov/jorf_2023-06-21_texte5_DINUM-delegation.pdf"
    if not pdf.exists():
        pytest.skip("../shared/data absent")
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("jorf.pdf", pdf.read_bytes(), "application/pdf")},
                   headers=KEY, timeout=300)  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        page = search_page(browser, server, "délégation de signature", extra="doc=jorf")
        page.locator("li.hit a.context").first.click()
        page.wait_for_selector(".chunk.cited")
        n = int(page.url.split("page=")[1].split("&")[0])
        nav = page.locator("nav.pager a", has_text="Suite" if n == 1 else "Précédent")
        nav.click()
        page.wait_for_selector(".page-text")
        assert f"page={2 if n == 1 else 1}" in page.url and "q=d" in page.url  # the query travels along
        page.locator("nav.crumbs a").click()
        page.wait_for_selector("li.hit")
        assert page.locator("#q").input_value() == "délégation de signature"
    finally:
        httpx.delete(server.url + "/api/v1/documents/jorf", headers=KEY, timeout=300)


def test_private_deployment_login_search_logout(browser: Any, served_index: Path, tmp_path: Path) -> None:
    import shutil

    from kb.keys import KeyFile

    shutil.copytree(served_index, tmp_path / "index")
    key = KeyFile(tmp_path / "keys.json").add("reader", "search")
    srv = Server(tmp_path / "index", extra_env={"KB_KEYS_FILE": str(tmp_path / "keys.json"), "KB_PRIVATE": "1"})
    try:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(srv.url + "/?q=stock")
        assert "/login" in page.url and page.locator("#key").get_attribute("type") == "password"
        assert axe(page) == []
        page.fill("#key", "kb_00000000_" + "z" * 32)
        page.keyboard.press("Enter")
        page.wait_for_selector(".error[role=alert]")
        page.fill("#key", key)
        page.keyboard.press("Enter")
        page.wait_for_selector("li.hit")
        assert "q=stock" in page.url  # back where the user was going
        cookie = next(c for c in page.context.cookies() if c["name"] == "kb_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and key not in cookie["value"]
        page.locator("form.logout button").click()
        page.wait_for_selector("#key")
        page.goto(srv.url + "/?q=stock")
        assert "/login" in page.url
    finally:
        srv.stop()
