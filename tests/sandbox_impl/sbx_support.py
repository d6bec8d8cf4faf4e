"""Helpers for the sandbox implementation tests: policies, runs, a child-process harness.

These tests check the sandbox's own machinery (probe, env, seccomp decisions, Landlock
structs, runner conventions, cleanup, hard links). Escapes are ESCAPES' suite in tests/sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from codex.policies import SandboxPolicy
from codex.sandbox import SandboxRequest, SandboxResult, run_sandboxed
from codex.sandbox.linux.probe import probe
from codex.security.profiles import parse_profile, resolve_policy

FEATURES = probe()
SANDBOX_READY = (FEATURES.landlock_abi >= 3 and FEATURES.seccomp
                 and (FEATURES.userns is True or FEATURES.uid == 0))
needs_sandbox = pytest.mark.skipif(
    not SANDBOX_READY, reason=f"kernel lacks a required layer here: {FEATURES.as_dict()}")


def policy(profile: str, workspace: Path, roots: Sequence[Path] = ()) -> SandboxPolicy:
    return resolve_policy(parse_profile(profile), workspace, tuple(roots))


def run(profile: str, argv: Sequence[str], workspace: Path, **kwargs: object) -> SandboxResult:
    """Run confined with output captured (unless the test says otherwise)."""
    kwargs.setdefault("capture", True)
    kwargs.setdefault("timeout_s", 60.0)
    request = SandboxRequest(policy=policy(profile, workspace), argv=list(argv),
                             cwd=workspace, **kwargs)  # type: ignore[arg-type]
    return run_sandboxed(request)


# The CLI audits every run into CODEX_HOME: tests use their own, never the user's.
TEST_CODEX_HOME = tempfile.mkdtemp(prefix="codex-sandbox-impl-home-")


def codex(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = 60.0) -> subprocess.CompletedProcess[bytes]:
    """The real CLI, as a user runs it (with a private CODEX_HOME unless `env` sets one)."""
    environ = dict(os.environ if env is None else env)
    environ.setdefault("CODEX_HOME", TEST_CODEX_HOME)
    if env is None:
        environ["CODEX_HOME"] = TEST_CODEX_HOME
    return subprocess.run([sys.executable, "-m", "codex", *args], cwd=cwd, env=environ,
                          capture_output=True, timeout=timeout, check=False)


def in_child(body: Callable[[], int]) -> int:
    """Run `body` in a forked child (so irreversible kernel state dies with it); return its
    exit code, or -signal when it was killed."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
