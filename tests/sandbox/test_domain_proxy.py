"""The domain allow-list: a profile with `network.domains` reaches the listed hosts through
the codex proxy and nothing else.

"Domains" are loopback addresses (127.0.0.2 = allowed.test, 127.0.0.3 = denied.test) mapped
by the proxy's resolver override (CODEX_PROXY_HOSTS). Oracles: what each loopback server
saw (requests by path, raw connections), the bytes the command printed, and the audit log's
network entries. Clients nobody here wrote: curl (absolute-form HTTP, CONNECT tunnels,
redirects), Python's urllib and pip.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from escape_kit import codex_command

from codex.sandbox.proxy import DomainProxy

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")]

ALLOWED, DENIED = "allowed.test", "denied.test"
WHEEL = "tinypkg-1.0-py3-none-any.whl"


@dataclass
class Site:
    address: str
    port: int = 0
    paths: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None


def _wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("tinypkg/__init__.py", "VALUE = 1\n")
        zf.writestr("tinypkg-1.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n")
        zf.writestr("tinypkg-1.0.dist-info/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        zf.writestr("tinypkg-1.0.dist-info/RECORD", "")
    return buf.getvalue()


def _serve(site: Site, peer_port: dict[str, int], tls: ssl.SSLContext | None = None) -> None:
    wheel = _wheel()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.paths.append(self.path)
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", f"http://{DENIED}:{peer_port['denied']}/secret")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path.startswith("/simple/tinypkg"):
                body = f'<html><body><a href="/files/{WHEEL}">{WHEEL}</a></body></html>'.encode()
                kind = "text/html"
            elif self.path == f"/files/{WHEEL}":
                body, kind = wheel, "application/octet-stream"
            else:
                body, kind = f"hello from {site.address}\n".encode(), "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    site.server = ThreadingHTTPServer((site.address, 0), Handler)
    if tls is not None:
        site.server.socket = tls.wrap_socket(site.server.socket, server_side=True)
    site.port = site.server.server_address[1]
    threading.Thread(target=site.server.serve_forever, daemon=True).start()


@pytest.fixture
def sites() -> Iterator[dict[str, Site]]:
    found = {"allowed": Site("127.0.0.2"), "denied": Site("127.0.0.3")}
    ports: dict[str, int] = {}
    for site in found.values():
        _serve(site, ports)
    ports.update({name: site.port for name, site in found.items()})
    yield found
    for site in found.values():
        assert site.server is not None
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def env(tmp_path: Path, sites: dict[str, Site]) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "ws").mkdir()
    for d in (tmp_path, home, tmp_path / "ws"):
        os.chmod(d, 0o777)
    (home / "config.toml").write_text(f"""\
default_permissions = "mirror"

[permissions.mirror]
extends = ":workspace"

[permissions.mirror.network]
enabled = true

[permissions.mirror.network.domains]
"{ALLOWED}" = "allow"

[permissions.offline-review]
extends = ":read-only"
""")
    return {**os.environ, "CODEX_HOME": str(home), "HOME": str(tmp_path),
            "CODEX_PROXY_HOSTS": f"{ALLOWED}=127.0.0.2,{DENIED}=127.0.0.3"}


def sandboxed(env: dict[str, str], script: str, *args: str) -> subprocess.CompletedProcess[str]:
    ws = Path(env["HOME"]) / "ws"
    return subprocess.run([*codex_command(), "sandbox", "--", "sh", "-c", script, "sh", *args],
                          cwd=ws, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def network_audit(env: dict[str, str]) -> list[tuple[str, str]]:
    entries = []
    for path in sorted((Path(env["CODEX_HOME"]) / "audit").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["operation"] == "network":
                entries.append((entry["target"], entry["decision"]))
    return entries


def test_control_both_sites_answer_directly(sites: dict[str, Site]) -> None:
    for name, site in sites.items():
        out = subprocess.run(["curl", "-sS", "--noproxy", "*", f"http://{site.address}:"
                              f"{site.port}/control"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
        assert f"hello from {site.address}" in out, name


def test_curl_allowed_denied_and_audited(env: dict[str, str], sites: dict[str, Site]) -> None:
    a, d = sites["allowed"].port, sites["denied"].port
    proc = sandboxed(env, """
curl -sS http://allowed.test:$1/plain
curl -sS -p http://allowed.test:$1/tunnel
curl -sS -i http://denied.test:$2/plain
curl -sS -p http://denied.test:$2/tunnel || echo tunnel-refused
""", str(a), str(d))
    out = proc.stdout
    assert out.count("hello from 127.0.0.2") == 2, (out, proc.stderr)
    assert "403 Forbidden" in out
    assert "codex proxy: denied.test:" in out and "denied:" in out
    assert "tunnel-refused" in out
    assert sites["allowed"].paths == ["/plain", "/tunnel"]
    assert sites["denied"].paths == []
    audit = network_audit(env)
    assert (f"{ALLOWED}:{a}", "allowed") in audit
    assert audit.count((f"{DENIED}:{d}", "denied")) == 2


def test_redirect_to_denied_host_is_refused(env: dict[str, str], sites: dict[str, Site]) -> None:
    proc = sandboxed(env, "curl -sS -L http://allowed.test:$1/redirect", str(sites["allowed"].port))
    assert "403" in proc.stdout or "denied" in proc.stdout, (proc.stdout, proc.stderr)
    assert sites["allowed"].paths == ["/redirect"]
    assert sites["denied"].paths == []


def test_direct_connections_fail(env: dict[str, str], sites: dict[str, Site]) -> None:
    script = """
import socket, sys
for host in ("127.0.0.2", "127.0.0.3", "1.1.1.1"):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, int(sys.argv[1])))
        print("CONNECTED", host)
    except OSError as exc:
        print("refused", host, exc.errno)
try:
    socket.getaddrinfo("allowed.test", 80)
    print("RESOLVED")
except OSError:
    print("no-dns")
"""
    proc = sandboxed(env, f'{sys.executable} -c "$1" "$2"', script, str(sites["allowed"].port))
    assert "CONNECTED" not in proc.stdout and "RESOLVED" not in proc.stdout, proc.stdout
    assert proc.stdout.count("refused") == 3 and "no-dns" in proc.stdout, \
        (proc.stdout, proc.stderr)
    assert sites["allowed"].paths == [] and sites["denied"].paths == []


def test_urllib_and_pip_download(env: dict[str, str], sites: dict[str, Site]) -> None:
    port = sites["allowed"].port
    fetch = ("import urllib.request, urllib.error, sys\n"
             "try:\n"
             "    print(urllib.request.urlopen(sys.argv[1]).read().decode())\n"
             "except urllib.error.HTTPError as exc:\n"
             "    print('urllib-status', exc.code)\n")
    proc = sandboxed(env, f"""
{sys.executable} -c "$3" http://allowed.test:$1/urllib
{sys.executable} -c "$3" http://denied.test:$2/urllib
{sys.executable} -m pip download --no-deps --disable-pip-version-check --no-cache-dir \
    --trusted-host allowed.test --index-url http://allowed.test:$1/simple/ \
    -d "$TMPDIR/dl" tinypkg && ls "$TMPDIR/dl"
""", str(port), str(sites["denied"].port), fetch)
    assert "hello from 127.0.0.2" in proc.stdout, (proc.stdout, proc.stderr)
    assert "urllib-status 403" in proc.stdout
    assert WHEEL in proc.stdout, (proc.stdout, proc.stderr)
    assert f"/files/{WHEEL}" in sites["allowed"].paths


def test_denied_name_is_never_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: the proxy decides before it resolves, so a denied name leaks no lookup."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def spy(host: str, *args: object, **kwargs: object) -> object:
        looked_up.append(host)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    listener = socket.create_server(("127.0.0.1", 0))
    proxy = DomainProxy(listener, ("allowed.invalid",), (), lambda *a: None, hosts={})
    proxy.start()
    try:
        with socket.create_connection(listener.getsockname(), timeout=10) as client:
            client.sendall(b"CONNECT secret-name.invalid:443 HTTP/1.1\r\n\r\n")
            reply = client.recv(4096)
    finally:
        proxy.stop()
    assert reply.startswith(b"HTTP/1.1 403")
    assert not any("secret-name" in str(h) for h in looked_up)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a cert")
def test_https_through_connect(env: dict[str, str], tmp_path: Path) -> None:
    """Real TLS end to end: the proxy only tunnels bytes, the certificate is the server's."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={ALLOWED}", "-addext", f"subjectAltName=DNS:{ALLOWED}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    os.chmod(cert, 0o644)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = Site("127.0.0.2")
    _serve(site, {"denied": 1}, context)
    assert site.server is not None
    try:
        proc = sandboxed(env, f"curl -sS --cacert {cert} https://{ALLOWED}:$1/tls",
                         str(site.port))
    finally:
        site.server.shutdown()
        site.server.server_close()
    assert "hello from 127.0.0.2" in proc.stdout, (proc.stdout, proc.stderr)
    assert site.paths == ["/tls"]
    assert (f"{ALLOWED}:{site.port}", "allowed") in network_audit(env)
