"""`codex profiles` and `codex doctor`, through the real CLI and the real kernel."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codex import __version__

RunCodex = Callable[..., subprocess.CompletedProcess[str]]

PROFILES = ["offline", "net-read-only", "workspace-write", "workspace-net", "trusted"]


def test_profiles_json_lists_all_five(run_codex: RunCodex) -> None:
    result = run_codex("profiles", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == PROFILES
    by_name = {row["name"]: row for row in rows}
    assert by_name["offline"]["default"] and by_name["offline"]["current"]
    assert by_name["offline"]["network"] is False
    assert by_name["workspace-net"]["network"] and by_name["workspace-net"]["writes_workspace"]
    assert by_name["trusted"]["confined"] is False
    assert by_name["trusted"]["aliases"] == ["danger-full-access", "full-access"]
    assert by_name["workspace-write"]["aliases"] == ["workspace"]


@pytest.mark.parametrize(
    ("args", "current"),
    [
        (("--profile", "workspace"), "workspace-write"),
        (("-s", "danger-full-access"), "trusted"),
        (("-s", "workspace-write", "-c", "sandbox_workspace_write.network_access=true"),
         "workspace-net"),
        (("-c", "security_profile=net-read-only"), "net-read-only"),
    ],
)
def test_profiles_marks_the_profile_in_effect(
    run_codex: RunCodex, args: tuple[str, ...], current: str
) -> None:
    rows = json.loads(run_codex(*args, "profiles", "--json").stdout)
    assert [row["name"] for row in rows if row["current"]] == [current]


def test_profiles_table_for_humans(run_codex: RunCodex) -> None:
    result = run_codex("--profile", "trusted", "profiles")
    assert result.returncode == 0
    assert "in effect: trusted" in result.stdout
    for name in PROFILES:
        assert name in result.stdout


def test_doctor_json_reports_this_machine(run_codex: RunCodex, codex_home: Path) -> None:
    result = run_codex("doctor", "--json",
                       env={"CODEX_MANAGED_BY_PNPM": "1", "CODEX_MANAGED_PACKAGE_ROOT": "/p"})
    report = json.loads(result.stdout)
    assert report["version"] == __version__
    assert report["platform"]["machine"] == platform.machine()
    assert report["install"] == {"method": "pnpm", "package_root": "/p",
                                 "executable": report["install"]["executable"],
                                 "compiled": False}
    assert report["config"]["path"] == str(codex_home / "config.toml")
    assert report["config"]["valid"] is True
    assert report["config"]["security_profile"] == "offline"
    assert [row["name"] for row in report["profiles"]] == PROFILES
    current = [row for row in report["profiles"] if row["current"]]
    assert [row["name"] for row in current] == ["offline"]
    # The exit status follows the profile in effect, whatever this kernel offers.
    assert result.returncode == (0 if current[0]["enforceable"] else 1)
    assert report["ok"] is (result.returncode == 0)
    if sys.platform == "linux":
        assert report["target_triple"].endswith(("-unknown-linux-gnu", "-unknown-linux-musl"))
        assert isinstance(report["kernel"]["landlock_abi"], int)
        abi = Path("/sys/kernel/security/lsm")
        if abi.exists() and "landlock" not in abi.read_text():
            assert report["kernel"]["landlock_abi"] == 0


def test_doctor_reports_an_invalid_config_and_exits_1(
    run_codex: RunCodex, codex_home: Path
) -> None:
    (codex_home / "config.toml").write_text('approval_policy = "always"\n')
    result = run_codex("doctor", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["config"]["valid"] is False
    assert report["config"]["error"].startswith(
        f"{codex_home / 'config.toml'}:1: approval_policy: ")
    assert report["problems"][0].startswith("config: ")


def test_doctor_bad_flag_is_a_usage_error(run_codex: RunCodex) -> None:
    result = run_codex("--profile", "yolo", "doctor")
    assert result.returncode == 2
    assert result.stderr.startswith("codex: error: --profile yolo: unknown security profile")
    assert result.stdout == ""


def test_doctor_human_output(run_codex: RunCodex) -> None:
    result = run_codex("--profile", "trusted", "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"codex {__version__}")
    assert "* trusted" in result.stdout
    assert "installed by  python package" in result.stdout


def _userns_sysctl_writable() -> bool:
    unshare = shutil.which("unshare")
    if sys.platform != "linux" or unshare is None:
        return False
    probe = subprocess.run(
        [unshare, "--user", "--map-root-user", "sh", "-c",
         "echo 0 > /proc/sys/user/max_user_namespaces"],
        capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _userns_sysctl_writable(),
                    reason="needs unshare and a writable per-namespace user.max_user_namespaces")
def test_doctor_exits_1_when_the_profile_cannot_be_enforced(run_codex: RunCodex) -> None:
    """Inside a user namespace that may not create user namespaces, confined profiles lose a
    required layer: doctor must say so and exit 1, while `trusted` (no confinement) passes."""
    script = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"'
    prefix = ("unshare", "--user", "--map-root-user", "sh", "-c", script, "sh")
    result = run_codex("doctor", "--json", prefix=prefix)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    offline = report["profiles"][0]
    assert offline["enforceable"] is False
    assert "user-namespace" in [layer["name"] for layer in offline["missing_layers"]]
    assert report["problems"] == [
        "security profile offline cannot be enforced here: missing user-namespace "
        "(user.max_user_namespaces = 0)"
    ]
    control = run_codex("--profile", "trusted", "doctor", "--json", prefix=prefix)
    assert control.returncode == 0, control.stdout
