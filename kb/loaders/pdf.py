"""PDF pages with pypdf: ligatures, end-of-line hyphens and running headers/footers repaired."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from datetime import datetime

from kb.errors import BrokenFileError, EncryptedError, NoTextError
from kb.loaders import ocr
from kb.textutil import clean
from kb.types import Document, Page

logging.getLogger("pypdf").setLevel(logging.CRITICAL)
logging.getLogger("fontTools").setLevel(logging.CRITICAL)

_PAGE_NUMBER = re.compile(
    r"^\s*(?:page|p\.)?\s*[-–—(]?\s*\d{1,4}\s*(?:/|sur|of|de)?\s*\d{0,4}\s*[-–—)]?\s*$", re.IGNORECASE
)
_HYPHEN = re.compile(r"(\w+)-\n(\w+)")


def load_pdf(name: str, data: bytes, ocr_mode: str = "auto") -> Document:
    reader = _open(name, data)
    try:
        raw_pages = [_extract(page) for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds on broken streams
        raise BrokenFileError(f"{name}: broken PDF ({_short(exc)})", field=name) from exc
    recognised = _ocr(name, data, raw_pages, ocr_mode)
    raw_pages = [recognised.get(i, t) for i, t in enumerate(raw_pages)]
    texts = _strip_running_lines(_dehyphenate([clean(t) for t in raw_pages]))
    if not any(t.strip() for t in texts):
        why = ocr.missing() if ocr_mode == "auto" else "OCR is off (KB_OCR=off)"
        raise NoTextError(
            f"{name}: no text layer in {len(raw_pages)} page(s) (image-only or scanned PDF)"
            + (f"; {why}" if why else " and no text recognised in them"),
            field=name,
        )
    title, date = _metadata(reader)
    pages = [Page(n=i + 1, text=t, ocr=i in recognised) for i, t in enumerate(texts)]
    return Document(doc_id="", title=title, pages=pages, kind="pdf", paginated=True, date=date)


def _ocr(name: str, data: bytes, raw_pages: list[str], mode: str) -> dict[int, str]:
    """Recognised text of the pages without a useful text layer (when OCR is on and installed)."""
    todo = [i for i, t in enumerate(raw_pages) if ocr.useless(clean(t))]
    if not todo or mode != "auto" or ocr.missing():
        return {}
    try:
        found = ocr.recognise(data, todo)
    except Exception as exc:  # the renderer refuses some broken files pypdf could read
        raise BrokenFileError(f"{name}: cannot render its pages for OCR ({_short(exc)})", field=name) from exc
    # a thin text layer (a label, a few words) stays when recognition reads no more letters than it has
    return {i: t for i, t in found.items() if ocr.letters(t) > ocr.letters(clean(raw_pages[i]))}


def _open(name: str, data: bytes):  # type: ignore[no-untyped-def]
    import pypdf
    from pypdf.errors import FileNotDecryptedError

    if b"startxref" not in data[-2048:]:
        data = data + b"\nstartxref\n0\n%%EOF\n"  # lets pypdf rebuild a missing cross-reference table
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedError(f"{name}: encrypted PDF (a password is needed to read it)", field=name)
        _ = len(reader.pages)
    except EncryptedError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedError(f"{name}: encrypted PDF (a password is needed to read it)", field=name) from exc
    except Exception as exc:
        raise BrokenFileError(f"{name}: broken PDF ({_short(exc)})", field=name) from exc
    return reader


def _extract(page) -> str:  # type: ignore[no-untyped-def]
    return page.extract_text() or ""


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def _strip_running_lines(pages: list[str]) -> list[str]:
    """Drop page numbers and lines repeated at the top or bottom of at least half the pages."""
    edge = 3
    counts: Counter[str] = Counter()
    for text in pages:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        counts.update({_line_key(ln) for ln in lines[:edge] + lines[-edge:]})
    threshold = max(3, (len(pages) + 1) // 2)
    running = {k for k, c in counts.items() if c >= threshold and len(pages) >= 3}
    stripped = [_strip_page(text, running, edge) for text in pages]
    # when every page is the same few lines, those lines are the content, not a running header
    return stripped if any(t.strip() for t in stripped) else pages


def _strip_page(text: str, running: set[str], edge: int) -> str:
    lines = text.split("\n")
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    drop = set()
    for i in idx[:edge] + idx[-edge:]:
        if _line_key(lines[i]) in running or _PAGE_NUMBER.match(lines[i]):
            drop.add(i)
    return "\n".join(ln for i, ln in enumerate(lines) if i not in drop).strip()


def _dehyphenate(pages: list[str]) -> list[str]:
    """Join words cut at a line end ("fragmen-\\nted"), keeping hyphens of real compounds seen elsewhere."""
    whole = "\n".join(pages)

    def fix(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        if not b[0].islower():
            return m.group(0)
        if f"{a}-{b}" in whole.replace(f"{a}-\n{b}", ""):
            return f"{a}-{b}"
        return a + b

    return [_HYPHEN.sub(fix, t) for t in pages]


def _metadata(reader) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    try:
        meta = reader.metadata
    except Exception:
        return "", None
    if not meta:
        return "", None
    try:
        title = str(meta.title or "").strip()
    except Exception:
        title = ""
    date = None
    try:
        created = meta.creation_date
        if isinstance(created, datetime):
            date = created.date().isoformat()
    except Exception:
        date = None
    return title, date
