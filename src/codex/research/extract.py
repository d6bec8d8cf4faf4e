"""Main text, title and date of a fetched document (trafilatura for HTML; plain text and
Markdown as they are)."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura

HTML_TYPES = ("text/html", "application/xhtml")


@dataclass(frozen=True)
class Extracted:
    """The readable part of a document."""

    title: str
    date: str | None
    text: str


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return stripped[:200]
    return ""


def extract(body: bytes, content_type: str, url: str) -> Extracted | None:
    """The main text of `body`, or None when there is none (a page of navigation only)."""
    text = body.decode("utf-8", "replace")
    looks_html = content_type.startswith(HTML_TYPES) or (
        not content_type and text.lstrip()[:15].lower().startswith(("<!doctype", "<html")))
    if not looks_html:
        return Extracted(_first_heading(text), None, text.strip()) if text.strip() else None
    document = trafilatura.bare_extraction(text, url=url, with_metadata=True,
                                           include_comments=False, favor_precision=True,
                                           as_dict=True)
    if not isinstance(document, dict) or not str(document.get("text") or "").strip():
        return None
    return Extracted(str(document.get("title") or ""), document.get("date") or None,
                     str(document["text"]).strip())
