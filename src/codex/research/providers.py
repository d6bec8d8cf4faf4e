"""Web search providers behind one interface, each speaking its API's own format:

- Brave Search API: `GET {base}/web/search?q=&count=`, header `X-Subscription-Token`;
  results in `web.results[]` (`title`, `url`, `description`, `page_age`).
- Tavily: `POST {base}/search` with JSON `{"query", "max_results", "search_depth"}` and
  `Authorization: Bearer <key>`; results in `results[]` (`title`, `url`, `content`,
  `published_date`).
- SearXNG (self-hosted): `GET {base}/search?q=&format=json`; results in `results[]`
  (`title`, `url`, `content`, `publishedDate`).

Keys come from the environment variable named in `[research.<provider>] api_key_env`, never
from the command line. Requests go through the `FetchGuard` (audited); parsed hits are cached
by provider and query.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any, Protocol

import httpx

from codex.research.cache import ResearchCache
from codex.research.errors import ResearchError
from codex.research.fetch import FetchGuard, Refused
from codex.research.sources import SearchHit


class ProviderFailed(Exception):
    """One provider could not answer (the run goes on with the others)."""


class SearchProvider(Protocol):
    name: str

    async def search(self, query: str, count: int) -> list[SearchHit]: ...


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _results(body: Any, *path: str) -> list[dict[str, Any]]:
    node = body
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        raise ProviderFailed(f"response has no {'.'.join(path)} list")
    return [item for item in node if isinstance(item, dict) and _text(item.get("url"))]


def cached_hits(cache: ResearchCache | None, provider: str, query: str,
                count: int) -> list[SearchHit] | None:
    """The hits stored for this provider and query, or None (no cache, or not stored)."""
    stored = cache.search(provider, query, count) if cache is not None else None
    return None if stored is None else [SearchHit(**hit) for hit in json.loads(stored)]


def store_hits(cache: ResearchCache | None, provider: str, query: str, count: int,
               hits: list[SearchHit]) -> None:
    if cache is not None:
        cache.store_search(provider, query, count, json.dumps([asdict(hit) for hit in hits]))


class WebProvider:
    """A provider reached over HTTP; subclasses say how to ask and how to read the answer."""

    name = ""

    def __init__(self, guard: FetchGuard, base_url: str, api_key: str | None,
                 cache: ResearchCache | None) -> None:
        self.guard = guard
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.cache = cache

    async def _call(self, query: str, count: int) -> httpx.Response:
        raise NotImplementedError

    def _parse(self, body: Any) -> list[SearchHit]:
        raise NotImplementedError

    async def search(self, query: str, count: int) -> list[SearchHit]:
        stored = cached_hits(self.cache, self.name, query, count)
        if stored is not None:
            return stored
        try:
            response = await self._call(query, count)
        except (httpx.HTTPError, Refused) as exc:
            raise ProviderFailed(f"{self.name}: {exc or type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ProviderFailed(f"{self.name}: HTTP {response.status_code} from "
                                 f"{self.base_url}")
        try:
            hits = self._parse(response.json())[:count]
        except ValueError as exc:
            raise ProviderFailed(f"{self.name}: response is not JSON ({exc})") from exc
        store_hits(self.cache, self.name, query, count, hits)
        return hits


class BraveProvider(WebProvider):
    name = "brave"

    async def _call(self, query: str, count: int) -> httpx.Response:
        return await self.guard.api_request(
            "GET", f"{self.base_url}/web/search", params={"q": query, "count": count},
            headers={"Accept": "application/json",
                     "X-Subscription-Token": self.api_key or ""})

    def _parse(self, body: Any) -> list[SearchHit]:
        return [SearchHit(url=item["url"], title=_text(item.get("title")),
                          snippet=_text(item.get("description")), provider=self.name,
                          published=_text(item.get("page_age")) or None)
                for item in _results(body, "web", "results")]


class TavilyProvider(WebProvider):
    name = "tavily"

    async def _call(self, query: str, count: int) -> httpx.Response:
        return await self.guard.api_request(
            "POST", f"{self.base_url}/search",
            headers={"Authorization": f"Bearer {self.api_key or ''}"},
            json={"query": query, "max_results": count, "search_depth": "basic"})

    def _parse(self, body: Any) -> list[SearchHit]:
        return [SearchHit(url=item["url"], title=_text(item.get("title")),
                          snippet=_text(item.get("content")), provider=self.name,
                          published=_text(item.get("published_date")) or None)
                for item in _results(body, "results")]


class SearxngProvider(WebProvider):
    name = "searxng"

    async def _call(self, query: str, count: int) -> httpx.Response:
        return await self.guard.api_request(
            "GET", f"{self.base_url}/search", params={"q": query, "format": "json"},
            headers={"Accept": "application/json"})

    def _parse(self, body: Any) -> list[SearchHit]:
        return [SearchHit(url=item["url"], title=_text(item.get("title")),
                          snippet=_text(item.get("content")), provider=self.name,
                          published=_text(item.get("publishedDate")) or None)
                for item in _results(body, "results")]


_CLASSES: dict[str, type[WebProvider]] = {
    "brave": BraveProvider, "tavily": TavilyProvider, "searxng": SearxngProvider}
_NEEDS_KEY = frozenset({"brave", "tavily"})
# (base_url, api_key_env) used where `[research.<name>]` leaves a key unset.
DEFAULTS: dict[str, tuple[str | None, str | None]] = {
    "brave": ("https://api.search.brave.com/res/v1", "BRAVE_API_KEY"),
    "tavily": ("https://api.tavily.com", "TAVILY_API_KEY"),
    "searxng": (None, None),
}


def build_web_providers(names: list[str], tables: dict[str, tuple[str | None, str | None]],
                        guard: FetchGuard, cache: ResearchCache | None,
                        environ: dict[str, str] | None = None) -> list[WebProvider]:
    """The configured providers; `tables[name]` = (base_url, api_key_env). A provider
    without a base URL or without its key is a configuration error naming the fix."""
    env = os.environ if environ is None else environ
    providers: list[WebProvider] = []
    for name in names:
        base_url = tables[name][0] or DEFAULTS[name][0]
        key_env = tables[name][1] or DEFAULTS[name][1]
        if not base_url:
            raise ResearchError(f"[research.{name}] base_url is not set (for SearXNG: the "
                                "URL of your instance, e.g. http://localhost:8888)")
        key = env.get(key_env) if key_env else None
        if name in _NEEDS_KEY and not key:
            raise ResearchError(f"{name}: set the API key in the environment variable "
                                f"{key_env or '(none named)'} ([research.{name}] api_key_env)")
        providers.append(_CLASSES[name](guard, base_url, key, cache))
    return providers
