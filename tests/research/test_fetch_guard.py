"""The research fetch guard against real loopback servers: a redirect to an address outside
`allow_networks` is refused at the hop, oversize bodies and non-http schemes are refused,
every decision is in the audit log, and a stale cache entry is revalidated with its ETag."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from codex.audit import AuditLog, read_entries
from codex.research.cache import ResearchCache
from codex.research.fetch import FetchGuard, NetworkRules, Refused

PAGE = b"<html><body><article><p>hello page</p></article></body></html>"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            recorder.requests.append((self.path, self.headers.get("If-None-Match")))
            if self.path == "/robots.txt":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.3:{port}/page")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/big":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"x" * 50_000)
            elif self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

    # One port on every loopback address: 127.0.0.2 and 127.0.0.3 are distinct hosts.
    httpd = ThreadingHTTPServer(("0.0.0.0", 0), Handler)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.2:{port}", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()


def _run(home: Path, rules: NetworkRules, urls: list[str],
         cache: ResearchCache | None = None) -> list[object]:
    async def go() -> list[object]:
        async with httpx.AsyncClient(trust_env=False) as client:
            guard = FetchGuard(rules, client=client, audit=AuditLog(home), session_id="t",
                               cache=cache)
            out: list[object] = []
            for url in urls:
                try:
                    out.append(await guard.fetch_page(url))
                except Refused as exc:
                    out.append(exc)
            return out

    return asyncio.run(go())


def _entries(home: Path) -> list[tuple[str, str, str]]:
    return [(e.target, e.decision, e.reason) for e in read_entries(home / "audit")]


def test_redirect_to_an_address_outside_the_allowed_networks_is_refused(
        server: tuple[str, Recorder], tmp_path: Path) -> None:
    base, recorder = server
    rules = NetworkRules(allow_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    [outcome] = _run(tmp_path, rules, [f"{base}/redirect"])
    assert isinstance(outcome, Refused) and "private or loopback" in str(outcome)
    assert [p for p, _ in recorder.requests] == ["/robots.txt", "/redirect"]
    decisions = _entries(tmp_path)
    assert decisions[-1][0].endswith("127.0.0.3:" + base.rsplit(":", 1)[1] + "/page")
    assert decisions[-1][1] == "denied"
    # Control: with .3 allowed too, the same redirect is followed.
    both = NetworkRules(allow_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    [followed] = _run(tmp_path, both, [f"{base}/redirect"])
    assert not isinstance(followed, Refused)
    assert followed.final_url.startswith("http://127.0.0.3")  # type: ignore[attr-defined]


def test_size_cap_scheme_and_default_private_refusal(server: tuple[str, Recorder],
                                                     tmp_path: Path) -> None:
    base, recorder = server
    loop = (ipaddress.ip_network("127.0.0.0/8"),)
    big, scheme = _run(tmp_path, NetworkRules(allow_networks=loop, max_bytes=10_000),
                       [f"{base}/big", "file:///etc/passwd"])
    assert isinstance(big, Refused) and "cap" in str(big)
    assert isinstance(scheme, Refused) and "only http" in str(scheme)
    before = len(recorder.requests)
    [private] = _run(tmp_path, NetworkRules(), [f"{base}/page"])
    assert isinstance(private, Refused) and "allow_networks" in str(private)
    assert len(recorder.requests) == before  # refused before any request
    assert sum(1 for _, d, _ in _entries(tmp_path) if d == "denied") == 3


def test_stale_entry_is_revalidated_with_its_etag(server: tuple[str, Recorder],
                                                  tmp_path: Path) -> None:
    base, recorder = server
    rules = NetworkRules(allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                         respect_robots=False)
    cache = ResearchCache(tmp_path / "cache.sqlite", ttl_s=0)  # every entry is stale
    first, second = _run(tmp_path, rules, [f"{base}/page", f"{base}/page"], cache)
    assert recorder.requests == [("/page", None), ("/page", '"v1"')]
    assert second.from_cache and second.body == PAGE  # type: ignore[attr-defined]
    assert not first.from_cache  # type: ignore[attr-defined]
    fresh = ResearchCache(tmp_path / "cache.sqlite", ttl_s=3600)
    _run(tmp_path, rules, [f"{base}/page"], fresh)
    assert len(recorder.requests) == 2  # fresh entry: no request at all
