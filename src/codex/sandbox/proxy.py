"""The domain allow-list proxy: the only way out of a sandbox whose profile lists domains.

Design (no veth, no bridge process): the helper, inside the command's fresh network namespace
(only `lo`, brought up), binds a TCP listener on 127.0.0.1:PROXY_PORT and hands that
listening socket to the runner over a unix socket pair (SCM_RIGHTS). A socket stays in the
namespace it was made in, so the runner — outside, in codex's own namespace — `accept`s the
command's connections on it and opens the upstream connections itself. The command sees a
proxy on loopback and no route anywhere else; Landlock lets it connect to that one port
only. Names are resolved here, never inside the sandbox, so a denied name leaks no DNS query.

Speaks HTTP CONNECT (TLS and anything else tunnelled) and absolute-form HTTP requests
(`GET http://host/path`), re-written to origin form with `Connection: close`. A denied
host gets `403 Forbidden` with a one-line reason. Every decision goes to `on_decision`
(the audit log); if recording fails the connection is refused.

`CODEX_PROXY_HOSTS="name=ip,name2=ip2"` maps names to addresses before DNS, like curl's
`--resolve` (the escape suite maps test "domains" to 127.0.0.2, 127.0.0.3 ...).
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
from collections.abc import Callable
from contextlib import suppress

from codex.security.permissions import host_allowed

PROXY_PORT = 3128
HOSTS_VARIABLE = "CODEX_PROXY_HOSTS"
MAX_HEAD = 64 * 1024
IO_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
HOP_HEADERS = frozenset({b"proxy-connection", b"proxy-authorization", b"connection",
                         b"keep-alive"})

Decision = Callable[[str, int, bool, str], None]


def proxy_environment(port: int = PROXY_PORT) -> dict[str, str]:
    """What the command gets so every common client goes through the proxy."""
    url = f"http://127.0.0.1:{port}"
    env = {name: url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                                  "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = ""
    return env


def hosts_override(text: str | None) -> dict[str, str]:
    """`name=ip,name=ip` -> {name: ip} (names lower-cased)."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        name, sep, address = item.strip().partition("=")
        if sep and name and address:
            mapping[name.lower()] = address.strip()
    return mapping


class DomainProxy:
    """Serve a listening socket (from the sandbox's namespace) until `stop`."""

    def __init__(self, listener: socket.socket, allowed: tuple[str, ...],
                 denied: tuple[str, ...], on_decision: Decision,
                 hosts: dict[str, str] | None = None) -> None:
        self.listener = listener
        self.allowed, self.denied = allowed, denied
        self.on_decision = on_decision
        self.hosts = hosts if hosts is not None else hosts_override(
            os.environ.get(HOSTS_VARIABLE))
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="codex-proxy", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting; connections in flight end with the run's namespace."""
        with suppress(OSError):
            os.write(self._stop_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._stop_r, self._stop_w):
            with suppress(OSError):
                os.close(fd)
        self.listener.close()

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        sel.register(self._stop_r, selectors.EVENT_READ, "stop")
        try:
            while True:
                for key, _ in sel.select():
                    if key.data == "stop":
                        return
                    try:
                        client, _addr = self.listener.accept()
                    except OSError:
                        continue
                    threading.Thread(target=self._handle, args=(client,), daemon=True,
                                     name="codex-proxy-conn").start()
        finally:
            sel.close()

    def _handle(self, client: socket.socket) -> None:
        with client:
            client.settimeout(IO_TIMEOUT_S)
            try:
                head, rest = _read_head(client)
                self._dispatch(client, head, rest)
            except (OSError, ValueError) as exc:
                with suppress(OSError):
                    _reply(client, 400, f"codex proxy: bad request ({exc})")

    def _dispatch(self, client: socket.socket, head: bytes, rest: bytes) -> None:
        line, _, headers = head.partition(b"\r\n")
        parts = line.split(b" ")
        if len(parts) != 3:
            raise ValueError("malformed request line")
        method, target, version = parts
        if method == b"CONNECT":
            host, port = _split_host_port(target.decode("ascii", "replace"), 443)
            upstream = self._open(client, host, port)
            if upstream is None:
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with upstream:
                if rest:
                    upstream.sendall(rest)
                _relay(client, upstream)
            return
        text = target.decode("ascii", "replace")
        if not text.lower().startswith("http://"):
            raise ValueError("expected CONNECT or an absolute http:// URL")
        authority, slash, path = text[len("http://"):].partition("/")
        host, port = _split_host_port(authority, 80)
        upstream = self._open(client, host, port)
        if upstream is None:
            return
        kept = [h for h in headers.split(b"\r\n")
                if h and h.split(b":", 1)[0].strip().lower() not in HOP_HEADERS]
        request = b"\r\n".join([method + b" " + (slash + path).encode() + b" " + version,
                                *kept, b"Connection: close", b"", b""])
        with upstream:
            upstream.sendall(request + rest)
            _relay(client, upstream)

    def _open(self, client: socket.socket, host: str, port: int) -> socket.socket | None:
        """Decide, record, and connect upstream; None after answering the client."""
        allowed, reason = host_allowed(host, port, self.allowed, self.denied)
        try:
            self.on_decision(host, port, allowed, reason)
        except Exception as exc:  # an unrecorded decision must not take effect
            _reply(client, 403, f"codex proxy: {host}:{port} refused: cannot record the "
                                f"decision ({exc})")
            return None
        if not allowed:
            _reply(client, 403, f"codex proxy: {host}:{port} denied: {reason} (widen the "
                                "permission profile's network.domains to allow it)")
            return None
        address = self.hosts.get(host.lower().rstrip("."), host)
        try:
            return socket.create_connection((address, port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            _reply(client, 502, f"codex proxy: cannot reach {host}:{port} "
                                f"({exc.strerror or exc})")
            return None


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise ValueError("request head too large")
        chunk = sock.recv(4096)
        if not chunk:
            raise ValueError("connection closed before the request head ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _split_host_port(authority: str, default: int) -> tuple[str, int]:
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host, _, port_text = authority.partition(":")
    if not host:
        raise ValueError("no host")
    port = int(port_text) if port_text else default
    if not 0 < port < 65536:
        raise ValueError("bad port")
    return host, port


def _reply(sock: socket.socket, status: int, message: str) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = (message.replace("\n", " ") + "\n").encode()
    sock.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                 f"X-Codex-Proxy: {'denied' if status == 403 else 'error'}\r\n\r\n".encode()
                 + body)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy both ways until both sides are done (half-closes forwarded)."""
    sel = selectors.DefaultSelector()
    peers = {a.fileno(): b, b.fileno(): a}
    for s in (a, b):
        s.settimeout(None)
        sel.register(s, selectors.EVENT_READ)
    open_sides = 2
    try:
        while open_sides:
            events = sel.select(timeout=IO_TIMEOUT_S * 10)
            if not events:
                return
            for key, _ in events:
                src = key.fileobj
                assert isinstance(src, socket.socket)
                try:
                    chunk = src.recv(65536)
                except OSError:
                    chunk = b""
                dst = peers[src.fileno()]
                if chunk:
                    dst.sendall(chunk)
                    continue
                sel.unregister(src)
                open_sides -= 1
                with suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
    finally:
        sel.close()
