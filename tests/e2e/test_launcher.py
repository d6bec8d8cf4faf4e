"""Failure modes of npm/bin/codex.js, each with its message and fix, on a real node_modules
layout (the meta package's files plus a platform package whose vendor/ links to the real
native build) run by the real node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import META_VERSION, NPM_DIR, host_triple, platform_package

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def layout(native_binary: Path) -> Iterator[Path]:
    """node_modules/@openai/{codex, codex-<platform>} in a world-readable temp dir."""
    root = Path(tempfile.mkdtemp(prefix="codex-launcher-"))
    try:
        os.chmod(root, 0o755)
        # A project that depends on codex (a local install, as `npm install` makes it).
        (root / "package.json").write_text(json.dumps({"name": "p", "private": True}))
        meta = root / "node_modules/@openai/codex"
        for rel in ("package.json", "bin/codex.js", "scripts/postinstall.js", "scripts/test.js"):
            (meta / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(NPM_DIR / rel, meta / rel)
        plat = root / "node_modules" / platform_package()
        (plat / "vendor").mkdir(parents=True)
        (plat / "package.json").write_text(json.dumps(
            {"name": platform_package(), "version": META_VERSION}))
        (plat / "vendor" / host_triple()).symlink_to(native_binary.parent.parent)
        for path in root.rglob("*"):
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        yield root
    finally:
        shutil.rmtree(root)


def launch(root: Path, *args: str, env: dict[str, str] | None = None,
           node_args: tuple[str, ...] = (), user: int | None = None
           ) -> subprocess.CompletedProcess[str]:
    argv = ["node", *node_args, str(root / "node_modules/@openai/codex/bin/codex.js"), *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    full_env.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=60)


def test_platform_package_is_used(layout: Path) -> None:
    proc = launch(layout, "--version", env={"CODEX_LAUNCHER_DEBUG": "1"})
    assert (proc.returncode, proc.stdout) == (0, f"codex {META_VERSION}\n"), proc.stderr
    assert f"{platform_package()}: {layout / 'node_modules' / platform_package()}" in proc.stderr
    assert "running " in proc.stderr


def test_binary_path_override_must_exist(layout: Path) -> None:
    proc = launch(layout, "--version", env={"CODEX_BINARY_PATH": str(layout / "nope")})
    assert proc.returncode == 127
    assert "(from CODEX_BINARY_PATH) does not exist" in proc.stderr
    assert "Fix: point CODEX_BINARY_PATH at the codex executable, or unset it" in proc.stderr


def test_version_mismatch_names_the_fix(layout: Path) -> None:
    manifest = layout / "node_modules" / platform_package() / "package.json"
    manifest.write_text(json.dumps({"name": platform_package(), "version": "0.0.1"}))
    proc = launch(layout, "--version")
    assert proc.returncode == 1
    assert f"{platform_package()}@0.0.1 does not match @openai/codex@{META_VERSION}" in \
        proc.stderr
    assert f"Fix: npm install @openai/codex@{META_VERSION} --include=optional" in proc.stderr


def test_missing_binary_in_platform_package(layout: Path) -> None:
    (layout / "node_modules" / platform_package() / "vendor" / host_triple()).unlink()
    proc = launch(layout, "--version")
    assert proc.returncode == 127
    assert "does not exist" in proc.stderr and "Fix: npm install" in proc.stderr


def test_exec_format_error(layout: Path) -> None:
    bogus = layout / "bogus"
    bogus.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 64)
    bogus.chmod(0o755)
    proc = launch(layout, "--version", env={"CODEX_BINARY_PATH": str(bogus)})
    assert proc.returncode == 126, proc.stderr
    assert "is built for another architecture (machine 0)" in proc.stderr
    assert "exec format error" in proc.stderr and "Fix: point CODEX_BINARY_PATH" in proc.stderr
    text = layout / "not-elf"
    text.write_text("plain text, no shebang\n")
    text.chmod(0o755)
    proc = launch(layout, "--version", env={"CODEX_BINARY_PATH": str(text)})
    assert proc.returncode == 126 and "is not an ELF executable" in proc.stderr, proc.stderr


def test_mode_is_repaired_when_we_own_the_file(layout: Path) -> None:
    script = layout / "fake-codex.sh"
    script.write_text("#!/bin/sh\necho repaired \"$@\"\n")
    script.chmod(0o644)
    proc = launch(layout, "a b", env={"CODEX_BINARY_PATH": str(script)})
    assert (proc.returncode, proc.stdout) == (0, "repaired a b\n"), proc.stderr
    assert os.stat(script).st_mode & 0o111


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run as another user")
def test_not_executable_and_not_ours(layout: Path) -> None:
    script = layout / "root-owned.sh"
    script.write_text("#!/bin/sh\necho never\n")
    script.chmod(0o644)
    proc = launch(layout, env={"CODEX_BINARY_PATH": str(script)}, user=65534)
    assert proc.returncode == 126, proc.stderr
    assert "is not executable and its mode cannot be changed" in proc.stderr
    assert f"chmod +x '{script}'" in proc.stderr and "noexec" in proc.stderr


def test_unsupported_platform(layout: Path) -> None:
    preload = layout / "ia32.js"
    preload.write_text("Object.defineProperty(process, 'arch', { value: 'ia32' });\n")
    proc = launch(layout, "--version", node_args=("--require", str(preload)))
    assert proc.returncode == 1
    assert "no build for " in proc.stderr and "-ia32" in proc.stderr
    assert "CODEX_BINARY_PATH" in proc.stderr


def test_postinstall_reports_success_and_never_fails(layout: Path) -> None:
    postinstall = layout / "node_modules/@openai/codex/scripts/postinstall.js"
    ok = subprocess.run(["node", str(postinstall)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0
    assert ok.stdout == f"codex {META_VERSION} installed ({platform_package()}).\n"
    (layout / "node_modules" / platform_package() / "vendor" / host_triple()).unlink()
    broken = subprocess.run(["node", str(postinstall)], capture_output=True, text=True,
                            timeout=60)
    assert broken.returncode == 0
    assert "codex postinstall warning:" in broken.stderr and "does not exist" in broken.stderr
