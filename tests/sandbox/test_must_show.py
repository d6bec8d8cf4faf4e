"""The issue's "Must show" list, one explicit test each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from escape_kit import Arena, Listeners, actor, nonce

pytestmark = pytest.mark.timeout(60)


def test_offline_cannot_write_tmp(arena: Arena) -> None:
    """`codex sandbox --profile offline -- sh -c 'echo hi > /tmp/x'` fails and writes nothing."""
    target = Path(f"/tmp/codex-must-show-{nonce()}")
    try:
        control = arena.run(["sh", "-c", f"echo hi > {target}"], profile=None)
        assert control.returncode == 0 and target.read_text() == "hi\n"
        target.unlink()
        outcome = arena.run(["sh", "-c", f"echo hi > {target}"], profile="offline")
        assert outcome.returncode != 0, outcome.describe()
        assert not target.exists(), "ESCAPE: offline wrote to /tmp"
    finally:
        if target.exists():
            target.unlink()


def test_workspace_write_can_touch_in_workspace(arena: Arena) -> None:
    """`codex sandbox --profile workspace-write -C ws -- touch ws/a` succeeds."""
    outcome = arena.run(["touch", str(arena.ws / "a")], profile="workspace-write")
    assert outcome.returncode == 0, outcome.describe()
    assert (arena.ws / "a").is_file()


def test_workspace_write_relative_touch_from_parent(arena: Arena) -> None:
    """The same command exactly as a user types it from the workspace's parent directory."""
    import subprocess

    argv = arena.sandbox_argv("workspace-write", ["touch", "ws/a"])
    rel = argv.index(str(arena.ws))
    argv[rel] = "ws"
    proc = subprocess.run(argv, cwd=arena.root, env=arena.env, capture_output=True,
                          timeout=40, check=False)
    made = [p for p in (arena.ws / "a", arena.ws / "ws" / "a") if p.exists()]
    assert proc.returncode == 0 and made, proc.stderr


def test_git_hook_stays_unwritable(arena: Arena) -> None:
    hook = arena.ws / ".git/hooks/pre-commit"
    before = hook.read_bytes(), hook.stat().st_mode
    for attempt in ([f"echo evil >> {hook}"], [f"chmod 777 {hook}"], [f"rm -f {hook}"]):
        outcome = arena.run(["sh", "-c", *attempt], profile="workspace-write")
        assert (hook.read_bytes(), hook.stat().st_mode) == before, outcome.describe()
    ok = arena.run(["sh", "-c", f"echo fine > {arena.ws / 'normal.txt'}"],
                   profile="workspace-write")
    assert (arena.ws / "normal.txt").read_text() == "fine\n", ok.describe()


def test_offline_reaches_no_loopback_listener(arena: Arena, listeners: Listeners) -> None:
    token = nonce()
    host, port = listeners.tcp4.getsockname()
    arena.run(actor("tcp_connect", token, host, port, token), profile=None)
    assert listeners.saw(token, 3), "control: listener did not receive"
    token = nonce()
    outcome = arena.probe(actor("tcp_connect", token, host, port, token), token,
                          profile="offline")
    assert not listeners.saw(token, 1.0), "ESCAPE: offline reached the loopback listener\n" + \
        outcome.describe()
    assert os.path.exists(arena.ws)


@pytest.mark.parametrize(("argv", "code"), [
    (["sh", "-c", "exit 3"], 3),
    (["/nonexistent/codex-no-such-cmd"], 127),
    (["sh", "-c", "kill -TERM $$"], 128 + 15),
])
def test_exit_code_conventions(argv: list[str], code: int, arena: Arena) -> None:
    outcome = arena.run(argv, profile="offline")
    assert outcome.returncode == code, outcome.describe()


def test_not_executable_is_126(arena: Arena) -> None:
    script = arena.ws / "noexec.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    outcome = arena.run([str(script)], profile="workspace-write")
    assert outcome.returncode == 126, outcome.describe()


def test_json_result_object(arena: Arena) -> None:
    outcome = arena.run(["sh", "-c", "exit 5"], profile="offline", json_result=True)
    result = outcome.result_json()
    assert outcome.returncode == 5
    assert result.get("exit_code") == 5 and result.get("profile") == "offline", result
    assert isinstance(result.get("layers"), list) and result["layers"], result
