"""Text for PDF pages that have none: each page rendered (pypdfium2) and recognised by Tesseract (French and
English models from Debian: ``tesseract-ocr``, ``tesseract-ocr-fra``, ``tesseract-ocr-eng``).

Only the pages without a useful text layer are recognised (fewer than ``MIN_LETTERS`` letters), so a mixed PDF
keeps its text layer where it has one. Runs inside the parser's sandbox, so every recognised page counts
against the per-file time limit. The recognised text is the page's text: citations are exact against it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from typing import Any

DPI = 300
LANGS = ("fra", "eng")
MIN_LETTERS = 30
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng (scripts/setup.sh does)"


@functools.lru_cache(maxsize=1)
def missing() -> str | None:
    """Why OCR cannot run here (None: it can)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return f"Tesseract is not installed: {INSTALL}"
    out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout.split()
    absent = [lang for lang in LANGS if lang not in out]
    return f"Tesseract lacks the {'+'.join(absent)} model(s): {INSTALL}" if absent else None


def letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def useless(text: str) -> bool:
    """A text layer too thin to be the page's text (none, a page number, a stray label)."""
    return letters(text) < MIN_LETTERS


def recognise(data: bytes, pages: list[int], dpi: int = DPI) -> dict[int, str]:
    """The text of pages ``pages`` (0-based) of the PDF ``data``, recognised at ``dpi``."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return {i: image_text(_grey(pdf[i], dpi)) for i in pages}
    finally:
        pdf.close()


def _grey(page: Any, dpi: int) -> bytes:
    """The page as a greyscale PGM image (the format Tesseract reads without any imaging library)."""
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    pixels = bitmap.to_numpy()
    if pixels.ndim == 3:
        pixels = pixels[..., 0]
    height, width = pixels.shape
    return f"P5 {width} {height} 255\n".encode() + pixels.astype("uint8").tobytes()


def image_text(image: bytes) -> str:
    exe = shutil.which("tesseract") or "tesseract"
    done = subprocess.run([exe, "stdin", "stdout", "-l", "+".join(LANGS), "--psm", "3"], input=image,
                          capture_output=True, timeout=300, check=False)  # fmt: skip
    return done.stdout.decode("utf-8", "replace")
