"""Fixtures for the SDK conformance suite: the official TypeScript SDK (cached install), the
codex under test (the Python entry point and the native build), the loopback model server, and
a driver that runs one SDK scenario in Node and returns what the SDK returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.e2e_helpers import REPO, native_binary
from support.model_server import ModelServer, model_server
from support.workspaces import codex_home, workspace

__all__ = ["codex_home", "model_server", "native_binary", "workspace"]
DRIVER = Path(__file__).with_name("sdk_driver.mjs")
API_KEY = "sk-sdk-conformance"

SdkRun = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def sdk_dir() -> Path:
    """Where @openai/codex-sdk is installed (tests/sdk/tools/package.json, cached by hash)."""
    out = subprocess.run([str(REPO / "tests/e2e/tools/install.sh"), str(REPO / "tests/sdk/tools")],
                         check=True, capture_output=True, text=True, timeout=900)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["python", "native"])
def codex_path(request: pytest.FixtureRequest) -> Path:
    """The codex the SDK spawns: `.venv/bin/codex`, then the Nuitka build in vendor/."""
    if request.param == "python":
        return Path(sys.executable).with_name("codex")
    binary: Path = request.getfixturevalue("native_binary")
    return binary


@pytest.fixture
def sdk(sdk_dir: Path, codex_path: Path, model_server: ModelServer,
        workspace: Path, codex_home: Path) -> SdkRun:
    """`sdk(scenario, **settings)`: run tests/sdk/sdk_driver.mjs and return its JSON."""

    def run(scenario: str, **settings: Any) -> dict[str, Any]:
        config = {
            "codexPath": str(codex_path), "baseUrl": model_server.url, "apiKey": API_KEY,
            "workdir": str(workspace),
            # The SDK passes exactly this environment (it does not inherit ours then).
            "env": {"PATH": os.environ["PATH"], "HOME": str(codex_home.parent),
                    "CODEX_HOME": str(codex_home), "NO_COLOR": "1"},
            **settings,
        }
        proc = subprocess.run(["node", str(DRIVER), scenario, json.dumps(config)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "SDK_DIR": str(sdk_dir)})
        assert proc.returncode == 0, proc.stderr
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return result

    return run
