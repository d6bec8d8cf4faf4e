"""The read-only remount: outside the writable roots every metadata and namespace change
fails with EROFS (or EACCES from Landlock), in every confined profile, while the workspace
and the private temp dir stay writable. Judged by the file's state read from outside, plus
the errno the command saw (a control run proves each operation works unconfined)."""

from __future__ import annotations

import json
import sys

import pytest
from escape_kit import CONFINED, WRITE_PROFILES, Arena, findings_note, state_of

pytestmark = pytest.mark.timeout(120)

# Each operation on the outside file (argv[1]); prints {"op": "ok" | errno name}.
SCRIPT = r"""
import errno, json, os, sys
target, ws = sys.argv[1], sys.argv[2]
ops = {
    "chmod": lambda: os.chmod(target, 0o600),
    "chown": lambda: os.chown(target, os.getuid(), os.getgid()),
    "utime": lambda: os.utime(target, (1, 1)),
    "setxattr": lambda: os.setxattr(target, "user.codex", b"x"),
    "link": lambda: os.link(target, target + ".hl"),
    "truncate": lambda: os.truncate(target, 0),
    "rename": lambda: (os.rename(target, target + ".moved"),
                       os.rename(target + ".moved", target)),
    "mkdir-in-tmp": lambda: os.mkdir("/tmp/codex-ro-probe-" + str(os.getpid())),
}
seen = {}
for name, op in ops.items():
    try:
        op()
        seen[name] = "ok"
    except OSError as exc:
        seen[name] = errno.errorcode.get(exc.errno, str(exc.errno))
try:
    with open(os.path.join(ws, "written.txt"), "w") as fh:
        fh.write("yes")
    seen["workspace"] = "ok"
except OSError as exc:
    seen["workspace"] = errno.errorcode.get(exc.errno, str(exc.errno))
print("RESULT " + json.dumps(seen))
"""


def _results(stdout: bytes) -> dict[str, str]:
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith("RESULT "):
            parsed: dict[str, str] = json.loads(line[len("RESULT "):])
            return parsed
    raise AssertionError("the probe script printed no result")


@pytest.mark.parametrize("profile", sorted(CONFINED))
def test_outside_changes_fail_with_erofs(profile: str, arena: Arena,
                                         control_arena: Arena) -> None:
    argv = [sys.executable, "-c", SCRIPT]
    control = control_arena.run([*argv, str(control_arena.target), str(control_arena.ws)],
                                profile=None)
    seen = _results(control.stdout)
    # xattrs need a file system that supports user.* ones; skip that op when the host lacks it
    unsupported = {op for op, res in seen.items() if res in ("ENOTSUP", "EOPNOTSUPP")}
    assert all(res == "ok" for op, res in seen.items() if op not in unsupported), seen

    before = state_of(arena.target)
    outcome = arena.run([*argv, str(arena.target), str(arena.ws)], profile=profile)
    seen = _results(outcome.stdout)
    assert state_of(arena.target) == before, "ESCAPE: outside file changed\n" + \
        findings_note(outcome)
    assert sorted(p.name for p in arena.outside.iterdir()) == ["target.txt"]
    refused = {op: res for op, res in seen.items() if op != "workspace" and op not in unsupported}
    assert "ok" not in refused.values(), f"ESCAPE under {profile}: {refused}"
    if profile in WRITE_PROFILES:
        # seccomp leaves chmod, chown, utime and the namespace changes to the write
        # profiles (it answers every xattr setter with EOPNOTSUPP): the mount must stop them
        xattr = refused.pop("setxattr", "EOPNOTSUPP")
        assert xattr in ("ENOTSUP", "EOPNOTSUPP", "EROFS"), xattr
        assert set(refused.values()) <= {"EROFS", "EACCES"}, f"{profile}: {refused}"
    if profile in WRITE_PROFILES:
        assert seen["workspace"] == "ok"
        assert (arena.ws / "written.txt").read_text() == "yes"
    else:
        assert seen["workspace"] != "ok"


@pytest.mark.parametrize("profile", sorted(CONFINED & WRITE_PROFILES))
def test_private_tmp_stays_writable_and_layer_reported(profile: str, arena: Arena) -> None:
    outcome = arena.run(["sh", "-c", 'echo data > "$TMPDIR/t" && cat "$TMPDIR/t"'],
                        profile=profile, json_result=True)
    result = json.loads(outcome.stdout)
    assert result["exit_code"] == 0 and result["stdout"] == "data\n", outcome.describe()
    assert "read-only-mounts" in result["layers"]
