"""Fixtures and helpers for the plugin suites (tests/plugins and, against the native binary,
tests/e2e/test_native_plugins.py): build fixture plugins, run `codex plugin ...` for real.

`codex_argv` is the command that runs codex: the Python package here, the Nuitka binary in the
e2e suite (which overrides the fixture), so the same tests cover both.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> object:
        return json.loads(self.stdout)


RunCodex = Callable[..., Result]


@pytest.fixture
def codex_argv() -> list[str]:
    return [sys.executable, "-m", "codex"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with a read-only data dir (one file) and an output dir."""
    path = tmp_path / "ws"
    (path / "data").mkdir(parents=True)
    (path / "out").mkdir()
    (path / "data" / "notes.txt").write_text("granted text\n")
    return path


def plugin_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without codex settings, except where the plugin runtime's
    library is (set by the native suite, as the npm launcher sets it)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CODEX_", "OPENAI_")) or k == "CODEX_PLUGIN_RUNTIME"}
    env.update({"CODEX_HOME": str(home), "NO_COLOR": "1", **(extra or {})})
    return env


@pytest.fixture
def codex(codex_argv: list[str], home: Path, workspace: Path) -> RunCodex:
    """Run `codex ARGS` in the workspace with the private CODEX_HOME; returns a Result."""

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            timeout: float = 120) -> Result:
        proc = subprocess.run([*codex_argv, *args], input=stdin, capture_output=True,
                              text=True, cwd=workspace, env=plugin_env(home, env),
                              timeout=timeout, check=False)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def wat_plugin(directory: Path, plugin_id: str, wat_file: str, *, tools: Sequence[str] = ("run",),
               extra: str = "", limits: str = "") -> Path:
    """A plugin directory built from fixtures/<wat_file> (compiled now, with wasmtime)."""
    import wasmtime

    directory.mkdir(parents=True)
    wasm = bytes(wasmtime.wat2wasm((FIXTURES / wat_file).read_text()))
    (directory / f"{plugin_id}.wasm").write_bytes(wasm)
    tool_tables = "".join(
        f'[[tools]]\nname = "{name}"\ndescription = "fixture tool {name}"\n'
        'annotations = { read_only = true }\n\n' for name in tools)
    (directory / "plugin.toml").write_text(
        f'[plugin]\nid = "{plugin_id}"\nversion = "0.1.0"\nwasm = "{plugin_id}.wasm"\n'
        f'sha256 = "{hashlib.sha256(wasm).hexdigest()}"\nabi = "wasi-command-json"\n\n'
        f"{tool_tables}{extra}\n[limits]\n{limits}\n")
    return directory


def audit_lines(home: Path) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = []
    for path in sorted((home / "audit").glob("*.jsonl")):
        lines.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return lines
