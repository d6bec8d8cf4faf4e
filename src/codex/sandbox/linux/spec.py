"""The contract between the runner and the helper: a JSON document on an inherited pipe.

Plain dataclasses and JSON (not pydantic) because the helper must start fast; the runner
builds it from a `SandboxPolicy`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class HelperSpec:
    """Everything the helper needs to confine itself and exec the command."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    profile: str
    network: bool
    writable_roots: list[str] = field(default_factory=list)
    protected_subpaths: list[str] = field(default_factory=list)
    masked_paths: list[str] = field(default_factory=list)
    private_tmp: str | None = None
    allow_degraded: bool = False
    parent_pid: int = 0

    @property
    def read_only(self) -> bool:
        return not self.writable_roots

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> HelperSpec:
        raw = json.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("helper spec must be a JSON object")
        return cls(**raw)


def read_all(fd: int) -> bytes:
    """Read a pipe to EOF and close it."""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)
