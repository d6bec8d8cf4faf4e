"""The one path research takes to the network: decide -> enforce -> record, like
`codex.tools.guarded_exec` does for commands.

    guard = FetchGuard(rules, client=httpx.AsyncClient(...), audit=AuditLog|None,
                       session_id=..., cache=ResearchCache|None)
    fetched = await guard.fetch_page(url)        # a page: every network rule applies
    response = await guard.api_request(...)      # a configured search API endpoint

Decide: only http/https; every address the host resolves to must be public, or inside
`[research] allow_networks`; robots.txt (RFC 9309: 4xx = no rules, 5xx or unreachable = all
disallowed) unless `respect_robots = false`. Enforce: redirects are not followed by httpx but
decided again hop by hop (at most `max_redirects`), the connected peer address is checked
again (a DNS answer that changed after the check is caught), bodies over `max_page_bytes`
are refused, timeouts apply, at most `per_host_concurrency` requests per host at once.
Record: one `network` audit entry per decision (allowed before the request is sent, denied
with the reason); when an entry cannot be written the request is not made.
A fresh cache entry answers without any request; a stale one is revalidated.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from codex.audit import AuditError, AuditLog, Decision, Operation
from codex.research.cache import ResearchCache

ACTOR = "research"
PROFILE = "research"
USER_AGENT = "codex-research"
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class NetworkRules:
    """The research network rules (from `[research]`)."""

    allow_networks: tuple[IpNetwork, ...] = ()
    respect_robots: bool = True
    max_bytes: int = 2_000_000
    timeout_s: float = 15.0
    max_redirects: int = 5
    per_host_concurrency: int = 2


@dataclass(frozen=True)
class Fetched:
    """A page as received (or as served from the cache)."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    from_cache: bool = False


class Refused(Exception):
    """A rule stopped the request; the message says which (already audited)."""


@dataclass
class FetchCounters:
    """What the progress line and the report count."""

    requests: int = 0
    cached: int = 0
    revalidated: int = 0
    refused: int = 0
    hosts: set[str] = field(default_factory=set)


class FetchGuard:
    """See the module docstring."""

    def __init__(self, rules: NetworkRules, *, client: httpx.AsyncClient,
                 audit: AuditLog | None, session_id: str,
                 cache: ResearchCache | None) -> None:
        self.rules = rules
        self.client = client
        self.audit = audit
        self.session_id = session_id
        self.cache = cache
        self.counters = FetchCounters()
        self._host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(rules.per_host_concurrency))
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- record -------------------------------------------------------------------------------

    def _record(self, target: str, decision: Decision, reason: str) -> None:
        if self.audit is None:
            return
        try:
            self.audit.record(Operation.NETWORK, target, decision, reason, PROFILE,
                              self.session_id, ACTOR)
        except AuditError as exc:
            raise Refused(f"{target}: not fetched, the audit log failed ({exc})") from exc

    def _deny(self, url: str, reason: str) -> Refused:
        self.counters.refused += 1
        self._record(url, Decision.DENIED, reason)
        return Refused(f"{url}: {reason}")

    # -- decide -------------------------------------------------------------------------------

    def _address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in network for network in self.rules.allow_networks):
            return True
        return ip.is_global

    async def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise self._deny(url, f"scheme {parts.scheme or '(none)'!r} refused: only http "
                                  "and https are fetched")
        host = parts.hostname
        if not host:
            raise self._deny(url, "no host in the URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise self._deny(url, f"cannot resolve {host}: {exc}") from exc
        for info in infos:
            address = str(info[4][0])
            if not self._address_allowed(address):
                raise self._deny(url, f"{host} resolves to {address}, a private or loopback "
                                      "address (allow it with [research] allow_networks)")

    async def _robots_allows(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_locks[origin]:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin + "/robots.txt")
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(USER_AGENT, url)

    async def _load_robots(self, robots_url: str) -> RobotFileParser | None:
        """The parsed robots.txt; None = no rules (4xx); an all-disallow parser on 5xx or
        when it cannot be fetched (RFC 9309, section 2.3.1)."""
        parser = RobotFileParser(robots_url)
        try:
            fetched = await self._fetch(robots_url, robots=False)
        except (Refused, httpx.HTTPError):
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser
        if 400 <= fetched.status < 500:
            return None
        if fetched.status >= 500:
            parser.parse(["User-agent: *", "Disallow: /"])
            return parser
        parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return parser

    # -- enforce ------------------------------------------------------------------------------

    def _check_peer(self, url: str, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not self._address_allowed(str(peer[0])):
            raise self._deny(url, f"connected to {peer[0]}, a private or loopback address")

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.rules.max_bytes:
            raise self._deny(url, f"{declared} bytes is over the {self.rules.max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.rules.max_bytes:
                raise self._deny(url, f"body over the {self.rules.max_bytes}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _fetch(self, url: str, *, robots: bool) -> Fetched:
        original = url
        cached = self.cache.page(original) if self.cache is not None else None
        if cached is not None and cached.fresh:
            self.counters.cached += 1
            return Fetched(original, cached.final_url, cached.status, cached.content_type,
                           cached.body, from_cache=True)
        for _hop in range(self.rules.max_redirects + 1):
            await self._check_address(url)
            if robots and self.rules.respect_robots and not await self._robots_allows(url):
                raise self._deny(url, "robots.txt disallows it (set [research] "
                                      "respect_robots = false to ignore)")
            self._record(url, Decision.ALLOWED, "research fetch: address and robots checked")
            headers: dict[str, str] = {}
            if cached is not None and url == original:
                if cached.etag:
                    headers["If-None-Match"] = cached.etag
                if cached.last_modified:
                    headers["If-Modified-Since"] = cached.last_modified
            host = urlsplit(url).netloc
            async with self._host_slots[host]:
                self.counters.requests += 1
                self.counters.hosts.add(host)
                async with self.client.stream("GET", url, headers=headers) as response:
                    self._check_peer(url, response)
                    if response.status_code == 304 and cached is not None:
                        self.counters.revalidated += 1
                        assert self.cache is not None
                        self.cache.touch_page(original)
                        return Fetched(original, cached.final_url, cached.status,
                                       cached.content_type, cached.body, from_cache=True)
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        url = urljoin(url, location)
                        continue
                    body = await self._read_capped(url, response)
            fetched = Fetched(original, url, response.status_code,
                              response.headers.get("content-type", ""), body)
            if self.cache is not None and (response.status_code == 200 or not robots):
                self.cache.store_page(original, url, response.status_code,
                                      fetched.content_type, body,
                                      response.headers.get("etag"),
                                      response.headers.get("last-modified"))
            return fetched
        raise self._deny(url, f"more than {self.rules.max_redirects} redirects")

    async def fetch_page(self, url: str) -> Fetched:
        """A page under every rule (raises `Refused` or `httpx.HTTPError`)."""
        return await self._fetch(url, robots=True)

    async def api_request(self, method: str, url: str, *, headers: Mapping[str, str],
                          params: Mapping[str, Any] | None = None,
                          json: Any = None) -> httpx.Response:
        """A call to a search API the user configured: no address or robots rule (a
        self-hosted SearXNG may live on localhost), but recorded like every request."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise self._deny(url, "a search API URL must be http or https")
        self._record(url, Decision.ALLOWED, "research search API request")
        self.counters.requests += 1
        response = await self.client.request(method, url, headers=dict(headers),
                                              params=params, json=json)
        return response
