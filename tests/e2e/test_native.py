"""The Nuitka build itself: it starts, every registered command is compiled in (they are
imported dynamically, so a missing --include-package would only show at run time), heavy
modules we excluded stay out, and the sandbox helper works when the binary re-executes
itself."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from e2e_helpers import META_VERSION

pytestmark = pytest.mark.timeout(300)


def run(binary: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def registered_commands() -> list[str]:
    """Command names from the source's COMMANDS table, as `codex --help` should list them."""
    from codex.cli.app import COMMANDS

    return list(COMMANDS)


def test_version_and_help(native_binary: Path) -> None:
    proc = run(native_binary, "--version")
    assert (proc.returncode, proc.stdout) == (0, f"codex {META_VERSION}\n"), proc.stderr
    helped = run(native_binary, "--help")
    assert helped.returncode == 0 and "Usage" in helped.stdout, helped.stderr


def test_bad_flag_is_a_usage_error(native_binary: Path) -> None:
    proc = run(native_binary, "--no-such-flag")
    assert proc.returncode == 2 and "No such option" in proc.stderr


def test_every_command_module_is_compiled_in(native_binary: Path) -> None:
    helped = run(native_binary, "--help")
    assert helped.returncode == 0, helped.stderr
    # The listing comes from the table; `--help` on each command imports its module, which
    # fails if the build left that module out.
    listed = re.findall(r"^\s{2}([a-z][\w-]*)\s", helped.stdout, re.M)
    assert listed == registered_commands(), helped.stdout
    for command in listed:
        sub = run(native_binary, command, "--help")
        assert sub.returncode == 0, f"`codex {command} --help` failed:\n{sub.stderr}"


def test_excluded_modules_stay_out(native_binary: Path) -> None:
    dist = native_binary.parent
    names = {p.name for p in dist.rglob("*")}
    assert not any(n.startswith("pygments") for n in names), "pygments was bundled"
    assert not any(n.startswith("zstandard") or n.startswith("_zstd") for n in names)
    manifest = json.loads((dist / "build-manifest.json").read_text())
    assert manifest["triple"] in str(dist)


def test_sandbox_helper_reexecutes_the_native_binary(native_binary: Path, tmp_path: Path) -> None:
    """The helper is this binary re-executed; the confined command is `sh -c ...` (whose `-c`
    Nuitka's self-execution guard would refuse unless the build disables that guard)."""
    control = run(native_binary, "sandbox", "--profile", "workspace-write", "--", "sh", "-c",
                  "echo x > allowed", cwd=tmp_path)
    assert control.returncode == 0, control.stderr
    assert (tmp_path / "allowed").read_text() == "x\n"
    blocked = run(native_binary, "sandbox", "--profile", "offline", "--", "sh", "-c",
                  "echo x > denied", cwd=tmp_path)
    assert blocked.returncode == 2, blocked.stderr
    # EROFS from the read-only mounts; EACCES from Landlock where mount_setattr is missing.
    assert any(f"cannot create denied: {why}" in blocked.stderr
               for why in ("Read-only file system", "Permission denied")), blocked.stderr
    assert not (tmp_path / "denied").exists()


def test_audit_checkpoints_sign_and_verify_in_the_binary(native_binary: Path,
                                                         tmp_path: Path) -> None:
    """PyNaCl (ed25519) is loaded only by the checkpoint commands, so only running them shows
    whether the build carries it and its libsodium extension."""
    import os

    home, keys = tmp_path / "home", tmp_path / "keys"
    home.mkdir()
    env = {**os.environ, "CODEX_HOME": str(home), "CODEX_AUDIT_KEY_DIR": str(keys)}

    def codex(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(native_binary), *args], capture_output=True, text=True,
                              timeout=120, env=env, cwd=tmp_path)

    ran = codex("sandbox", "--", "true")  # records one audit entry
    assert ran.returncode == 0, ran.stderr
    made = codex("audit", "checkpoint", "--export", str(tmp_path / "cp"))
    assert made.returncode == 0, made.stderr
    checked = codex("audit", "verify", "--checkpoint", str(tmp_path / "cp"))
    assert checked.returncode == 0, checked.stderr
    assert "signed checkpoint(s) match" in checked.stdout
    (home / "audit" / "audit.lock").unlink()
    for day in (home / "audit").glob("audit-*.jsonl"):
        day.write_bytes(b"")
    cut = codex("audit", "verify", "--checkpoint", str(tmp_path / "cp"))
    assert cut.returncode == 1 and "truncated" in cut.stderr
