"""The web page in a real headless browser (Debian's Chromium driven by Playwright; nothing downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium (`.ci/run` does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_english_question_french_passage_citation_link(browser, server: Server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server.url) else None)
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#q", "How many months of safety stock are required for major medicines?")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")
    assert "q=How+many+months" in page.url  # the query is in the URL: a search can be shared
    first = page.locator("li.hit").first
    assert first.get_attribute("lang") == "fr"
    assert "Feuille de route pénuries de médicaments" in first.locator(".hit-title").inner_text()
    assert (
        "Ministère de la Santé" in first.locator(".cite").inner_text()
        and "2024-02-20" in first.locator(".cite").inner_text()
    )
    marked = "".join(first.locator("mark.sentence").all_inner_texts())
    assert "quatre mois" in marked
    assert "Ministère de la Santé" in first.locator(".reference input").input_value()
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    first.locator("a.context").click()
    page.wait_for_selector(".chunk:target")
    assert "/documents/penuries?page=1#c" in page.url
    assert "quatre mois" in page.locator(".chunk:target").inner_text()
    page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
    assert external == [], f"page fetched from outside: {external}"


def test_filters_keyboard_and_english_interface(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(server.url + "/?ui=en")
    assert page.locator("button[type=submit]").inner_text() == "Search"
    page.keyboard.press("/")
    page.keyboard.type("production de médicaments")
    page.select_option("#lang", "en")
    page.locator("button[type=submit]").click()
    page.wait_for_selector("li.hit")
    assert set(page.locator("li.hit").evaluate_all("els => els.map(e => e.lang)")) == {"en"}
    assert "lang=en" in page.url and "ui=en" in page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page must not scroll sideways on a phone"


def test_script_and_quotes_shown_as_text(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    evil = ('Note <script>window.pwned=1</script> "guillemets" et \'apostrophes\' <img src=x onerror="window.pwned=2">\n\n'
            'Le texte parle de la production de vaccins <b>en gras</b> à Lyon.')  # fmt: skip
    key = {"Authorization": "Bearer test-key-123"}
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("evil.txt", evil.encode())},
                   data={"doc_id": "evil", "title": "<script>alert(1)</script>"}, headers=key, timeout=300)  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/?q=" + "<script>window.pwned=3</script> vaccins Lyon")
        page.wait_for_selector("li.hit")
        hit = page.locator("li.hit", has_text="guillemets").first
        assert "<script>window.pwned=1</script>" in hit.locator(".passage").inner_text()
        assert "<script>alert(1)</script>" in hit.locator(".hit-title").inner_text()
        assert page.evaluate("window.pwned") is None and dialogs == []
        assert page.locator("#q").input_value().startswith("<script>")
        page.goto(server.url + "/documents/evil?page=1")
        assert "<b>en gras</b>" in page.locator(".page-text").inner_text()
        assert page.evaluate("window.pwned") is None
    finally:
        httpx.delete(server.url + "/api/v1/documents/evil", headers=key, timeout=300)
