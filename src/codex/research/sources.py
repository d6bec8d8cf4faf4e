"""What the pipeline passes between stages (stdlib dataclasses: nothing here is rendered by
a front end directly; the report module turns them into JSON)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    """One result a provider returned for a query (a URL to fetch, or a corpus file)."""

    url: str
    title: str
    snippet: str
    provider: str
    published: str | None = None


@dataclass(frozen=True)
class Source:
    """A fetched (or read) document with its extracted main text."""

    url: str
    title: str
    date: str | None
    text: str
    domain: str
    provider: str
    from_cache: bool = False
