"""Seatbelt policy generation: golden text per profile, structural invariants, and (on a
macOS runner only) real runs through /usr/bin/sandbox-exec judged by the files they leave.

Regenerate the golden files after an intended policy change with
`CODEX_UPDATE_GOLDEN=1 .venv/bin/pytest tests/sandbox_macos` and review the diff."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codex.policies import SandboxPolicy
from codex.sandbox.macos import SANDBOX_EXEC, SeatbeltPolicy, seatbelt_policy
from codex.security.profiles import (
    MASKED_HOME_PATHS,
    PROTECTED_SUBPATHS,
    SecurityProfile,
    resolve_policy,
)

GOLDEN = Path(__file__).with_name("golden")
CONFINED = [p for p in SecurityProfile if p is not SecurityProfile.TRUSTED]
WORKSPACE = Path("/work/ws")
HOME = Path("/Users/dev")
ON_MACOS = sys.platform == "darwin"


def policy_for(profile: SecurityProfile, extra: tuple[Path, ...] = ()) -> SandboxPolicy:
    return resolve_policy(profile, WORKSPACE, extra, home=HOME)


def generated(profile: SecurityProfile, extra: tuple[Path, ...] = (),
              private_tmp: str | None = None) -> SeatbeltPolicy:
    return seatbelt_policy(policy_for(profile, extra), private_tmp=private_tmp)


CASES = {
    **{p.value: (p, (), None) for p in CONFINED},
    "workspace-write-extra-root-and-tmp": (SecurityProfile.WORKSPACE_WRITE,
                                           (Path("/work/cache"),), "/private/tmp/codex-x"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_policy_text_matches_golden(case: str) -> None:
    profile, extra, tmp = CASES[case]
    text = generated(profile, extra, tmp).text
    golden = GOLDEN / f"{case}.sb"
    if os.environ.get("CODEX_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}; run with CODEX_UPDATE_GOLDEN=1"
    assert text == golden.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_parameter_is_defined_exactly_once(case: str) -> None:
    profile, extra, tmp = CASES[case]
    policy = generated(profile, extra, tmp)
    used = set(re.findall(r'\(param "([A-Z0-9_]+)"\)', policy.text))
    names = [name for name, _ in policy.params]
    assert len(names) == len(set(names))
    assert used == set(names)
    assert all(os.path.isabs(value) for _, value in policy.params)


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_is_balanced_and_path_free(case: str) -> None:
    profile, extra, tmp = CASES[case]
    text = generated(profile, extra, tmp).text
    code = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
    assert code.count("(") == code.count(")")
    assert str(WORKSPACE) not in text and str(HOME) not in text
    assert "(deny default)" in text and "(allow default)" not in text


@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_network_only_in_net_profiles(profile: SecurityProfile) -> None:
    text = generated(profile).text
    for operation in ("network-outbound", "network-bind", "network-inbound", "system-socket"):
        assert (f"(allow {operation}" in text) == profile.network, operation
    assert "unix-socket (path-literal \"/private/var/run/mDNSResponder\")" in text or \
        not profile.network


@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_never_granted(profile: SecurityProfile) -> None:
    text = generated(profile).text
    for operation in ("file-write*", "file-write-setugid", "file-write-mount",
                      "file-write-unmount", "file-write-acl", "network*", "process*",
                      "mach-register", "iokit-open"):
        assert f"{operation} " not in text and f"{operation})" not in text, operation


@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_paths_by_role(profile: SecurityProfile) -> None:
    policy = generated(profile)
    params = dict(policy.params)
    masked = {v for k, v in params.items() if k.startswith("MASKED_")}
    assert str(HOME / ".ssh") in masked and str(HOME / ".aws") in masked
    assert len([m for m in masked if m.startswith(str(HOME))]) == len(MASKED_HOME_PATHS)
    roots = {v for k, v in params.items() if re.fullmatch(r"WRITABLE_ROOT_\d+", k)}
    protected = {v for k, v in params.items() if "_PROTECTED_" in k}
    if profile.writes_workspace:
        assert roots == {str(WORKSPACE)}
        assert protected == {str(WORKSPACE / s) for s in PROTECTED_SUBPATHS}
        assert params["WRITABLE_ROOT_0_ANCESTOR_0"] == str(WORKSPACE / ".git")
    else:
        assert not roots and not protected
        assert "file-write-create" not in policy.text


def test_trusted_is_never_wrapped() -> None:
    with pytest.raises(ValueError, match="unconfined"):
        seatbelt_policy(policy_for(SecurityProfile.TRUSTED))


def test_command_uses_absolute_sandbox_exec() -> None:
    policy = generated(SecurityProfile.WORKSPACE_WRITE)
    argv = policy.command(["git", "status", "--", "-p"])
    assert argv[:3] == [SANDBOX_EXEC, "-p", policy.text]
    assert SANDBOX_EXEC == "/usr/bin/sandbox-exec"
    split = argv.index("--")
    assert argv[split + 1:] == ["git", "status", "--", "-p"]
    assert argv[3:split] == [f"-D{k}={v}" for k, v in policy.params]
    with pytest.raises(ValueError):
        policy.command([])


def test_paths_are_canonicalised(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    policy = seatbelt_policy(SandboxPolicy(profile="workspace-write",
                                           writable_roots=(tmp_path / "link",)))
    assert dict(policy.params)["WRITABLE_ROOT_0"] == str(real.resolve())


# --- real runs: only where Seatbelt exists ---------------------------------------------------

macos_only = pytest.mark.skipif(not ON_MACOS, reason="Seatbelt exists only on macOS")


def run_under(profile: SecurityProfile, ws: Path, script: str,
              home: Path) -> subprocess.CompletedProcess[str]:
    policy = seatbelt_policy(resolve_policy(profile, ws, home=home))
    return subprocess.run(policy.command(["/bin/sh", "-c", script]), capture_output=True,
                          text=True, timeout=60, check=False)


@macos_only
@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_seatbelt_writes_only_where_allowed(profile: SecurityProfile, tmp_path: Path) -> None:
    ws, outside, home = tmp_path / "ws", tmp_path / "outside", tmp_path / "home"
    for d in (ws, outside, home, ws / ".git" / "hooks"):
        d.mkdir(parents=True)
    script = (f"echo x > {outside}/o; echo x > {ws}/w; echo x > {ws}/.git/hooks/pre-commit; "
              f"mv {ws}/.git {ws}/.git2; echo x > /dev/null")
    run_under(profile, ws, script, home)
    assert not (outside / "o").exists()
    assert (ws / "w").exists() == profile.writes_workspace
    assert not (ws / ".git" / "hooks" / "pre-commit").exists()
    assert (ws / ".git").is_dir() and not (ws / ".git2").exists()


@macos_only
@pytest.mark.parametrize("profile", CONFINED, ids=str)
def test_seatbelt_masks_secrets(profile: SecurityProfile, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("secret-key-material\n")
    out = run_under(profile, tmp_path, f"cat {home}/.ssh/id_ed25519; cat /etc/hosts", home)
    assert "secret-key-material" not in out.stdout
    assert "localhost" in out.stdout, "ordinary reads must still work"
