"""The author's side: committed C fixtures rebuild bit for bit with ziglang, `codex plugin new`
skeletons build and run, the host fetch function, doctor's
self-test."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_kit import FIXTURES, RunCodex, audit_lines

pytestmark = pytest.mark.timeout(600)


@pytest.mark.parametrize("name", ["files", "fetch"])
def test_committed_c_fixture_rebuilds_to_the_same_bytes(name: str, tmp_path: Path) -> None:
    source = FIXTURES / name
    built = tmp_path / f"{name}.wasm"
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "--target=wasm32-wasi", "-Os", "-s",
                    "-o", str(built), str(source / f"{name}.c")], check=True, timeout=550)
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    manifest = tomllib.loads((source / "plugin.toml").read_text())
    assert digest == manifest["plugin"]["sha256"]
    assert built.read_bytes() == (source / f"{name}.wasm").read_bytes()


@pytest.mark.parametrize("lang", ["wat", "c"])
def test_new_skeleton_builds_installs_and_runs(codex: RunCodex, workspace: Path,
                                               lang: str) -> None:
    made = codex("plugin", "new", "hello", "--lang", lang)
    assert made.returncode == 0, made.stderr
    unbuilt = codex("plugin", "install", "hello", "--yes")
    assert unbuilt.returncode == 2 and "cannot read" in unbuilt.stderr
    subprocess.run([sys.executable, "build.py"], cwd=workspace / "hello", check=True,
                   timeout=550)
    assert codex("plugin", "install", "hello", "--yes").returncode == 0
    result = codex("plugin", "run", "hello", "hello", "--json", '{"k": "v"}')
    assert result.returncode == 0, result.stderr
    expected = {"k": "v"} if lang == "wat" else {"length": len('{"k":"v"}')}
    assert result.json == expected
    assert codex("plugin", "new", "hello").returncode == 2  # exists: refused


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering every GET with a fixed body; records the paths."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_fetch_reaches_granted_hosts_only(codex: RunCodex, home: Path,
                                          http_server: tuple[str, list[str]]) -> None:
    address, seen = http_server
    port = address.split(":")[1]
    assert codex("plugin", "install", str(FIXTURES / "fetch"), "--yes").returncode == 0
    assert codex("plugin", "grant", "fetch", "--host", "127.0.0.1", "--yes").returncode == 0
    ok = codex("plugin", "run", "fetch", "get", "--json",
               json.dumps({"url": f"http://127.0.0.1:{port}/granted"}))
    assert ok.json == {"status": len(b"hello from the host"), "body": "hello from the host"}
    denied = codex("plugin", "run", "fetch", "get", "--json",
                   json.dumps({"url": f"http://localhost:{port}/not-granted"}))
    assert denied.json == {"status": -1, "body": ""}
    assert seen == ["/granted"]
    network = [e for e in audit_lines(home) if e["operation"] == "network"]
    assert [e["decision"] for e in network] == ["allowed", "denied"]


def test_doctor_runs_the_embedded_self_test(codex: RunCodex) -> None:
    result = codex("doctor", "--json")
    report = json.loads(result.stdout)
    assert report["plugin_runtime"]["ok"] is True, report["plugin_runtime"]
    assert report["plugin_runtime"]["runtime"].startswith("wasmtime")
