"""The text of a PDF (a local corpus file or a fetched page), with its title and date.

pypdf (BSD-3-Clause, pure Python, no dependencies) reads the text layer. Scanned PDFs have none
and yield nothing (no OCR). Encrypted or damaged files also yield nothing, so the caller skips
them like a page without main text. Imported only when a PDF is read.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

PDF_MAGIC = b"%PDF-"
_PDF_DATE = re.compile(r"^D?:?(\d{4})(\d{2})(\d{2})")


@dataclass(frozen=True)
class PdfText:
    title: str
    date: str | None
    text: str


def pdf_text(body: bytes) -> PdfText | None:
    """Title (document info), date (creation date, YYYY-MM-DD) and page text; None when the
    file has no readable text layer."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            return None
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        return None
    title = str(info.get("/Title") or "") if info else ""
    raw_date = str(info.get("/CreationDate") or "") if info else ""
    match = _PDF_DATE.match(raw_date)
    return PdfText(title.strip()[:200], "-".join(match.groups()) if match else None, text)
