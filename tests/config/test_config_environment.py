"""Target triples and install method, as `codex doctor` reports them."""

from __future__ import annotations

import platform

import pytest

from codex.config.environment import install_info, linux_libc, target_triple


@pytest.mark.parametrize(
    ("system", "machine", "libc", "triple"),
    [
        ("Linux", "x86_64", "gnu", "x86_64-unknown-linux-gnu"),
        ("Linux", "aarch64", "musl", "aarch64-unknown-linux-musl"),
        ("Linux", "arm64", "gnu", "aarch64-unknown-linux-gnu"),
        ("Darwin", "arm64", None, "aarch64-apple-darwin"),
        ("Darwin", "x86_64", None, "x86_64-apple-darwin"),
        ("Windows", "AMD64", None, "x86_64-pc-windows-msvc"),
        ("Windows", "ARM64", None, "aarch64-pc-windows-msvc"),
        ("Linux", "riscv64", "gnu", None),
        ("FreeBSD", "x86_64", None, None),
    ],
)
def test_target_triple_mapping(system: str, machine: str, libc: str | None,
                               triple: str | None) -> None:
    assert target_triple(system, machine, libc) == triple


@pytest.mark.skipif(platform.system() != "Linux", reason="libc detection is Linux-only")
def test_this_machine_libc_agrees_with_the_platform_module() -> None:
    expected = "gnu" if platform.libc_ver()[0] == "glibc" else "musl"
    assert linux_libc() == expected


@pytest.mark.parametrize("manager", ["npm", "pnpm", "yarn", "bun"])
def test_install_method_from_launcher_variables(manager: str) -> None:
    info = install_info({f"CODEX_MANAGED_BY_{manager.upper()}": "1",
                         "CODEX_MANAGED_PACKAGE_ROOT": "/opt/pkg"})
    assert (info.method, info.package_root) == (manager, "/opt/pkg")


def test_install_method_without_launcher_is_the_python_package() -> None:
    info = install_info({})
    assert info.method == "python package"
    assert info.package_root is None
