"""Throughput of research reading (fetch + extract + de-duplicate) against raw httpx GETs of
the same pages, and the cached second run against the first, in one run.

Pages are served by loopback hosts 127.0.0.2-6 (tests/research/web_world.py); each
measurement fetches the same N pages with the same per-host concurrency:

1. raw: `httpx.AsyncClient.get` of every page (the baseline);
2. research: `FetchGuard.fetch_page` (address and robots checks, audit entries, size cap,
   no cache) + main-text extraction + SimHash page de-dup + MinHash/LSH passage de-dup;
3. cache: the same research pass with the SQLite cache, first (empty cache, every page
   fetched and stored) and second (every page served from the cache, no request).

    .venv/bin/python bench/research.py [--pages 200] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "research"))

import httpx
from web_world import TOPIC, WebWorld, html_page, paragraphs

from codex.audit import AuditLog
from codex.research.cache import ResearchCache
from codex.research.dedup import near_duplicate_pages, repeated_passages
from codex.research.extract import extract
from codex.research.fetch import USER_AGENT, FetchGuard, NetworkRules

PER_HOST = 4
RULES = NetworkRules(allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                     per_host_concurrency=PER_HOST)


def page_urls(world: WebWorld, count: int) -> list[str]:
    hosts = list(world.sites)
    urls = []
    for n in range(count):
        host = hosts[n % len(hosts)]
        world.sites[host].pages[f"/bench{n}"] = html_page(
            f"Bench page {n}", "2024-03-01", [TOPIC, *paragraphs(f"bench{n}", 6)])
        urls.append(world.url(host, f"/bench{n}"))
    return urls


async def raw(urls: list[str]) -> float:
    slots: dict[str, asyncio.Semaphore] = {}
    async with httpx.AsyncClient(trust_env=False) as client:
        async def get(url: str) -> None:
            host = httpx.URL(url).netloc.decode()
            async with slots.setdefault(host, asyncio.Semaphore(PER_HOST)):
                (await client.get(url)).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(get(u) for u in urls))
        return time.perf_counter() - start


async def research(urls: list[str], home: Path, cache: ResearchCache | None) -> float:
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False,
                                 headers={"User-Agent": USER_AGENT}) as client:
        guard = FetchGuard(RULES, client=client, audit=AuditLog(home), session_id="bench",
                           cache=cache)

        async def read(url: str) -> str:
            fetched = await guard.fetch_page(url)
            extracted = extract(fetched.body, fetched.content_type)
            assert extracted is not None
            return extracted.text

        start = time.perf_counter()
        texts = await asyncio.gather(*(read(u) for u in urls))
        near_duplicate_pages(texts, 8)
        repeated_passages([p for t in texts for p in t.split("\n") if len(p) >= 40], 0.7, 128)
        elapsed = time.perf_counter() - start
        if cache is not None and guard.counters.requests == 0:
            assert guard.counters.cached == len(urls)
        return elapsed


async def main_async(count: int) -> None:
    world = WebWorld()
    try:
        urls = page_urls(world, count)
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            await raw(urls)  # warm up connections and the extractor's imports
            baseline = await raw(urls)
            plain = await research(urls, home, None)
            cache = ResearchCache(home / "cache.sqlite", ttl_s=3600)
            first = await research(urls, home, cache)
            seen = len(world.requests)
            second = await research(urls, home, cache)
            assert len(world.requests) == seen, "the cached run made requests"
            cache.close()
    finally:
        world.close()
    print(f"pages: {count} on {len(world.sites)} loopback hosts, {PER_HOST} per host")
    print(f"raw httpx GET:            {count / baseline:8.1f} pages/s")
    print(f"fetch+extract+dedup:      {count / plain:8.1f} pages/s "
          f"(x{plain / baseline:.1f} the raw time)")
    print(f"cache, first run:         {first * 1000:8.1f} ms")
    print(f"cache, second run:        {second * 1000:8.1f} ms "
          f"({second / first:.2f} of the first, 0 requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="8 pages: checks it runs")
    args = parser.parse_args()
    asyncio.run(main_async(8 if args.smoke else args.pages))


if __name__ == "__main__":
    main()
