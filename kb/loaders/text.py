"""Plain text and Markdown: encoding detected (or reported), Markdown headings become section names."""

from __future__ import annotations

import re

from kb.errors import EmptyFileError, EncodingError
from kb.textutil import clean
from kb.types import Document, Page, Section

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SETEXT = re.compile(r"^(.+)\n(=+|-+)[ \t]*$", re.MULTILINE)


def decode(name: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with BOM, else the charset charset-normalizer finds."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:2_000_000]).best()
    if best is None or best.encoding is None:
        raise EncodingError(f"{name}: not UTF-8 and no other text encoding fits; convert it to UTF-8", field=name)
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise EncodingError(f"{name}: cannot decode as {best.encoding}; convert it to UTF-8", field=name) from exc


def text_document(name: str, data: bytes, markdown: bool) -> Document:
    text = clean(decode(name, data))
    if not text.strip():
        raise EmptyFileError(f"{name}: the file has no text", field=name)
    if markdown:
        return markdown_document(name, text, kind="markdown")
    title = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")[:200]
    return Document(doc_id="", title=title, pages=[Page(n=1, text=text, sections=plain_sections(text))], kind="text")


def plain_sections(text: str) -> list[Section]:
    """Heading-like lines of plain text: short, capitalised, no closing punctuation, followed by text."""
    out: list[Section] = []
    pos = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        s = line.strip()
        nxt = next((ln.strip() for ln in lines[i + 1 :] if ln.strip()), "")
        words = s.split()
        if (
            2 <= len(words) <= 16
            and s[0].isupper()
            and s[-1] not in ".,;:!?…)»\"'"
            and not s.startswith(("-", "•", "*"))
            and (len(nxt.split()) > len(words) or not out)
        ):
            out.append(Section(start=pos + line.index(s[0]), title=s))
        pos += len(line) + 1
    return out


def markdown_document(name: str, text: str, kind: str) -> Document:
    text = clean(text)
    sections = [Section(start=m.start(), title=m.group(2).strip()) for m in _HEADING.finditer(text)]
    sections += [Section(start=m.start(), title=m.group(1).strip()) for m in _SETEXT.finditer(text)]
    sections.sort(key=lambda s: s.start)
    title = sections[0].title if sections else next((ln for ln in text.split("\n") if ln.strip()), "")
    return Document(doc_id="", title=title[:200], pages=[Page(n=1, text=text, sections=sections)], kind=kind)
