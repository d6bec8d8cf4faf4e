"""The helper's entry point: the reserved token, its refusal of direct use, its imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import codex.__main__ as entry
from codex.sandbox.linux import HELPER_TOKEN
from codex.sandbox.runner import helper_command


def test_entry_point_token_matches_the_sandbox_package() -> None:
    assert entry._SANDBOX_HELPER_TOKEN == HELPER_TOKEN
    assert helper_command()[-1] == HELPER_TOKEN


def test_direct_use_is_refused_with_a_pointer() -> None:
    proc = subprocess.run([*helper_command(), "not-a-fd"], capture_output=True, timeout=30,
                          check=False)
    assert proc.returncode == 2
    assert b"use `codex sandbox`" in proc.stderr


def test_helper_imports_stay_light() -> None:
    heavy = {"typer", "pydantic", "rich", "httpx", "click", "json", "dataclasses", "typing",
             "subprocess", "codex.config", "codex.protocol"}
    code = ("import sys, codex.sandbox.linux.helper; "
            "print(' '.join(sorted(m for m in sys.modules)))")
    package_parent = str(Path(entry.__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-I", "-S", "-c",
                           f"import sys; sys.path.append({package_parent!r}); " + code],
                          capture_output=True, text=True, timeout=30, check=True)
    loaded = set(proc.stdout.split())
    assert not loaded & heavy, sorted(loaded & heavy)
