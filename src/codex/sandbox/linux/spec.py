"""The contract between the runner and the helper, and the status messages coming back.

Both travel on inherited pipes as `marshal` data in length-prefixed frames: the helper is the
same interpreter as the runner, and marshal needs no import, unlike json (which pulls in `re`)
or pydantic. Only plain dicts, lists, strings, ints, bools and None.

The spec pipe carries one spec frame, then (possibly much later) the GO byte: the helper
confines itself as soon as it has the spec, and starts the command only on GO. End of file
instead of GO means the run was called off (the guards refused it): the helper exits.
"""

from __future__ import annotations

import marshal
import os
import struct

_FRAME = struct.Struct("=I")


class HelperSpec:
    """Everything the helper needs to confine itself and exec the command."""

    def __init__(self, *, argv: list[str], cwd: str, env: dict[str, str], profile: str,
                 confined: bool, network: bool, writable_roots: list[str],
                 protected_subpaths: list[str], masked_paths: list[str],
                 private_tmp: str | None, allow_degraded: bool, parent_pid: int,
                 pids_cgroup: str | None = None, read_only_paths: list[str] | None = None,
                 denied_paths: list[str] | None = None, proxy_port: int | None = None,
                 proxy_fd: int | None = None, deferred: bool = False) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.profile = profile
        self.confined = confined
        self.network = network
        self.writable_roots = writable_roots
        self.protected_subpaths = protected_subpaths
        self.masked_paths = masked_paths
        self.private_tmp = private_tmp
        self.allow_degraded = allow_degraded
        self.parent_pid = parent_pid
        self.pids_cgroup = pids_cgroup
        self.read_only_paths = read_only_paths or []
        self.denied_paths = denied_paths or []
        # Domain allow-list: the helper listens on 127.0.0.1:proxy_port inside the command's
        # network namespace and hands the listener to the runner over proxy_fd.
        self.proxy_port = proxy_port
        self.proxy_fd = proxy_fd
        # A warm helper: confined ahead of a command not known yet; argv and cwd come in
        # the command frame that replaces GO (`wait_for_command`).
        self.deferred = deferred

    @property
    def read_only(self) -> bool:
        return not self.writable_roots

    def to_frame(self) -> bytes:
        """The spec as one frame for the spec pipe."""
        return encode_frame(dict(vars(self)))

    @classmethod
    def from_bytes(cls, data: bytes) -> HelperSpec:
        raw = marshal.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("helper spec must be a mapping")
        return cls(**raw)


GO = b"\x01"


def read_frame(fd: int) -> bytes:
    """One length-prefixed frame from a pipe (EOFError when it ends first)."""
    (length,) = _FRAME.unpack(_read_exactly(fd, _FRAME.size))
    return _read_exactly(fd, length)


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("the spec pipe ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def wait_for_go(fd: int) -> bool:
    """Block until the runner says GO (True) or calls the run off (False); closes `fd`."""
    try:
        return os.read(fd, 1) == GO
    except OSError:
        return False
    finally:
        os.close(fd)


def wait_for_command(fd: int) -> dict[str, object] | None:
    """A warm helper's GO: the command frame ({"argv", "cwd"}), or None when the run is
    called off (end of file); closes `fd`."""
    try:
        message = marshal.loads(read_frame(fd))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    finally:
        os.close(fd)
    return message if isinstance(message, dict) else None


def encode_frame(message: dict[str, object]) -> bytes:
    """One frame (a spec or a status message): a 4-byte length, then the marshalled message."""
    body = marshal.dumps(message)
    return _FRAME.pack(len(body)) + body


def decode_status(data: bytes) -> dict[str, object]:
    """Merge every complete frame in `data` (later keys win); ignore a truncated tail."""
    merged: dict[str, object] = {}
    offset = 0
    while offset + _FRAME.size <= len(data):
        (length,) = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        if offset + length > len(data):
            break
        try:
            message = marshal.loads(data[offset:offset + length])
        except (EOFError, ValueError, TypeError):
            break
        if isinstance(message, dict):
            merged.update(message)
        offset += length
    return merged
