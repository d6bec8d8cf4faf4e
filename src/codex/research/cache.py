"""The research cache: SQLite at CODEX_HOME/research/cache.sqlite (stdlib only).

Two tables: `pages` keyed by URL (final URL, status, body, content hash, ETag, Last-Modified,
fetch time) and `searches` keyed by provider, query and result count (the provider's parsed
hits as JSON). An entry younger than the TTL is served without any network request; an older
page with an ETag or Last-Modified is revalidated (a 304 refreshes it). Writes commit one by
one, so an interrupted run keeps everything it fetched.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, final_url TEXT NOT NULL, status INTEGER NOT NULL,
    content_type TEXT NOT NULL, body BLOB NOT NULL, content_hash TEXT NOT NULL,
    etag TEXT, last_modified TEXT, fetched_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS searches (
    provider TEXT NOT NULL, query TEXT NOT NULL, count INTEGER NOT NULL,
    results TEXT NOT NULL, fetched_at REAL NOT NULL, PRIMARY KEY (provider, query, count));
"""


def cache_path(codex_home: Path) -> Path:
    """Where the cache lives."""
    return codex_home / "research" / "cache.sqlite"


@dataclass(frozen=True)
class CachedPage:
    """A stored response; `fresh` is False once it is older than the TTL."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    content_hash: str
    etag: str | None
    last_modified: str | None
    fresh: bool


@dataclass(frozen=True)
class CacheStats:
    """What `codex research cache stats` prints."""

    path: str
    pages: int
    searches: int
    bytes: int


class ResearchCache:
    """The cache file, opened for one run (created on first use)."""

    def __init__(self, path: Path, ttl_s: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.ttl_s = ttl_s
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _fresh(self, fetched_at: float) -> bool:
        return time.time() - fetched_at < self.ttl_s

    def page(self, url: str) -> CachedPage | None:
        row = self._db.execute(
            "SELECT final_url, status, content_type, body, content_hash, etag, last_modified,"
            " fetched_at FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        return CachedPage(url, row[0], row[1], row[2], bytes(row[3]), row[4], row[5], row[6],
                          self._fresh(row[7]))

    def store_page(self, url: str, final_url: str, status: int, content_type: str,
                   body: bytes, etag: str | None, last_modified: str | None) -> None:
        digest = hashlib.sha256(body).hexdigest()
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (url, final_url, status, content_type, body, digest, etag, last_modified,
                 time.time()))

    def touch_page(self, url: str) -> None:
        """A 304 said the stored copy is still current: restart its TTL."""
        with self._db:
            self._db.execute("UPDATE pages SET fetched_at = ? WHERE url = ?", (time.time(), url))

    def search(self, provider: str, query: str, count: int) -> str | None:
        row = self._db.execute(
            "SELECT results, fetched_at FROM searches WHERE provider = ? AND query = ? "
            "AND count = ?", (provider, query, count)).fetchone()
        return str(row[0]) if row is not None and self._fresh(row[1]) else None

    def store_search(self, provider: str, query: str, count: int, results: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO searches VALUES (?, ?, ?, ?, ?)",
                             (provider, query, count, results, time.time()))

    def stats(self) -> CacheStats:
        pages, size = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM pages").fetchone()
        searches = self._db.execute("SELECT COUNT(*) FROM searches").fetchone()[0]
        return CacheStats(str(self.path), int(pages), int(searches), int(size))

    def clear(self) -> None:
        with self._db:
            self._db.execute("DELETE FROM pages")
            self._db.execute("DELETE FROM searches")
        self._db.execute("VACUUM")
