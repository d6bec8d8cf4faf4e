"""Fail-closed behaviour: a kernel layer is made unavailable for real (a seccomp filter,
installed by a wrapper before codex starts, makes its syscalls fail the way an old or
locked-down kernel would). A profile that needs the layer must refuse, name it, and never run
the command; `--allow-degraded` runs it and records the missing layer."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path

import pytest
from escape_kit import Arena, Listeners, actor, nonce

pytestmark = pytest.mark.timeout(90)

# Install a filter that removes one kernel feature, then exec the rest of argv.
WRAPPER = r"""
import errno, os, sys
import pyseccomp as s
layer, argv = sys.argv[1], sys.argv[2:]
f = s.SyscallFilter(s.ALLOW)
if layer == "landlock":
    for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
        f.add_rule(s.ERRNO(errno.ENOSYS), name)
elif layer == "seccomp":
    f.add_rule(s.ERRNO(errno.ENOSYS), "seccomp")
    f.add_rule(s.ERRNO(errno.EINVAL), "prctl", s.Arg(0, s.EQ, 22))
elif layer == "namespaces":
    f.add_rule(s.ERRNO(errno.EPERM), "unshare")
    f.add_rule(s.ERRNO(errno.EPERM), "setns")
    f.add_rule(s.ERRNO(errno.ENOSYS), "clone3")
    for bit in (0x80, 0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000,
                0x40000000):
        f.add_rule(s.ERRNO(errno.EPERM), "clone", s.Arg(0, s.MASKED_EQ, bit, bit))
f.load()
os.execvp(argv[0], argv)
"""


def wrapped(layer: str, argv: list[str]) -> list[str]:
    return [sys.executable, "-c", WRAPPER, layer, *argv]


def run_without(arena: Arena, layer: str, profile: str, argv: list[str],
                extra: tuple[str, ...] = ()) -> tuple[int, bytes, bytes]:
    import subprocess

    full = wrapped(layer, arena.sandbox_argv(profile, argv, json_result=True, extra=extra))
    proc = subprocess.run(full, cwd=arena.ws, env=arena.env, capture_output=True, timeout=60,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_wrapper_really_removes_landlock(arena: Arena) -> None:
    """Control: under the wrapper the Landlock syscall answers ENOSYS."""
    probe = ("import ctypes; l = ctypes.CDLL(None, use_errno=True); "
             "print(l.syscall(444, None, 0, 1), ctypes.get_errno())")
    import subprocess

    out = subprocess.run(wrapped("landlock", [sys.executable, "-c", probe]),
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["-1", str(errno.ENOSYS)]


@pytest.mark.parametrize("layer", ["landlock", "seccomp"])
@pytest.mark.parametrize("profile", ["offline", "workspace-write"])
def test_required_layer_missing_is_refused(layer: str, profile: str, arena: Arena) -> None:
    token = nonce()
    marker = arena.ws / "ran.txt"
    code, out, err = run_without(arena, layer, profile, actor("write", token, marker, "ran"))
    assert code != 0, f"ran without {layer}: {out!r} {err!r}"
    assert f"ACTOR-STARTED {token}".encode() not in out, "the command ran without " + layer
    assert not marker.exists()
    assert layer.encode() in (out + err).lower(), f"refusal does not name {layer}: {err!r}"


@pytest.mark.parametrize("layer", ["landlock", "seccomp"])
def test_allow_degraded_runs_and_records(layer: str, arena: Arena) -> None:
    token = nonce()
    marker = arena.ws / "ran.txt"
    code, out, err = run_without(arena, layer, "workspace-write",
                                 actor("write", token, marker, "ran"),
                                 extra=("--allow-degraded",))
    assert marker.read_text() == "ran", f"{code} {out!r} {err!r}"
    result = next(json.loads(line) for line in reversed((out + err).decode().splitlines())
                  if line.startswith("{"))
    assert layer in json.dumps(result.get("degraded")).lower(), result


# Started, then tries to get out three ways; each attempt's failure is swallowed (the verdict
# comes from the file and the listener, never from what the probe says).
ESCAPE_PROBE = """
import contextlib, socket, sys
token, inside, target, port = sys.argv[1:]
print("PROBE-STARTED", token, flush=True)
with contextlib.suppress(OSError):
    open(inside, "w").write(token)
with contextlib.suppress(OSError):
    open(target, "a").write("pwned")
with contextlib.suppress(OSError):
    socket.create_connection(("127.0.0.1", int(port)), 2).sendall(token.encode())
"""


def _result(out: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return parsed


@pytest.mark.parametrize("profile", ["offline", "workspace-write"])
def test_without_namespaces_the_run_is_refused_before_the_command(
    profile: str, arena: Arena, listeners: Listeners
) -> None:
    token = nonce()
    port = str(listeners.tcp4.getsockname()[1])
    argv = [sys.executable, "-c", ESCAPE_PROBE, token, str(arena.ws / "in.txt"),
            str(arena.target), port]
    code, out, err = run_without(arena, "namespaces", profile, argv)
    assert code == 1, f"{code} {out!r} {err!r}"
    assert b"Traceback" not in out + err, err
    result = _result(out)
    refused = result["refused"]
    assert isinstance(refused, dict) and "namespace" in str(refused["layer"]), result
    assert token.encode() not in out, "the command started although the run was refused"
    assert not (arena.ws / "in.txt").exists()
    assert arena.target.read_bytes() == b"original\n"
    assert not listeners.saw(token, 0.5)


@pytest.mark.parametrize("profile", ["offline", "workspace-write"])
def test_without_namespaces_a_degraded_run_starts_and_nothing_escapes(
    profile: str, arena: Arena, listeners: Listeners, tmp_path: Path
) -> None:
    """`--allow-degraded` runs the command without namespaces: it must really start (its
    marker is on stdout; under workspace-write its workspace write lands) while Landlock and
    seccomp still stop the write outside and the loopback connection."""
    import subprocess

    port = str(listeners.tcp4.getsockname()[1])
    # Control: unconfined, the same probe does reach the file and the listener.
    control_token, control_target = nonce(), tmp_path / "control-target.txt"
    subprocess.run([sys.executable, "-c", ESCAPE_PROBE, control_token,
                    str(tmp_path / "control-in.txt"), str(control_target), port],
                   check=True, timeout=30, capture_output=True)
    assert control_target.read_text() == "pwned" and listeners.saw(control_token, 5)

    token = nonce()
    argv = [sys.executable, "-c", ESCAPE_PROBE, token, str(arena.ws / "in.txt"),
            str(arena.target), port]
    code, out, err = run_without(arena, "namespaces", profile, argv,
                                 extra=("--allow-degraded",))
    assert b"Traceback" not in out + err, err
    result = _result(out)
    assert code == 0 and result["exit_code"] == 0, result
    assert f"PROBE-STARTED {token}" in str(result["stdout"]), result
    if profile == "workspace-write":
        assert (arena.ws / "in.txt").read_text() == token
    degraded = json.dumps(result["degraded"])
    assert "namespace" in degraded, result
    assert arena.target.read_bytes() == b"original\n", f"ESCAPE without namespaces: {result}"
    assert not listeners.saw(token, 1.0), f"ESCAPE without namespaces: {result}"
