"""`codex exec` honours a config.toml permission profile for the agent's commands: the
domain allow-list lets one loopback "domain" through the codex proxy and refuses another,
and both decisions are in the audit log under the agent's session. Oracles: what each
loopback server saw, the command output the model got back, the audit log."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codex.audit import audit_dir, read_entries
from support.model_server import ModelServer, responses_function_call, responses_text

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")]


@pytest.fixture
def servers() -> Iterator[dict[str, tuple[int, list[str]]]]:
    found: dict[str, tuple[int, list[str]]] = {}
    running = []
    for name, address in (("allowed", "127.0.0.2"), ("denied", "127.0.0.3")):
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            log = seen

            def do_GET(self) -> None:
                self.log.append(self.path)
                body = b"mirror says hi\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        server = ThreadingHTTPServer((address, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running.append(server)
        found[name] = (server.server_address[1], seen)
    yield found
    for server in running:
        server.shutdown()
        server.server_close()


def test_exec_uses_the_domain_allow_list(run_exec, model_server: ModelServer, workspace: Path,
                                         codex_home: Path,
                                         servers: dict[str, tuple[int, list[str]]]) -> None:
    (codex_home / "config.toml").write_text("""\
default_permissions = "mirror-only"

[permissions.mirror-only]
extends = ":workspace"

[permissions.mirror-only.network]
enabled = true

[permissions.mirror-only.network.domains]
"mirror.test" = "allow"
""")
    allowed_port, allowed_seen = servers["allowed"]
    denied_port, denied_seen = servers["denied"]
    script = (f"curl -sS http://mirror.test:{allowed_port}/pkg; "
              f"curl -sS http://other.test:{denied_port}/pkg")
    model_server.enqueue(
        responses_function_call("shell", {"command": ["sh", "-c", script]}, "call_1"),
        responses_text("Fetched."))
    run = run_exec("--json", "fetch", env={
        "CODEX_PROXY_HOSTS": "mirror.test=127.0.0.2,other.test=127.0.0.3"})
    assert run.returncode == 0, run.stderr
    (done,) = run.items("command_execution")
    assert "mirror says hi" in done["aggregated_output"]
    assert "codex proxy: other.test:" in done["aggregated_output"]
    assert allowed_seen == ["/pkg"] and denied_seen == []
    entries = list(read_entries(audit_dir(codex_home), session=run.events[0]["thread_id"]))
    network = [(e.target, e.decision, e.actor, e.profile) for e in entries
               if e.operation == "network"]
    assert network == [(f"mirror.test:{allowed_port}", "allowed", "agent", "mirror-only"),
                       (f"other.test:{denied_port}", "denied", "agent", "mirror-only")]
