"""A loopback server speaking the OSV query API (`POST /v1/query`) from fixture advisories.

Answers like api.osv.dev: `{"vulns": [...]}` with every advisory whose `affected` entry names
the queried PyPI package and lists the version, else `{}`. It records each query so a test can
see that the auditor really asked about every pin.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


class OsvServer(ThreadingHTTPServer):
    """The fixture advisories and the queries received."""

    def __init__(self, advisories: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.advisories = advisories
        self.queries: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/query"

    def matching(self, name: str, version: str) -> list[dict[str, Any]]:
        return [a for a in self.advisories
                if any(_canonical(x["package"]["name"]) == _canonical(name)
                       and x["package"]["ecosystem"] == "PyPI" and version in x.get("versions", [])
                       for x in a["affected"])]


class _Handler(BaseHTTPRequestHandler):
    server: OsvServer

    def do_POST(self) -> None:
        if self.path != "/v1/query":
            self.send_error(404)
            return
        query = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        name, version = query["package"]["name"], query["version"]
        self.server.queries.append((name, version))
        vulns = self.server.matching(name, version)
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def osv_server(advisories: list[dict[str, Any]]) -> Iterator[OsvServer]:
    server = OsvServer(advisories)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
