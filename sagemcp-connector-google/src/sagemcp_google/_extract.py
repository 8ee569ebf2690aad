"""Text from file bytes that Drive cannot export: PDFs (pypdf) and Office Open XML files (the standard library).

Google converts only its own formats (`files.export`); a PDF or a `.docx` stored in Drive is read
here instead, after a download bounded by the caller. Archives are opened with care: a member
larger than `MAX_XML_BYTES` uncompressed is refused (a zip bomb stays a zip), and XML is parsed
with defusedxml (no entity expansion, no external entities).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pypdf import PdfReader
from pypdf.errors import PdfReadError

__all__ = ["OFFICE_TYPES", "ExtractionError", "docx_text", "pdf_text", "pptx_text", "xlsx_csv"]

OFFICE_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}
MAX_XML_BYTES = 30 * 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SLIDE_RE = re.compile(r"^ppt/slides/slide(\d+)\.xml$")
_CELL_RE = re.compile(r"^([A-Z]+)(\d+)$")


class ExtractionError(ValueError):
    """The bytes are not a readable file of the expected kind; the message says why."""


def pdf_text(data: bytes, max_pages: int = 200) -> str:
    """The text of a PDF's pages (at most `max_pages`), a `--- page N ---` line before each."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted; open it in Drive, or share an unencrypted copy")
        parts = []
        for number, page in enumerate(reader.pages[:max_pages], start=1):
            parts.append(f"--- page {number} ---\n{(page.extract_text() or '').strip()}")
    except PdfReadError as exc:
        raise ExtractionError(f"the file is not a readable PDF ({exc})") from None
    if len(reader.pages) > max_pages:
        parts.append(f"--- {len(reader.pages) - max_pages} more pages not read ---")
    return "\n\n".join(parts)


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ExtractionError("the file is not an Office Open XML document (not a zip archive)") from None


def _xml(archive: zipfile.ZipFile, name: str) -> Element | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_XML_BYTES:
        raise ExtractionError(f"{name} inside the file is too large to read ({info.file_size:,} bytes)")
    try:
        root: Element = fromstring(archive.read(info))
    except (ParseError, DefusedXmlException) as exc:
        raise ExtractionError(f"{name} inside the file is not valid or safe XML ({exc})") from None
    return root


def _paragraphs(root: Element, paragraph: str, text: str) -> Iterator[str]:
    for node in root.iter(paragraph):
        yield "".join(t.text or "" for t in node.iter(text))


def docx_text(data: bytes) -> str:
    """The paragraphs of a Word document, one per line."""
    root = _xml(_open(data), "word/document.xml")
    if root is None:
        raise ExtractionError("the file has no word/document.xml: it is not a Word document")
    return "\n".join(_paragraphs(root, f"{_W}p", f"{_W}t")).strip()


def pptx_text(data: bytes) -> str:
    """The text of each slide of a PowerPoint file, a `--- slide N ---` line before each."""
    archive = _open(data)
    slides = sorted((int(m.group(1)), name) for name in archive.namelist() if (m := _SLIDE_RE.match(name)) is not None)
    parts = []
    for number, name in slides:
        root = _xml(archive, name)
        lines = [line for line in _paragraphs(root, f"{_A}p", f"{_A}t") if line.strip()] if root is not None else []
        parts.append(f"--- slide {number} ---\n" + "\n".join(lines))
    return "\n\n".join(parts)


def _column(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number - 1


def xlsx_csv(data: bytes) -> str:
    """The first worksheet of an Excel file as CSV (shared strings resolved, formulas as their cached values)."""
    archive = _open(data)
    shared: list[str] = []
    strings = _xml(archive, "xl/sharedStrings.xml")
    if strings is not None:
        shared = ["".join(t.text or "" for t in item.iter(f"{_S}t")) for item in strings.iter(f"{_S}si")]
    sheet = _xml(archive, "xl/worksheets/sheet1.xml")
    if sheet is None:
        raise ExtractionError("the file has no first worksheet: it is not an Excel workbook")
    rows: list[list[str]] = []
    for row in sheet.iter(f"{_S}row"):
        values: list[str] = []
        for cell in row.iter(f"{_S}c"):
            match = _CELL_RE.match(cell.get("r", ""))
            index = _column(match.group(1)) if match else len(values)
            while len(values) < index:
                values.append("")
            kind = cell.get("t")
            if kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{_S}t"))
            else:
                raw = cell.findtext(f"{_S}v") or ""
                value = shared[int(raw)] if kind == "s" and raw.isdigit() and int(raw) < len(shared) else raw
            values.append(value)
        rows.append(values)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
