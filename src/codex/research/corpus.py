"""The local corpus provider: Markdown, text, HTML and PDF files under a folder, indexed with
SQLite FTS5 and ranked by BM25. No network at all; the index lives in memory for one run. PDFs
are indexed by their text layer (a PDF without one is left out).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from codex.research.errors import ResearchError
from codex.research.extract import extract, local_content_type
from codex.research.sources import SearchHit

SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf"})
_TOKEN = re.compile(r"\w+", re.UNICODE)


class CorpusProvider:
    """Search the files under `root`; a hit's URL is the file's `file://` URI."""

    name = "corpus"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ResearchError(f"--corpus {root}: not a directory")
        self.root = root.resolve()
        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, body)")
        self.files = 0
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                text = _indexed_text(path)
                if text is None:
                    continue
                self._db.execute("INSERT INTO docs VALUES (?, ?)", (str(path), text))
                self.files += 1
        if self.files == 0:
            raise ResearchError(f"--corpus {root}: no readable .md, .txt, .html or .pdf files "
                                "in it")

    async def search(self, query: str, count: int) -> list[SearchHit]:
        # Quote every word: user text never becomes FTS5 query syntax; any word may match.
        terms = " OR ".join(f'"{token}"' for token in _TOKEN.findall(query))
        if not terms:
            return []
        rows = self._db.execute(
            "SELECT path, snippet(docs, 1, '', '', '…', 24) FROM docs WHERE docs MATCH ? "
            "ORDER BY bm25(docs) LIMIT ?", (terms, count)).fetchall()
        return [SearchHit(url=Path(path).as_uri(), title=Path(path).name, snippet=snippet,
                          provider=self.name) for path, snippet in rows]


def _indexed_text(path: Path) -> str | None:
    """What the index holds for `path`: the file as text, a PDF's text layer (None without)."""
    if local_content_type(path.suffix) == "application/pdf":
        extracted = extract(path.read_bytes(), "application/pdf")
        return extracted.text if extracted else None
    return path.read_text(encoding="utf-8", errors="replace")
