"""Main text, title and date of a fetched document (HTML reduced to its article; PDF through its
text layer, see `codex.research.pdf`; plain text and Markdown as they are).

HTML goes through the standard library's parser. Skipped entirely: scripts, styles, forms,
navigation, page headers and footers, sidebars, and elements whose role, class or id names
boilerplate (menus, cookie banners, share bars, comments, ads). What is left is cut into text
blocks (paragraphs, list items, headings, quotes, code, cells). When the page marks its
content with `<article>` or `<main>`, only blocks inside it count. Blocks that are mostly
link text are dropped. The title comes from `og:title`, else `<title>`, else the first `<h1>`.
The date comes from the usual publication meta tags, else the first `<time datetime>`.

trafilatura does this better on hard pages, but it cannot ship in the native build. Its
dependency closure (lxml 12 MB, babel 36 MB, dateparser and regex 7 MB, installed) does not
fit: the platform package is 39.6 MB packed without it, against a 40 MB budget. Our tests use
it as a test-only oracle: on the test page set this extractor keeps what trafilatura keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from codex.research.pdf import PDF_MAGIC

HTML_TYPES = ("text/html", "application/xhtml")
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "header",
                           "footer", "aside", "form", "button", "select", "iframe", "canvas",
                           "dialog", "menu"})
_VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                        "meta", "source", "track", "wbr"})
_BLOCK_TAGS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
                         "td", "th", "dd", "dt", "figcaption", "caption", "div", "section",
                         "article", "main", "ul", "ol", "table", "tr", "body"})
_BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary",
                                "search", "menu", "menubar", "dialog"})
_BOILERPLATE = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|footer|header|sidebar|breadcrumbs?|cookies?|consent|banner|"
    r"share|sharing|social|comments?|related|advert|ads?|promo|subscribe|newsletter|"
    r"popup|modal|skip)([-_\s]|$)", re.IGNORECASE)
_DATE_META = ("article:published_time", "og:published_time", "date", "pubdate",
              "publishdate", "dc.date", "dc.date.issued", "dcterms.created", "datepublished",
              "sailthru.date", "parsely-pub-date")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SPACE = re.compile(r"\s+")
_MAX_LINK_SHARE = 0.5


@dataclass(frozen=True)
class Extracted:
    """The readable part of a document."""

    title: str
    date: str | None
    text: str


@dataclass
class _Block:
    text: list[str] = field(default_factory=list)
    link_chars: int = 0
    in_content: bool = False
    heading: bool = False


class _Reader(HTMLParser):
    """One pass over the document: blocks, title candidates and date candidates."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, content)
        self.blocks: list[_Block] = []
        self.current = _Block()
        self.links = 0
        self.title_parts: list[str] = []
        self.in_title = False
        self.meta: dict[str, str] = {}
        self.time_datetime: str | None = None
        self.first_h1: list[str] = []
        self.in_h1 = False
        self.saw_content_root = False

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    @property
    def in_content(self) -> bool:
        return bool(self.stack) and self.stack[-1][2]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or values.get("itemprop")
                   or "").lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])
            return
        if tag == "time" and self.time_datetime is None and values.get("datetime"):
            self.time_datetime = values["datetime"]
        if tag == "title":
            self.in_title = True
        if tag in _VOID_TAGS:
            if tag == "br":
                self.current.text.append(" ")
            return
        skipped = self.skipping or tag in _SKIPPED_TAGS or self._boilerplate(values)
        content = self.in_content or tag in ("article", "main") or \
            values.get("role", "").lower() == "main"
        if content and not skipped:
            self.saw_content_root = True
        if tag in _BLOCK_TAGS:
            self._end_block()
            self.current.heading = tag in ("h1", "h2", "h3", "h4", "h5", "h6")
        if tag == "h1" and not self.first_h1:
            self.in_h1 = True
        if tag == "a":
            self.links += 1
        self.stack.append((tag, skipped, content))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag == "h1":
            self.in_h1 = False
        if tag == "a":
            self.links = max(0, self.links - 1)
        if not any(open_tag == tag for open_tag, _, _ in self.stack):
            return  # a stray end tag
        while self.stack:
            open_tag, _, _ = self.stack.pop()
            if open_tag == tag:
                break
        if tag in _BLOCK_TAGS:
            self._end_block()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.in_h1:
            self.first_h1.append(data)
        if self.skipping:
            return
        self.current.text.append(data)
        self.current.in_content = self.current.in_content or self.in_content
        if self.links:
            self.current.link_chars += len(data.strip())

    def close(self) -> None:
        super().close()
        self._end_block()

    def _end_block(self) -> None:
        if "".join(self.current.text).strip():
            self.blocks.append(self.current)
        self.current = _Block()

    @staticmethod
    def _boilerplate(values: dict[str, str]) -> bool:
        if values.get("role", "").lower() in _BOILERPLATE_ROLES or "hidden" in values:
            return True
        if values.get("aria-hidden", "").lower() == "true":
            return True
        names = f"{values.get('class', '')} {values.get('id', '')}"
        return bool(_BOILERPLATE.search(names))


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _date(reader: _Reader) -> str | None:
    candidates = [reader.meta.get(key) for key in _DATE_META]
    candidates.append(reader.time_datetime)
    for candidate in candidates:
        if candidate and (match := _ISO_DATE.search(candidate)):
            return "-".join(match.groups())
    return None


def _html(text: str) -> Extracted | None:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    blocks = [b for b in reader.blocks if b.in_content] if reader.saw_content_root \
        else reader.blocks
    kept = []
    for block in blocks:
        line = _clean("".join(block.text))
        if not line:
            continue
        if not block.heading and block.link_chars > _MAX_LINK_SHARE * len(line):
            continue
        kept.append(line)
    if not kept:
        return None
    title = _clean(reader.meta.get("og:title", "")) or _clean("".join(reader.title_parts)) \
        or _clean("".join(reader.first_h1))
    return Extracted(title[:200], _date(reader), "\n".join(kept))


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return stripped[:200]
    return ""


LOCAL_TYPES = {".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf"}


def local_content_type(suffix: str) -> str:
    """The content type a local corpus file is read as ("" for text and Markdown)."""
    return LOCAL_TYPES.get(suffix.lower(), "")


def extract(body: bytes, content_type: str) -> Extracted | None:
    """The main text of `body`, or None when there is none (a page of navigation only, a PDF
    without a text layer)."""
    if content_type.startswith("application/pdf") or body.startswith(PDF_MAGIC):
        from codex.research.pdf import pdf_text

        document = pdf_text(body)
        if document is None:
            return None
        return Extracted(document.title or _first_heading(document.text), document.date,
                         document.text)
    text = body.decode("utf-8", "replace")
    looks_html = content_type.startswith(HTML_TYPES) or (
        not content_type and text.lstrip()[:15].lower().startswith(("<!doctype", "<html")))
    if not looks_html:
        return Extracted(_first_heading(text), None, text.strip()) if text.strip() else None
    return _html(text)
