"""Startup discipline for the permission-profile and proxy code: the sandbox fast lane and
the helper load them without typer, pydantic, httpx, rich or click (and the helper without
`typing` or the proxy)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = {"typer", "pydantic", "httpx", "rich", "click", "prompt_toolkit", "opentelemetry",
         "wasmtime"}


def _loaded(statement: str) -> set[str]:
    probe = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return set(out.split())


def test_permissions_and_proxy_import_no_heavy_module() -> None:
    loaded = _loaded("import codex.security.permissions, codex.sandbox.proxy, "
                     "codex.cli.sandbox_run")
    assert not {m.split(".")[0] for m in loaded} & HEAVY


def test_helper_does_not_load_the_proxy_or_typing() -> None:
    loaded = _loaded("import codex.sandbox.linux.helper")
    assert "codex.sandbox.proxy" not in loaded
    assert "codex.security.permissions" not in loaded
    assert "typing" not in loaded
