"""The JSON API through a real `kb serve` process (uvicorn on 127.0.0.1) over a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATA, Server, run_kb

KEY = {"Authorization": "Bearer test-key-123"}
ERROR_KEYS = {"status", "code", "message", "field"}


def get(server: Server, path: str, **params: object) -> httpx.Response:
    return httpx.get(server.url + path, params=params, timeout=60)


def assert_error(r: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, object]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    err = body["error"]
    assert err["status"] == status and err["code"] == code and isinstance(err["message"], str) and err["message"]
    if field is not None:
        assert err["field"] == field
    assert "Traceback" not in r.text and "/tmp/" not in r.text and ".py" not in r.text
    return err


def test_health(server: Server) -> None:
    h = get(server, "/api/v1/health").json()
    assert h["status"] == "ok" and h["documents"] == 8 and h["model"] == "intfloat/multilingual-e5-small"
    assert h["writes_enabled"] is True and h["dense_index"] == "flat"


def test_search_english_question_french_answer(server: Server) -> None:
    r = get(server, "/api/v1/search", q="How many months of safety stock are required for major medicines?", k=3)
    assert r.status_code == 200
    body = r.json()
    assert body["query_language"] == "en" and body["generation"]
    top = body["hits"][0]
    assert top["doc_id"] == "penuries" and top["citation"]["language"] == "fr"
    c = top["citation"]
    assert {"title", "publisher", "date", "source_url", "page", "start", "end", "section", "reference", "links"} <= set(
        c
    )
    assert c["date"] == "2024-02-20" and c["publisher"] == "Ministère de la Santé"
    assert any(h["kind"] == "sentence" for h in top["highlights"])
    page = get(server, f"/api/v1/documents/{top['doc_id']}/pages/1").json()
    assert page["text"][c["start"] : c["end"]] == top["text"]
    seq = top["chunk_id"].split("#")[1]
    best = next(h for h in top["highlights"] if h["kind"] == "sentence")
    hl = f"{c['start'] + best['start']}-{c['start'] + best['end']}"  # the best sentence, in page offsets
    assert c["links"]["context"] == f"/documents/penuries?page=1&c={seq}&hl={hl}#c{seq}"


def test_search_explain(server: Server) -> None:
    q = "How many months of safety stock must drug companies hold?"
    body = get(server, "/api/v1/search", q=q, k=2, explain="true").json()
    e = body["hits"][0]["explain"]
    assert e["passage_language"] == "fr" and e["query_language"] == "en"
    assert {"semantic", "language_offset", "semantic_norm", "keyword", "keyword_norm", "keyword_weight",
            "same_language", "matched", "mode"} <= set(e)  # fmt: skip
    assert any(m["word"] == "months" and m["term"] == "mois" and m["translated"] for m in e["matched"])
    post = httpx.post(server.url + "/api/v1/search", json={"q": q, "k": 2, "explain": True}, timeout=60).json()
    assert post["hits"][0]["explain"] == e
    assert get(server, "/api/v1/search", q=q, k=2).json()["hits"][0].get("explain") is None
    page = httpx.get(server.url + "/", params={"q": q, "explain": "1"}, timeout=60).text
    assert "Pourquoi ce rang" in page and "months → mois" in page


def test_search_french_and_post_body(server: Server) -> None:
    q = "Combien d'emplois dans la bioproduction d'ici 2030 ?"
    g = get(server, "/api/v1/search", q=q, k=3).json()
    p = httpx.post(server.url + "/api/v1/search", json={"q": q, "k": 3}, timeout=60).json()
    assert g["query_language"] == "fr"
    assert [h["chunk_id"] for h in g["hits"]] == [h["chunk_id"] for h in p["hits"]]
    assert g["hits"][0]["citation"]["language"] == "en"


def test_filters(server: Server) -> None:
    q = "production de médicaments"
    assert {h["citation"]["language"] for h in get(server, "/api/v1/search", q=q, lang="en").json()["hits"]} == {"en"}
    assert {h["doc_id"] for h in get(server, "/api/v1/search", q=q, doc="strategie").json()["hits"]} == {"strategie"}
    assert {h["doc_id"] for h in get(server, "/api/v1/search", q=q, source="ministry").json()["hits"]} == {"devices"}
    dated = get(server, "/api/v1/search", q=q, date_from="2024-01", date_to="2024-12").json()["hits"]
    assert {h["doc_id"] for h in dated} == {"penuries"}


def test_paging(server: Server) -> None:
    q = "bioproduction"
    four = get(server, "/api/v1/search", q=q, k=4).json()["hits"]
    page2 = get(server, "/api/v1/search", q=q, k=2, offset=2).json()
    assert page2["offset"] == 2 and [h["chunk_id"] for h in page2["hits"]] == [h["chunk_id"] for h in four[2:4]]
    assert [h["rank"] for h in page2["hits"]] == [3, 4]
    docs = get(server, "/api/v1/documents", offset=1, limit=3).json()
    assert docs["total"] == 8 and len(docs["documents"]) == 3 and docs["offset"] == 1


def test_documents_and_pages(server: Server) -> None:
    d = get(server, "/api/v1/documents/france2030-biotherapies").json()
    assert d["language"] == "fr" and d["pages"][0]["n"] == 1 and d["n_chunks"] >= 3
    p = get(server, "/api/v1/documents/france2030-biotherapies/pages/1").json()
    assert all(p["text"][c["start"] : c["end"]] for c in p["chunks"])


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"q": ""}, 422, "validation_error", "q"),
        ({"q": "   "}, 400, "bad_query", "q"),
        ({"q": "?!;"}, 400, "bad_query", "q"),
        ({"q": "x" * 5000}, 400, "bad_query", "q"),
        ({}, 422, "validation_error", "q"),
        ({"q": "stock", "k": 0}, 422, "validation_error", "k"),
        ({"q": "stock", "k": 1000}, 422, "validation_error", "k"),
        ({"q": "stock", "mode": "fuzzy"}, 422, "validation_error", "mode"),
        ({"q": "stock", "lang": "xx1"}, 400, "bad_query", "lang"),
        ({"q": "stock", "date_from": "hier"}, 400, "bad_query", "date_from"),
        ({"q": "stock", "doc": "nope"}, 404, "not_found", "doc"),
        ({"q": "stock", "offset": -1}, 422, "validation_error", "offset"),
    ],
)
def test_search_errors(server: Server, params: dict[str, object], status: int, code: str, field: str) -> None:
    assert_error(get(server, "/api/v1/search", **params), status, code, field)


def test_other_errors(server: Server) -> None:
    assert_error(get(server, "/api/v1/documents/nope"), 404, "not_found", "doc_id")
    assert_error(get(server, "/api/v1/documents/penuries/pages/99"), 404, "not_found", "n")
    assert_error(get(server, "/api/v1/nothing-here"), 404, "not_found")
    assert_error(httpx.put(server.url + "/api/v1/search", timeout=10), 405, "method_not_allowed")
    assert_error(httpx.post(server.url + "/api/v1/search", content=b"{not json", timeout=10,
                            headers={"Content-Type": "application/json"}), 422, "validation_error")  # fmt: skip
    assert_error(get(server, "/api/v1/search", q="a" * 9000), 414, "uri_too_long")


def test_openapi_documented(server: Server) -> None:
    spec = get(server, "/openapi.json").json()
    paths = spec["paths"]
    for p in ("/api/v1/search", "/api/v1/documents", "/api/v1/documents/{doc_id}",
              "/api/v1/documents/{doc_id}/pages/{n}", "/api/v1/health"):  # fmt: skip
        assert p in paths
    assert {"get", "post"} <= set(paths["/api/v1/search"]) and "delete" in paths["/api/v1/documents/{doc_id}"]
    assert "ErrorOut" in spec["components"]["schemas"]
    assert get(server, "/docs").status_code == 200


def test_writes_require_key(server: Server) -> None:
    files = {"file": ("note.txt", b"Un texte sur les vaccins.", "text/plain")}
    assert_error(httpx.post(server.url + "/api/v1/documents", files=files, timeout=60), 401, "unauthorized")
    bad = {"Authorization": "Bearer wrong"}
    assert_error(httpx.post(server.url + "/api/v1/documents", files=files, headers=bad, timeout=60), 403, "forbidden")
    assert_error(httpx.delete(server.url + "/api/v1/documents/penuries", headers=bad, timeout=60), 403, "forbidden")
    assert get(server, "/api/v1/documents/penuries").status_code == 200


def test_upload_search_delete(server: Server) -> None:
    text = ("Thérapies cellulaires en Occitanie\n\nLe centre de Toulouse produira des lots de cellules CAR-T "
            "pour les essais cliniques de la région à partir de 2026, avec une salle blanche de 800 mètres carrés.\n")  # fmt: skip
    files = {"file": ("car-t occitanie.txt", text.encode(), "text/plain")}
    data = {"doc_id": "car-t-occitanie", "publisher": "Région Occitanie", "date": "2025-09-01"}
    r = httpx.post(server.url + "/api/v1/documents", files=files, data=data, headers=KEY, timeout=300)
    assert r.status_code == 201, r.text
    assert r.json()["doc_ids"] == ["car-t-occitanie"] and r.json()["status"] == "added"
    hits = get(server, "/api/v1/search", q="Where will CAR-T cells be produced in Occitania?", k=1).json()["hits"]
    assert hits[0]["doc_id"] == "car-t-occitanie" and hits[0]["citation"]["publisher"] == "Région Occitanie"
    r = httpx.delete(server.url + "/api/v1/documents/car-t-occitanie", headers=KEY, timeout=300)
    assert r.status_code == 200 and r.json()["deleted"] == ["car-t-occitanie"]
    assert_error(get(server, "/api/v1/documents/car-t-occitanie"), 404, "not_found")
    assert_error(
        httpx.delete(server.url + "/api/v1/documents/car-t-occitanie", headers=KEY, timeout=60), 404, "not_found"
    )


def test_upload_checks_content_size_and_type(server: Server) -> None:
    def up(name: str, data: bytes) -> httpx.Response:
        return httpx.post(server.url + "/api/v1/documents", files={"file": (name, data)}, headers=KEY, timeout=120)

    assert_error(up("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), 415, "unsupported_type")
    assert_error(up("fake.pdf", b"this is not a pdf at all"), 422, "broken_file")
    assert_error(up("empty.txt", b""), 422, "empty_file")
    assert_error(up("big.txt", b"a" * (51 * 2**20)), 413, "too_large")
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("x.txt", b"Du texte.")}, data={"doc_id": "../etc"},
                   headers=KEY, timeout=60)  # fmt: skip
    assert_error(r, 400, "bad_input", "doc_id")


def test_upload_pdf_served_at_page(server: Server) -> None:
    pdf = DATA / "pdf-robustness/french-gov/jorf_2023-06-21_texte5_DINUM-delegation.pdf"
    if not pdf.exists():
        pytest.skip("../shared/data absent")
    r = httpx.post(server.url + "/api/v1/documents", files={"file": ("jorf.pdf", pdf.read_bytes(), "application/pdf")},
                   headers=KEY, timeout=300)  # fmt: skip
    assert r.status_code == 201, r.text
    hit = get(server, "/api/v1/search", q="délégation de signature", doc="jorf", k=1).json()["hits"][0]
    assert (
        hit["citation"]["page"] in (1, 2)
        and hit["citation"]["links"]["source"] == f"/files/jorf#page={hit['citation']['page']}"
    )
    f = httpx.get(server.url + "/files/jorf", timeout=30)
    assert f.status_code == 200 and f.content.startswith(b"%PDF") and f.headers["content-type"] == "application/pdf"
    assert httpx.delete(server.url + "/api/v1/documents/jorf", headers=KEY, timeout=300).status_code == 200


def test_writes_disabled_without_key(served_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(served_index, index)
    srv = Server(index, api_key="")
    try:
        r = httpx.post(srv.url + "/api/v1/documents", files={"file": ("a.txt", b"abc")}, headers={"Authorization": "Bearer"},
                       timeout=60)  # fmt: skip
        assert_error(r, 403, "writes_disabled")
        assert_error(httpx.delete(srv.url + "/api/v1/documents/penuries", timeout=60), 403, "writes_disabled")
        assert httpx.get(srv.url + "/api/v1/health", timeout=10).json()["writes_enabled"] is False
    finally:
        srv.stop()


def test_serve_refuses_without_index(tmp_path: Path) -> None:
    out = run_kb("serve", "--index", str(tmp_path / "none"), "--port", "1", timeout=120)
    assert out.returncode == 3 and "no index" in out.stderr and "kb ingest" in out.stderr


def test_security_headers(server: Server) -> None:
    r = httpx.get(server.url + "/", timeout=30)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["x-content-type-options"] == "nosniff"
