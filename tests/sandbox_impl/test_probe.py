"""probe() and layers_for() against outside oracles (util-linux, /proc)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sbx_support import FEATURES, policy

from codex.sandbox import layers_for
from codex.sandbox.layer_names import ENV, LANDLOCK_FS, SECCOMP, SESSION, STDIN, USERNS
from codex.sandbox.linux.probe import read_sysctl


def test_probe_is_json_ready_and_names_the_architecture() -> None:
    data = json.loads(json.dumps(FEATURES.as_dict()))
    assert data["arch"] == subprocess.run(["uname", "-m"], capture_output=True, text=True,
                                          check=True).stdout.strip()
    assert isinstance(data["landlock_abi"], int)


def test_seccomp_availability_matches_proc_status() -> None:
    status = Path("/proc/self/status").read_text()
    assert FEATURES.seccomp == ("Seccomp:" in status)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux unshare missing")
def test_userns_trial_agrees_with_util_linux_unshare() -> None:
    control = subprocess.run(["unshare", "--user", "true"], capture_output=True, check=False)
    assert FEATURES.userns == (control.returncode == 0)


def test_sysctls_are_read_verbatim() -> None:
    raw = Path("/proc/sys/kernel/perf_event_paranoid").read_text().strip()
    assert read_sysctl("kernel/perf_event_paranoid") == raw
    assert FEATURES.sysctls["kernel.perf_event_paranoid"] == raw
    assert read_sysctl("kernel/does_not_exist") is None


def test_trusted_needs_only_environment_and_stdin_layers(tmp_path: Path) -> None:
    active, missing = layers_for(policy("trusted", tmp_path))
    assert active == [ENV, STDIN, SESSION]
    assert missing == []


def test_layers_for_reflects_the_probe(tmp_path: Path) -> None:
    active, missing = layers_for(policy("offline", tmp_path))
    names = {m.name for m in missing}
    assert (LANDLOCK_FS in active) == (FEATURES.landlock_abi >= 3)
    assert (SECCOMP in active) == FEATURES.seccomp
    assert (USERNS in names) == (FEATURES.userns is False)
    assert not set(active) & names
    for layer in missing:
        assert layer.reason, layer
        assert str(layer) == f"{layer.name} ({layer.reason})"
