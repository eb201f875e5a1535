"""Word (.docx, python-docx) and OpenDocument text (.odt, odfpy): headings become sections; paragraphs, list
items and table cells (a row per line, cells joined by " | ") come in reading order.

Left out on purpose: footnotes, endnotes, comments and tracked deletions (notes and comments are not part of
the text a citation points into; python-docx does not read them either). Title, author (as the publisher) and
date come from the document properties. These files have no pages: a citation is section + character span.

Checked before any parsing, by content: the zip must hold the parts of its format; a macro-enabled Word file
(VBA project) is refused; declared XML entities (the "billion laughs") are refused; a zip whose parts would
unpack past ``MAX_UNPACKED`` bytes, or past ``MAX_RATIO`` times its size, is refused as a bomb.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from kb.errors import BrokenFileError, EmptyFileError, LimitError, UnsupportedTypeError
from kb.textutil import clean
from kb.types import Document, Page, Section

MAX_UNPACKED = 200 * 2**20
MAX_RATIO = 200
ODT_MIME = b"application/vnd.oasis.opendocument.text"
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^(heading|titre|title)\b", re.IGNORECASE)


def office_kind(name: str, data: bytes) -> str:
    """docx or odt, from the zip's content; clear errors for broken, macro-enabled, bombed or other zips."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BrokenFileError(f"{name}: broken zip container ({str(exc)[:80]})", field=name) from exc
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(len(data), 1):
        raise LimitError(
            f"{name}: its parts would unpack to {unpacked / 2**20:,.0f} MB (a zip bomb?); refused", field=name
        )
    if "word/document.xml" in names:
        if "word/vbaProject.bin" in names or b"macroEnabled" in z.read("[Content_Types].xml"):
            raise UnsupportedTypeError(f"{name}: macro-enabled Word document (.docm); save it as .docx", field=name)
        kind = "docx"
    elif "mimetype" in names and z.read("mimetype").strip() == ODT_MIME:
        kind = "odt"
    else:
        raise UnsupportedTypeError(f"{name}: a zip file, but not a Word (.docx) or OpenDocument text (.odt) one",
                                   field=name)  # fmt: skip
    for part in names:
        if part.endswith(".xml") and _DTD.search(z.read(part)[:4096]):
            raise BrokenFileError(f"{name}: {part} declares XML entities (refused: entity expansion)", field=name)
    return kind


def office_document(name: str, data: bytes, kind: str) -> Document:
    try:
        blocks, meta = _docx(data) if kind == "docx" else _odt(data)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise BrokenFileError(f"{name}: broken {kind} file ({str(exc)[:80]})", field=name) from exc
    text, sections = "", []
    for body, heading in blocks:
        body = clean(body).strip()
        if not body:
            continue
        if text:
            text += "\n\n"
        if heading:
            sections.append(Section(start=len(text), title=body[:200]))
        text += body
    if not text.strip():
        raise EmptyFileError(f"{name}: the document has no text", field=name)
    title = meta.get("title") or (sections[0].title if sections else text.split("\n", 1)[0][:200])
    return Document(doc_id="", title=title, pages=[Page(n=1, text=text, sections=sections)], kind=kind,
                    publisher=meta.get("author", ""), date=meta.get("date") or None)  # fmt: skip


def _docx(data: bytes) -> tuple[list[tuple[str, bool]], dict[str, str]]:
    import docx
    from docx.table import Table

    d = docx.Document(io.BytesIO(data))
    blocks: list[tuple[str, bool]] = []
    for item in d.iter_inner_content():
        if isinstance(item, Table):
            blocks.append((_rows([[c.text for c in row.cells] for row in item.rows]), False))
            continue
        style = item.style.name if item.style is not None else ""
        listed = (item._p.pPr is not None and item._p.pPr.numPr is not None) or (style or "").startswith("List")
        blocks.append((("- " if listed else "") + item.text, bool(_HEADING_STYLE.match(style or ""))))
    p = d.core_properties
    date = p.created or p.modified
    return blocks, {"title": (p.title or "").strip(), "author": (p.author or "").strip(),
                    "date": date.date().isoformat() if date else ""}  # fmt: skip


def _rows(rows: list[list[str]]) -> str:
    """A table, a row per line; a merged cell repeated across columns is written once."""
    out = []
    for cells in rows:
        kept = [c.strip() for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]
        out.append(" | ".join(c for c in kept if c))
    return "\n".join(line for line in out if line)


def _odt(data: bytes) -> tuple[list[tuple[str, bool]], dict[str, str]]:
    from odf import dc, meta
    from odf.opendocument import load

    d = load(io.BytesIO(data))
    blocks: list[tuple[str, bool]] = []
    _walk(d.text, blocks)

    def first(kind: Any) -> str:
        found = d.meta.getElementsByType(kind)
        return _plain(found[0]).strip() if found else ""

    date = first(dc.Date) or first(meta.CreationDate)
    return blocks, {"title": first(dc.Title), "author": first(dc.Creator) or first(meta.InitialCreator),
                    "date": date[:10]}  # fmt: skip


def _walk(node: Any, blocks: list[tuple[str, bool]], prefix: str = "") -> None:
    for child in node.childNodes:
        tag = getattr(child, "qname", (None, None))[1]
        if tag == "h":
            blocks.append((_plain(child), True))
        elif tag == "p":
            blocks.append((prefix + _plain(child), False))
        elif tag == "list":
            for item in child.childNodes:
                _walk(item, blocks, "- ")
        elif tag == "table":
            rows = [[_plain(cell) for cell in row.childNodes if getattr(cell, "qname", (0, ""))[1] == "table-cell"]
                    for row in _descendants(child, "table-row")]  # fmt: skip
            blocks.append((_rows(rows), False))
        elif tag in ("section", "list-item", "list-header"):
            _walk(child, blocks, prefix)


def _descendants(node: Any, tag: str) -> list[Any]:
    out = []
    for child in node.childNodes:
        if getattr(child, "qname", (None, None))[1] == tag:
            out.append(child)
        elif child.nodeType == child.ELEMENT_NODE:
            out += _descendants(child, tag)
    return out


def _plain(node: Any) -> str:
    """The text of an element, notes and annotations (comments) left out, spaces and tabs restored."""
    parts = []
    for child in node.childNodes:
        if child.nodeType == child.TEXT_NODE:
            parts.append(child.data)
            continue
        tag = getattr(child, "qname", (None, None))[1]
        if tag in ("note", "annotation", "tracked-changes"):
            continue
        if tag == "s":
            parts.append(" " * int(child.getAttribute("c") or 1))
        elif tag == "tab":
            parts.append("\t")
        elif tag == "line-break":
            parts.append("\n")
        else:
            parts.append(_plain(child))
    return "".join(parts)
