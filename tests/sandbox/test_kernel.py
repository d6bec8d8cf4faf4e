"""Kernel-interface probes (keyrings, bpf, perf, userfaultfd, io_uring): the actor opens the
interface and holds it; the test looks from outside at /proc/keys and at the actor's
descriptors. Any object the kernel created there is an escape for confined profiles."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from escape_kit import (
    PROFILES,
    Arena,
    actor,
    control_once,
    held,
    nonce,
)

pytestmark = pytest.mark.timeout(120)

ANON_INODES = {
    "bpf_map": "anon_inode:bpf-map",
    "perf_event": "anon_inode:[perf_event]",
    "userfaultfd": "anon_inode:[userfaultfd]",
    "io_uring": "anon_inode:[io_uring]",
}


def holds(pids: list[int], link: str) -> bool:
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                        return True
    return False


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("interface", sorted(ANON_INODES))
def test_kernel_interface(interface: str, profile: str, arena: Arena,
                          control_arena: Arena) -> None:
    def opened(a: Arena, prof: str | None) -> bool:
        token = nonce()
        with held(a, actor(interface, token), token, profile=prof) as pids:
            return holds(pids, ANON_INODES[interface])

    control_once(f"kernel-{interface}", lambda: None if opened(control_arena, None)
                 else f"{interface} not available to this uid")
    assert opened(arena, profile) == (profile == "trusted"), f"{interface} under {profile}"


@pytest.mark.parametrize("profile", PROFILES)
def test_keyring_add_key(profile: str, arena: Arena, control_arena: Arena) -> None:
    """A key added inside would be visible in the kernel's key table (/proc/keys)."""
    def added(a: Arena, prof: str | None) -> bool:
        token = nonce()
        with held(a, actor("add_key", token, "codex-escape-" + token), token, profile=prof):
            return token in Path("/proc/keys").read_text()

    if not Path("/proc/keys").exists():
        pytest.skip("control run: kernel without /proc/keys")
    control_once("add-key", lambda: None if added(control_arena, None) else "add_key denied")
    assert added(arena, profile) == (profile == "trusted"), f"add_key under {profile}"
