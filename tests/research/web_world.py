"""A small web on loopback: page hosts on 127.0.0.2-6 (distinct sites) and one server for
the search APIs, each speaking its provider's documented JSON response format.

Pages: four articles on the dominating host 127.0.0.2, an original on .3 with a mirror on .4
(same text, other navigation) and a syndicated copy on .5 (one line added), a distinct
article on .6 that repeats one paragraph of an article on .2, and a page on .6 that
robots.txt disallows. Every request any server receives is recorded in `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOPIC = ("Solar panels convert sunlight into electricity using photovoltaic cells made of "
         "silicon layers that free electrons when photons strike them.")
SHARED_PARAGRAPH = ("Grid operators report that rooftop solar panels work to shift the daily "
                    "demand curve, lowering midday prices and raising evening ramps across "
                    "many regional markets this decade.")


def paragraphs(seed: str, count: int = 4) -> list[str]:
    return [f"{seed} paragraph {n}: " + " ".join(
        f"{seed}{n}word{k} about solar energy research detail" for k in range(12)) + "."
        for n in range(count)]


def html_page(title: str, date: str, texts: list[str], nav: str = "Home | About") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in texts)
    return (f"<!DOCTYPE html><html><head><title>{title}</title>"
            f'<meta name="date" content="{date}"></head><body><nav>{nav}</nav>'
            f"<article><h1>{title}</h1>{body}</article><footer>footer</footer>"
            "</body></html>").encode()


ORIGINAL = [TOPIC, *paragraphs("original", 5)]


@dataclass
class Site:
    server: ThreadingHTTPServer
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


class WebWorld:
    """See the module docstring."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (host:port, path)
        self.sites: dict[str, Site] = {}
        self.failing: set[str] = set()  # provider names answering HTTP 500
        self.slow: set[str] = set()  # page paths that answer only after 30 s
        for last in range(2, 7):
            self.sites[f"127.0.0.{last}"] = self._start(f"127.0.0.{last}")
        self.api = self._start("127.0.0.1")
        dom = self.sites["127.0.0.2"]
        for n in range(1, 5):
            dom.pages[f"/article{n}"] = html_page(f"Dominant article {n}", f"2024-0{n}-10",
                                              [TOPIC, *paragraphs(f"dominant{n}")])
        dom.pages["/article1"] = html_page("Dominant article 1", "2024-01-10",
                                       [TOPIC, SHARED_PARAGRAPH, *paragraphs("dominant1")])
        self.sites["127.0.0.3"].pages["/original"] = html_page("Original report", "2023-05-01",
                                                           ORIGINAL)
        self.sites["127.0.0.4"].pages["/mirror"] = html_page("Original report (mirror)",
                                                         "2023-05-01", ORIGINAL,
                                                         nav="Mirror | Index")
        self.sites["127.0.0.5"].pages["/syndicated"] = html_page(
            "Original report", "2023-05-02",
            [*ORIGINAL, "This article was originally published by the original report."])
        other = self.sites["127.0.0.6"]
        other.pages["/distinct"] = html_page("Another view", "2025-02-01",
                                         [SHARED_PARAGRAPH, *paragraphs("distinct")])
        other.pages["/private/secret"] = html_page("Secret", "2025-01-01", paragraphs("secret"))
        other.pages["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"

    def url(self, host: str, path: str) -> str:
        return self.sites[host].base + path

    def page_requests(self) -> list[tuple[str, str]]:
        api = "{}:{}".format(*self.api.server.server_address[:2])
        return [r for r in self.requests if r[0] != api]

    # -- providers -------------------------------------------------------------------------

    def brave_body(self) -> dict[str, Any]:
        urls = [self.url("127.0.0.2", "/article1"), self.url("127.0.0.2", "/article2"),
                self.url("127.0.0.3", "/original")]
        return {"type": "search", "query": {"original": "q"}, "web": {"type": "search",
                "results": [{"type": "search_result", "title": f"result {i}", "url": u,
                             "description": "snippet", "page_age": "2024-01-10T00:00:00"}
                            for i, u in enumerate(urls)]}}

    def tavily_body(self, query: str) -> dict[str, Any]:
        urls = [self.url("127.0.0.2", "/article3"), self.url("127.0.0.4", "/mirror"),
                self.url("127.0.0.5", "/syndicated")]
        return {"query": query, "answer": None, "images": [], "response_time": 0.1,
                "results": [{"title": f"t{i}", "url": u, "content": "snippet", "score": 0.9,
                             "raw_content": None} for i, u in enumerate(urls)]}

    def searxng_body(self, query: str) -> dict[str, Any]:
        urls = [self.url("127.0.0.2", "/article4"), self.url("127.0.0.6", "/distinct"),
                self.url("127.0.0.6", "/private/secret")]
        return {"query": query, "number_of_results": len(urls), "answers": [],
                "corrections": [], "infoboxes": [], "suggestions": [],
                "unresponsive_engines": [],
                "results": [{"url": u, "title": f"s{i}", "content": "snippet",
                             "engine": "duckduckgo", "engines": ["duckduckgo"],
                             "score": 1.0, "category": "general"}
                            for i, u in enumerate(urls)]}

    def api_base(self, provider: str) -> str:
        return {"brave": f"{self.api.base}/brave/res/v1", "tavily": f"{self.api.base}/tavily",
                "searxng": f"{self.api.base}/searxng"}[provider]

    def provider_config(self, *names: str) -> tuple[str, ...]:
        items = [f"research.providers={json.dumps(list(names))}",
                 'research.allow_networks=["127.0.0.0/8"]']
        items += [f"research.{n}.base_url={self.api_base(n)}" for n in names]
        return tuple(items)

    # -- serving ---------------------------------------------------------------------------

    def _start(self, host: str) -> Site:
        world = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (the Ctrl-C test)

            def _api(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                provider = parts.path.split("/")[1]
                if provider in world.failing:
                    self._send(500, b'{"error": "down"}', "application/json")
                    return
                if method == "GET" and parts.path == "/brave/res/v1/web/search":
                    ok = self.headers.get("X-Subscription-Token") == "brave-test-key"
                    body = world.brave_body() if ok else {"error": "bad token"}
                    self._send(200 if ok else 401, json.dumps(body).encode(),
                               "application/json")
                elif method == "POST" and parts.path == "/tavily/search":
                    length = int(self.headers.get("Content-Length", "0"))
                    request = json.loads(self.rfile.read(length))
                    ok = self.headers.get("Authorization") == "Bearer tvly-test-key"
                    body = world.tavily_body(request["query"]) if ok else {"detail": "key"}
                    self._send(200 if ok else 401, json.dumps(body).encode(),
                               "application/json")
                elif method == "GET" and parts.path == "/searxng/search" and \
                        query.get("format") == ["json"]:
                    self._send(200, json.dumps(world.searxng_body(query["q"][0])).encode(),
                               "application/json")
                else:
                    self._send(404, b"{}", "application/json")

            def _serve(self, method: str) -> None:
                world.requests.append(("{}:{}".format(*self.server.server_address[:2]),
                                       self.path))
                if self.server is world.api.server:
                    self._api(method)
                    return
                if self.path in world.slow:
                    time.sleep(30)
                page = world.sites[host].pages.get(urlsplit(self.path).path)
                if page is None:
                    self._send(404, b"not found", "text/plain")
                elif self.path.endswith("robots.txt"):
                    self._send(200, page, "text/plain")
                else:
                    self._send(200, page, "text/html; charset=utf-8")

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True  # a slow handler must not hold up close()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return Site(server)

    def close(self) -> None:
        for site in [*self.sites.values(), self.api]:
            site.server.shutdown()
            site.server.server_close()
