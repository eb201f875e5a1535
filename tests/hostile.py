"""Generates hostile input files for the robustness tests (and anyone who wants to try them by hand)."""

from __future__ import annotations

import random
import zlib
from pathlib import Path
from typing import Any

# expected outcome per file: an error code, or "added" where a bounded, partial result is right
EXPECTED: dict[str, set[str]] = {}


def _pdf(objects: list[bytes]) -> bytes:
    """A syntactically complete PDF (header, objects, xref, trailer) from object bodies 1..n."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_pdf(text: str) -> bytes:
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip


def bomb_pdf(gigabytes: float = 2.0) -> bytes:
    """A page whose content stream inflates to ``gigabytes`` of zeros (a few MB on disk)."""
    comp = zlib.compressobj(9)
    block = b"\x00" * (1 << 24)
    data = b"".join(comp.compress(block) for _ in range(int(gigabytes * 64))) + comp.flush()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ])  # fmt: skip


def loop_pdf() -> bytes:
    """A page tree whose node lists itself among its kids."""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
    ])  # fmt: skip


def generate(folder: Path, big_text_mb: int = 200, bomb_gb: float = 2.0) -> dict[str, set[str]]:
    """Write the hostile files into ``folder``; returns, per file, the outcomes that are acceptable."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1234)
    expected: dict[str, set[str]] = {}

    def put(name: str, data: bytes, *ok: str) -> None:
        (folder / name).write_bytes(data)
        expected[name] = set(ok)

    for ext in ("pdf", "html", "txt", "md", "jsonl"):
        put(
            f"random.{ext}",
            bytes(rng.randrange(256) for _ in range(20_000)),
            "broken_file",
            "unsupported_type",
            "bad_encoding",
            "no_text",
            "empty_file",
        )
    good = text_pdf("Un document PDF valide sur les vaccins.")
    put("valid.pdf", good, "added")
    put("truncated.pdf", good[: len(good) // 2], "broken_file", "no_text")
    corrupt = bytearray(good)
    for i in range(40, len(corrupt) - 40, 7):
        corrupt[i] = rng.randrange(256)
    put("corrupt.pdf", bytes(corrupt), "broken_file", "no_text")
    put("bomb.pdf", bomb_pdf(bomb_gb), "broken_file", "no_text", "limit_exceeded")
    put("page-loop.pdf", loop_pdf(), "broken_file", "no_text", "limit_exceeded")
    put("deep.html", b"<html><body>" + b"<div>" * 100_000 + b"profond" + b"</div>" * 100_000 + b"</body></html>",
        "no_text", "broken_file", "limit_exceeded", "added")  # fmt: skip
    with open(folder / "huge.txt", "wb") as f:
        line = ("Les biothérapies " * 6 + "\n").encode()
        for _ in range(big_text_mb * 2**20 // len(line)):
            f.write(line)
    expected["huge.txt"] = {"limit_exceeded"}
    put("mixed.jsonl", b'{"_id": "ok-1", "text": "Bonne ligne sur la bioproduction."}\n{oops\n[1,2]\n'
        b'{"_id": "ok-2", "text": "Another good line about vaccines."}\n{"_id": "", "text": "x"}\n', "added")  # fmt: skip
    put("latin1.txt", "Stratégie d'accélération : thérapies innovantes, été 2021.".encode("latin-1"), "added")
    put("utf16.txt", "Feuille de route contre les pénuries de médicaments.".encode("utf-16"), "added")
    put("empty.md", b"", "empty_file")
    put("blank.txt", b" \n\t\n", "empty_file")
    office(folder, put)
    return expected


def office(folder: Path, put: Any) -> None:
    """Word and OpenDocument: a valid file each, then a zip bomb, a broken zip, a macro-enabled Word file
    renamed .docx, an XML entity expansion ("billion laughs"), random bytes named .docx/.odt."""
    from tests import makefiles

    work = folder / ".make"
    work.mkdir(exist_ok=True)
    valid = makefiles.docx_file(work / "valid.docx")
    put("valid.docx", valid.read_bytes(), "added")
    put("valid.odt", makefiles.odt_file(work / "valid.odt").read_bytes(), "added")
    put("zip-bomb.docx", makefiles.zip_bomb(work / "bomb.docx").read_bytes(), "limit_exceeded")
    put("broken-zip.docx", valid.read_bytes()[: len(valid.read_bytes()) // 3], "broken_file")
    put("macro.docx", makefiles.macro_docx(valid, work / "macro.docx").read_bytes(), "unsupported_type")
    put("laughs.docx", makefiles.billion_laughs(valid, work / "laughs.docx").read_bytes(), "broken_file")
    for ext in ("docx", "odt"):
        put(f"random-bytes.{ext}", random.Random(ext).randbytes(20_000), "broken_file", "unsupported_type")
