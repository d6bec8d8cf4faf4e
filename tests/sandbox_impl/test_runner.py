"""run_sandboxed conventions: exit codes, output modes, stdin, timeouts, filesystem policy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tty
from pathlib import Path

import pytest
from sbx_support import needs_sandbox, run

pytestmark = [needs_sandbox, pytest.mark.timeout(120)]
PROFILES = ["offline", "workspace-write", "trusted"]


@pytest.mark.parametrize("profile", PROFILES)
def test_exit_code_is_the_commands(profile: str, workspace: Path) -> None:
    result = run(profile, ["sh", "-c", "echo out; echo err >&2; exit 3"], workspace)
    assert (result.exit_code, result.signal, result.timed_out) == (3, None, False)
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"


@pytest.mark.parametrize("profile", PROFILES)
def test_not_found_is_127(profile: str, workspace: Path) -> None:
    result = run(profile, ["no-such-command-xyz"], workspace)
    assert result.exit_code == 127
    assert b"no-such-command-xyz: command not found" in (result.stderr or b"")


@pytest.mark.parametrize("profile", PROFILES)
def test_not_executable_is_126(profile: str, workspace: Path) -> None:
    script = workspace / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = run(profile, [str(script)], workspace)
    assert result.exit_code == 126


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV])
def test_killed_by_signal_is_128_plus_n(profile: str, sig: int, workspace: Path) -> None:
    result = run(profile, ["sh", "-c", f"kill -{int(sig)} $$"], workspace)
    assert (result.exit_code, result.signal) == (128 + sig, sig)


@pytest.mark.parametrize("profile", PROFILES)
def test_timeout_is_124_and_prompt(profile: str, workspace: Path) -> None:
    result = run(profile, ["sleep", "30"], workspace, timeout_s=1.0)
    assert result.timed_out and result.exit_code == 124
    assert result.duration_s < 15


@pytest.mark.parametrize("profile", PROFILES)
def test_stdin_is_null_or_the_given_bytes(profile: str, workspace: Path) -> None:
    assert run(profile, ["cat"], workspace).stdout == b""
    assert run(profile, ["cat"], workspace, stdin=b"fed\n").stdout == b"fed\n"
    tty = run(profile, ["sh", "-c", "test -t 0 && echo tty || echo notty"], workspace)
    assert tty.stdout == b"notty\n"


def test_streaming_callback_sees_every_chunk(workspace: Path) -> None:
    seen: list[tuple[str, bytes]] = []
    result = run("offline", ["sh", "-c", "echo a; echo b >&2; echo c"], workspace,
                 capture=False, on_output=lambda stream, chunk: seen.append((stream, chunk)))
    assert result.exit_code == 0 and result.stdout is None
    assert b"".join(c for s, c in seen if s == "stdout") == b"a\nc\n"
    assert b"".join(c for s, c in seen if s == "stderr") == b"b\n"


def test_offline_cannot_write_tmp(workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "offline-write"
    result = run("offline", ["sh", "-c", f"echo hi > {target}"], workspace)
    assert result.exit_code != 0
    assert not target.exists()


def test_workspace_write_writes_only_the_workspace(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    result = run("workspace-write", ["sh", "-c", f"echo in > a; echo out > {outside}"],
                 workspace)
    assert (workspace / "a").read_text() == "in\n"
    assert not outside.exists()
    assert result.exit_code != 0


def _git_workspace(workspace: Path) -> Path:
    hooks = workspace / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (workspace / ".git" / "config").write_text("[core]\n")
    return hooks


def test_protected_paths_stay_read_only(workspace: Path) -> None:
    hooks = _git_workspace(workspace)
    script = ("echo evil > .git/hooks/pre-commit; echo x > .git/hooks/post-checkout;"
              "echo '[core] fsmonitor=evil' >> .git/config; mv .git .git-away;"
              "rm -rf .git/hooks; echo ok > .git/HEAD-written")
    result = run("workspace-write", ["sh", "-c", script], workspace)
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
    assert not (hooks / "post-checkout").exists()
    assert (workspace / ".git" / "config").read_text() == "[core]\n"
    assert not (workspace / ".git-away").exists()
    assert (workspace / ".git" / "HEAD-written").read_text() == "ok\n"  # .git stays usable
    assert str(hooks) in result.protected


def test_missing_hooks_dir_is_created_and_protected(workspace: Path) -> None:
    (workspace / ".git").mkdir()
    run("workspace-write", ["sh", "-c", "echo evil > .git/hooks/pre-commit"], workspace)
    assert (workspace / ".git" / "hooks").is_dir()
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()


def test_created_protected_names_are_quarantined(workspace: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    script = "echo 'curl x|sh' > .envrc; mkdir .vscode; echo '{}' > .vscode/tasks.json"
    result = run("workspace-write", ["sh", "-c", script], workspace)
    assert result.protected_created == [str(workspace / ".envrc"), str(workspace / ".vscode")]
    assert not (workspace / ".envrc").exists() and not (workspace / ".vscode").exists()
    moved = Path(result.quarantined[str(workspace / ".envrc")])
    assert moved.read_text() == "curl x|sh\n"
    assert moved.is_relative_to(tmp_path / "codex-home" / "quarantine")


def test_new_repository_keeps_working_without_planted_hooks(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    script = ("git init -q . && printf '#!/bin/sh\\necho pwned\\n' > .git/hooks/pre-commit"
              " && chmod +x .git/hooks/pre-commit && echo a > a && git add a"
              " && git -c user.name=t -c user.email=t@t commit -q --no-verify -m one")
    result = run("workspace-write", ["sh", "-c", script], workspace)
    assert result.exit_code == 0, result.stderr
    hooks = workspace / ".git" / "hooks"
    assert not (hooks / "pre-commit").exists()
    assert str(hooks / "pre-commit") in result.quarantined
    assert (workspace / ".git" / "config").exists(), "git init's own config stays"
    log = subprocess.run(["git", "log", "--format=%s"], cwd=workspace, capture_output=True,
                         text=True, check=True)
    assert log.stdout == "one\n"


def test_new_repository_config_that_runs_programs_is_quarantined(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    script = "git init -q . && git config core.fsmonitor 'touch /tmp/pwned'"
    result = run("workspace-write", ["sh", "-c", script], workspace)
    assert result.exit_code == 0, result.stderr
    assert not (workspace / ".git" / "config").exists()
    assert str(workspace / ".git" / "config") in result.quarantined


def test_private_tmpdir_is_writable_then_removed(workspace: Path) -> None:
    result = run("workspace-write", ["sh", "-c", 'echo t > "$TMPDIR/f" && echo "$TMPDIR"'],
                 workspace)
    assert result.exit_code == 0
    tmpdir = Path(result.stdout.decode().strip()) if result.stdout else None
    assert tmpdir is not None and "codex-sandbox-" in tmpdir.name
    assert not tmpdir.exists()


def test_masked_secret_reads_empty(workspace: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE")
    (home / ".netrc").write_text("machine x password y")
    monkeypatch.setenv("HOME", str(home))
    result = run("offline", ["sh", "-c", "ls -A ~/.ssh; cat ~/.netrc; echo end"], workspace)
    assert result.stdout == b"end\n"
    assert str(home / ".ssh") in result.masked


def test_python_multiprocessing_works_offline(workspace: Path) -> None:
    code = ("import multiprocessing as m\nif __name__ == '__main__':\n"
            "    print(sum(m.Pool(2).map(abs, [-1, -2, 3])))\n")
    result = run("offline", [sys.executable, "-c", code], workspace)
    assert (result.exit_code, result.stdout) == (0, b"6\n"), result.stderr


def test_agent_credentials_are_masked_wherever_codex_home_is(
        workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "auth.json").write_text('{"token": "PLANTED"}')
    (home / "notes.txt").write_text("visible")
    monkeypatch.setenv("CODEX_HOME", str(home))
    result = run("offline", ["sh", "-c", f"cat {home}/auth.json; cat {home}/notes.txt"],
                 workspace)
    assert b"PLANTED" not in (result.stdout or b"") + (result.stderr or b"")
    assert result.stdout == b"visible"


def test_process_limit_and_its_cgroup_is_removed(workspace: Path) -> None:
    from codex.sandbox.linux import pids_cgroup

    script = "grep -h pids /proc/self/cgroup; for i in 1 2 3; do sleep 0.1 & done; wait"
    result = run("offline", ["sh", "-c", script], workspace)
    assert result.exit_code == 0
    expected = pids_cgroup.available() if os.geteuid() == 0 else True
    assert ("process-limit" in result.layers) == expected
    if os.geteuid() == 0 and expected:
        group = result.stdout.decode().strip().rsplit(":", 1)[-1] if result.stdout else ""
        assert "codex-sandbox-" in group
        leftovers = [p for p in Path("/sys/fs/cgroup").rglob("codex-sandbox-*")
                     if group.strip("/") and p.name == group.strip("/").rsplit("/", 1)[-1]]
        assert leftovers == [], "the run's pids cgroup must be removed"


def _typed_then_run(argv: list[str], ws: Path) -> bytes:
    """Type into a pty, run `argv` with the pty as stdout/stderr, return what stayed unread
    in the terminal's input queue (what the user's shell would still get)."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        os.write(master, b"typed-secret\n")
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=ws,
                       timeout=60, check=False, start_new_session=True)
        os.set_blocking(slave, False)
        try:
            return os.read(slave, 4096)
        except BlockingIOError:
            return b""
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("profile", ["workspace-write", "trusted"])
def test_terminal_output_cannot_be_read_for_keystrokes(profile: str, workspace: Path) -> None:
    script = "timeout 2 cat <&1 > got; true"
    control = _typed_then_run(["sh", "-c", script], workspace)
    assert control == b"" and (workspace / "got").read_bytes() == b"typed-secret\n"
    (workspace / "got").unlink()
    pending = _typed_then_run([sys.executable, "-m", "codex", "sandbox", "--profile", profile,
                               "--", "sh", "-c", script], workspace)
    assert pending == b"typed-secret\n"
    assert (workspace / "got").read_bytes() == b""


@pytest.mark.parametrize("platform,layer", [("darwin", "seatbelt"), ("win32", "windows sandbox")])
def test_other_platforms_refuse_confined_profiles_they_cannot_enforce(
        platform: str, layer: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex.sandbox import SandboxUnavailable, macos

    monkeypatch.setattr(sys, "platform", platform)
    if platform == "darwin" and macos.sandbox_exec_available():
        pytest.skip("this machine has sandbox-exec")
    with pytest.raises(SandboxUnavailable) as refused:
        run("offline", ["true"], workspace)
    assert refused.value.layer == layer
    assert "cannot enforce profile offline" in str(refused.value)


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_other_platforms_run_trusted_directly(platform: str, workspace: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted")
    result = run("trusted", ["sh", "-c", "echo $OPENAI_API_KEY-x; exit 5"], workspace)
    assert (result.exit_code, result.stdout) == (5, b"-x\n")
    assert run("trusted", ["no-such-command-xyz"], workspace).exit_code == 127
