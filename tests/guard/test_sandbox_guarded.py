"""`codex sandbox` behind the guard chain, as a user runs it: real processes, the real kernel
sandbox, a real terminal (pty) for approvals, and the audit log's raw bytes as the record."""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from codex.audit import read_entries, verify_log

pytestmark = pytest.mark.timeout(180)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO / "src"),
    }


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


def codex_sandbox(env: dict[str, str], ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codex", "sandbox", "-C", str(ws), *args],
                          env=env, cwd=ws, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=120, check=False)


def trail(env: dict[str, str]) -> list[tuple[str, str, str]]:
    directory = Path(env["CODEX_HOME"]) / "audit"
    report = verify_log(directory)
    assert report.ok and not report.warnings, report.findings
    entries = list(read_entries(directory))
    assert {e.actor for e in entries} == {"codex sandbox"}
    assert len({e.session_id for e in entries}) == 1
    return [(e.operation, e.decision, e.profile) for e in entries]


def test_forbidden_never_runs_and_is_audited(env: dict[str, str], ws: Path) -> None:
    oracle = ws / "oracle"
    proc = codex_sandbox(env, ws, "--profile", "workspace-write", "--", "bash", "-lc",
                         f"touch {oracle}; sudo true")
    assert proc.returncode == 1
    assert "forbidden" in proc.stderr and "sudo" in proc.stderr
    assert not oracle.exists()
    assert trail(env) == [("command_exec", "denied", "workspace-write")]


def test_allowed_runs_and_is_audited(env: dict[str, str], ws: Path) -> None:
    proc = codex_sandbox(env, ws, "--profile", "workspace-write", "--", "touch", str(ws / "a"))
    assert proc.returncode == 0, proc.stderr
    assert (ws / "a").exists()
    assert trail(env) == [("command_exec", "allowed", "workspace-write")]


def test_prompt_without_a_terminal_is_refused(env: dict[str, str], ws: Path) -> None:
    oracle = ws / "oracle"
    proc = codex_sandbox(env, ws, "--profile", "workspace-write", "--approval-policy",
                         "untrusted", "--", "touch", str(oracle))
    assert proc.returncode == 1
    assert "non-interactive" in proc.stderr
    assert not oracle.exists()
    assert trail(env) == [
        ("command_exec", "requires_approval", "workspace-write"),
        ("approval", "denied", "workspace-write"),
        ("command_exec", "denied", "workspace-write"),
    ]


def test_json_refusal_object(env: dict[str, str], ws: Path) -> None:
    proc = codex_sandbox(env, ws, "--json", "--", "sudo", "id")
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["refused"]["by"] == "forbidden"
    assert "sudo" in result["error"]
    assert result["guard"]["decision"] == "forbidden"


def test_json_success_reports_the_guard(env: dict[str, str], ws: Path) -> None:
    proc = codex_sandbox(env, ws, "--json", "--", "echo", "hi")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["stdout"] == "hi\n" and result["exit_code"] == 0
    assert result["guard"]["status"] == "ran" and result["guard"]["decision"] == "allow"
    assert result["guard"]["approval_policy"] == "on-request"
    assert len(result["guard"]["audit_seq"]) == 1


def test_approval_policy_from_config_and_flag(env: dict[str, str], ws: Path) -> None:
    Path(env["CODEX_HOME"], "config.toml").write_text('approval_policy = "untrusted"\n')
    refused = codex_sandbox(env, ws, "--profile", "workspace-write", "--", "touch",
                            str(ws / "a"))
    assert refused.returncode == 1 and not (ws / "a").exists()
    allowed = codex_sandbox(env, ws, "--profile", "workspace-write", "--approval-policy",
                            "on-request", "--", "touch", str(ws / "a"))
    assert allowed.returncode == 0 and (ws / "a").exists()


def test_bad_approval_policy_is_a_usage_error(env: dict[str, str], ws: Path) -> None:
    proc = codex_sandbox(env, ws, "--approval-policy", "sometimes", "--", "true")
    assert proc.returncode == 2
    assert "--approval-policy" in proc.stderr and "on-request" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_no_secret_in_the_audit_log(env: dict[str, str], ws: Path) -> None:
    env_secret = "sk-proj-" + "Hb4" * 12
    line_secret = "ghp_" + "Tw8" * 12
    env = {**env, "OPENAI_API_KEY": env_secret, "MY_DEPLOY_PASSWORD": "hunter2-but-longer"}
    codex_sandbox(env, ws, "--", "echo", env_secret, "hunter2-but-longer")
    codex_sandbox(env, ws, "--", "curl", "-H", f"Authorization: token {line_secret}",
                  "http://127.0.0.1:9/")
    codex_sandbox(env, ws, "--", "sudo", "env", f"KEY={env_secret}")
    raw = b"".join(p.read_bytes() for p in (Path(env["CODEX_HOME"]) / "audit").iterdir())
    assert raw.count(b"\n") >= 3
    for secret in (env_secret, line_secret, "hunter2-but-longer", "Hb4Hb4", "Tw8Tw8"):
        assert secret.encode() not in raw, secret
    assert env["HOME"].encode() not in raw


class Terminal:
    """`codex sandbox` on a real pseudo-terminal that is its controlling terminal."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = os.openpty()

        def make_controlling() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, env={**env, "TERM": "dumb"}, cwd=cwd, stdin=slave,
                                     stdout=slave, stderr=slave, start_new_session=True,
                                     preexec_fn=make_controlling)
        os.close(slave)
        self.seen = b""

    def expect(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {text!r}; got {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"terminal closed before {text!r}; got {self.seen!r}"
                self.seen += chunk

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def finish(self) -> int:
        try:
            code = self.proc.wait(timeout=60)
        finally:
            os.close(self.master)
        return code


def test_interactive_approval_on_a_terminal(env: dict[str, str], ws: Path) -> None:
    oracle = ws / "oracle"
    term = Terminal([sys.executable, "-m", "codex", "sandbox", "--profile", "workspace-write",
                     "--approval-policy", "untrusted", "-C", str(ws), "--", "touch",
                     str(oracle)], env, ws)
    term.expect(b"codex wants to run a command")
    term.expect(b"> ")
    assert not oracle.exists()  # nothing runs before the answer
    term.type(b"y\n")
    assert term.finish() == 0
    assert oracle.exists()
    assert trail(env) == [
        ("command_exec", "requires_approval", "workspace-write"),
        ("approval", "allowed", "workspace-write"),
        ("command_exec", "allowed", "workspace-write"),
    ]


def test_on_failure_asks_to_rerun_outside_the_sandbox(env: dict[str, str], ws: Path,
                                                      tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    oracle = outside / "written"
    term = Terminal([sys.executable, "-m", "codex", "sandbox", "--profile", "offline",
                     "--approval-policy", "on-failure", "-C", str(ws), "--", "touch",
                     str(oracle)], env, ws)
    term.expect(b"OUTSIDE the sandbox")
    term.expect(b"> ")
    assert not oracle.exists()  # the sandboxed attempt was stopped
    term.type(b"y\n")
    assert term.finish() == 0
    assert oracle.exists()
    assert trail(env) == [
        ("command_exec", "allowed", "offline"),
        ("command_exec", "requires_approval", "trusted"),
        ("approval", "allowed", "trusted"),
        ("command_exec", "allowed", "trusted"),
    ]
