"""Where this codex runs and how it got there: target triple and install method.

The triple is computed the way the npm launcher picks a platform package (arch + OS, and libc
on Linux), so `codex doctor` can say which package a machine needs.
"""

from __future__ import annotations

import glob
import os
import platform
import sys
from dataclasses import dataclass

# Variables the npm launcher sets for the child process, by package manager.
MANAGED_BY_VARIABLES: dict[str, str] = {
    "CODEX_MANAGED_BY_NPM": "npm",
    "CODEX_MANAGED_BY_PNPM": "pnpm",
    "CODEX_MANAGED_BY_YARN": "yarn",
    "CODEX_MANAGED_BY_BUN": "bun",
}

_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def linux_libc() -> str:
    """`gnu` or `musl` for the running process (`unknown` when neither is recognisable)."""
    name, _version = platform.libc_ver()
    if name == "glibc":
        return "gnu"
    if glob.glob("/lib/ld-musl-*.so.1") or glob.glob("/usr/lib/ld-musl-*.so.1"):
        return "musl"
    return "unknown"


def target_triple(
    system: str | None = None, machine: str | None = None, libc: str | None = None
) -> str | None:
    """The Rust-style triple of a native codex build for this machine, or None if unsupported."""
    system = (system or platform.system()).lower()
    arch = _ARCHES.get((machine or platform.machine()).lower())
    if arch is None:
        return None
    if system == "linux":
        flavour = libc or linux_libc()
        return f"{arch}-unknown-linux-{flavour}" if flavour in ("gnu", "musl") else None
    if system == "darwin":
        return f"{arch}-apple-darwin"
    if system == "windows":
        return f"{arch}-pc-windows-msvc"
    return None


@dataclass(frozen=True)
class InstallInfo:
    """How this codex was installed."""

    method: str
    package_root: str | None
    executable: str
    compiled: bool


def install_info(environ: dict[str, str] | None = None) -> InstallInfo:
    """npm/pnpm/yarn/bun (from the launcher's variables), else a native build, else pip."""
    env = os.environ if environ is None else environ
    compiled = "__compiled__" in globals()
    method = next((manager for var, manager in MANAGED_BY_VARIABLES.items() if env.get(var)),
                  None)
    if method is None:
        method = "native binary" if compiled else "python package"
    executable = sys.argv[0] if compiled else sys.executable
    return InstallInfo(method, env.get("CODEX_MANAGED_PACKAGE_ROOT") or None, executable,
                       compiled)
