"""A write grant asks on the user's terminal (a real pty as the controlling terminal, the way
`codex plugin grant` runs for a person): "n" changes nothing, "y" grants, and both answers and
the grant (with the module's and the manifest's hashes) are in the audit log."""

from __future__ import annotations

import hashlib
import os
import pty
import select
import time
from pathlib import Path

import pytest
from plugin_kit import FIXTURES, RunCodex, audit_lines, plugin_env

pytestmark = pytest.mark.timeout(120)
WRITE = '{"path": "/out/new.txt", "text": "written"}'


def on_terminal(argv: list[str], env: dict[str, str], cwd: Path, answer: str) -> tuple[int, str]:
    """Run `argv` with a new pty as its controlling terminal; type `answer` at the prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its terminal (/dev/tty)
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    output, answered = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal (exited)
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[n] no" in output:
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert answered, output.decode(errors="replace")
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_write_grant_asks_on_the_terminal(codex: RunCodex, codex_argv: list[str], home: Path,
                                          workspace: Path) -> None:
    assert codex("plugin", "install", str(FIXTURES / "files"), "--yes").returncode == 0
    grant = [*codex_argv, "plugin", "grant", "files", "--path", "{workspace}/out"]
    code, shown = on_terminal(grant, plugin_env(home), workspace, "n")
    assert code != 0 and "{workspace}/out" in shown, shown
    refused = codex("plugin", "run", "files", "write", "--json", WRITE)
    assert refused.json["ok"] is False and not (workspace / "out" / "new.txt").exists()

    code, shown = on_terminal(grant, plugin_env(home), workspace, "y")
    assert code == 0, shown
    done = codex("plugin", "run", "files", "write", "--json", WRITE)
    assert done.json == {"ok": True}
    assert (workspace / "out" / "new.txt").read_text() == "written"

    wasm = hashlib.sha256((FIXTURES / "files" / "files.wasm").read_bytes()).hexdigest()
    entries = audit_lines(home)
    answers = [e["reason"] for e in entries if e["operation"] == "approval"
               and str(e["reason"]).startswith("answer:")]
    assert answers == ["answer: denied", "answer: approved"], answers
    grants = [str(e["reason"]) for e in entries if e["operation"] == "policy_change"]
    assert any("{workspace}/out" in g and f"wasm_sha256={wasm}" in g and "manifest_sha256=" in g
               for g in grants), grants
