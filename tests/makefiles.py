"""Real files of the formats kb reads, made for the tests: Word, OpenDocument, a scanned (image-only) PDF,
and hostile zips (bomb, broken, macro-enabled, entity expansion)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from pathlib import Path

FR = ("Plan de formation aux métiers de la bioproduction",
      "Les opérateurs de bioproduction suivront une formation de douze semaines sur les bioréacteurs à usage unique.",
      "Chaque usine de biomédicaments accueillera au moins vingt apprentis par an à partir de 2026.")  # fmt: skip


def docx_file(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title, d.core_properties.author = "Plan de formation bioproduction", "Campus Biotech"
    d.core_properties.created = dt.datetime(2025, 4, 2)
    d.add_heading(FR[0], level=1)
    d.add_paragraph(FR[1])
    d.add_heading("Apprentissage", level=2)
    d.add_paragraph(FR[2])
    d.add_paragraph("Ouverture des inscriptions en septembre", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Site", (0, 1): "Places", (1, 0): "Lyon", (1, 1): "40"}.items():
        table.cell(r, c).text = text
    d.save(str(path))
    return path


def odt_file(path: Path) -> Path:
    from odf import dc, meta, table, text
    from odf.opendocument import OpenDocumentText

    d = OpenDocumentText()
    d.meta.addElement(dc.Title(text="Charte des achats de vaccins"))
    d.meta.addElement(meta.InitialCreator(text="Direction des achats hospitaliers"))
    d.meta.addElement(dc.Date(text="2024-11-05T10:00:00"))
    d.text.addElement(text.H(outlinelevel=1, text="Charte des achats de vaccins"))
    p = text.P(text="Les hôpitaux regroupent leurs commandes de vaccins pour constituer un stock de trois mois.")
    note = text.Note(noteclass="footnote")
    note.addElement(text.NoteBody())
    p.addElement(note)
    d.text.addElement(p)
    d.text.addElement(text.H(outlinelevel=2, text="Fournisseurs"))
    d.text.addElement(text.P(text="Deux fournisseurs au moins doivent être retenus pour chaque vaccin essentiel."))
    t = table.Table(name="t")
    row = table.TableRow()
    for value in ("Vaccin", "Stock"):
        cell = table.TableCell()
        cell.addElement(text.P(text=value))
        row.addElement(cell)
    t.addElement(row)
    d.text.addElement(t)
    d.save(str(path))
    return path


def scanned_pdf(source: Path, path: Path, page: int = 0, dpi: int = 200) -> Path:
    """An image-only PDF: one page of ``source`` rendered to a grey image, nothing else (as a scanner gives)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    pixels = pdf[page].render(scale=dpi / 72, grayscale=True).to_numpy()
    pdf.close()
    if pixels.ndim == 3:
        pixels = pixels[..., 0]
    h, w = pixels.shape
    image = zlib.compress(pixels.astype("uint8").tobytes())
    pw, ph = w * 72 / dpi, h * 72 / dpi
    content = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] /Resources << /XObject << /Im0 4 0 R >> >> "
        "/Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 "
        f"/Filter /FlateDecode /Length {len(image)} >>\nstream\n".encode()
        + image
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.writelines(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.write_bytes(out.getvalue())
    return path


def zip_bomb(path: Path) -> Path:
    """A .docx-looking zip whose document part unpacks to 1 GB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            block = b"\0" * 2**20
            for _ in range(1024):
                f.write(block)
    return path


def macro_docx(source: Path, path: Path) -> Path:
    """A macro-enabled Word file (.docm: a VBA project) renamed .docx."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"document.main+xml", b"document.macroEnabled.main+xml")
            z.writestr(item, data)
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 not really VBA")
    return path


def billion_laughs(source: Path, path: Path) -> Path:
    """A .docx whose document part declares nested entities (exponential expansion)."""
    lol = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                                     for i in range(1, 10)]  # fmt: skip
    doc = (f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(lol)}]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
           "<w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>").encode()  # fmt: skip
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            z.writestr(item, doc if item.filename == "word/document.xml" else src.read(item))
    return path
