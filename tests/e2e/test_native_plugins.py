"""The fixture plugin suite (tests/plugins/test_fixture_plugins.py) against the Nuitka binary.

The binary does not bundle wasmtime's native library (it would take the platform package past
its 40 MB budget, see codex/plugins/wasmtime_lib.py): it comes from the plugin runtime package,
whose layout the build writes to vendor/<triple>/plugin-runtime and whose library file the npm
launcher passes in CODEX_PLUGIN_RUNTIME. The suite runs with it set that way; without it, a
plugin call and `codex doctor` say what is missing and how to install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from e2e_helpers import REPO, host_triple
from plugin_kit import codex, home, wat_plugin, workspace
from test_fixture_plugins import *  # noqa: F403  (the same tests, collected here)
from test_plugin_grant_prompt import *  # noqa: F403

__all__ = ["codex", "home", "workspace"]
RUNTIME = REPO / "vendor" / host_triple() / "plugin-runtime"


def runtime_library() -> Path:
    (library,) = [p for p in RUNTIME.glob("wasmtime/*/*") if "wasmtime" in p.name]
    return library


@pytest.fixture
def codex_argv(native_binary: Path) -> list[str]:
    return [str(native_binary)]


@pytest.fixture(autouse=True)
def plugin_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_PLUGIN_RUNTIME", str(runtime_library()))


def test_the_binary_bundles_no_wasmtime_library(native_binary: Path) -> None:
    bundled = [p for p in native_binary.parent.rglob("*") if "libwasmtime" in p.name
               or p.name == "_wasmtime.dll"]
    assert bundled == []
    assert runtime_library().stat().st_size > 1_000_000  # the real library, in its package


def test_without_the_runtime_plugins_and_doctor_say_how_to_get_it(
        native_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_PLUGIN_RUNTIME")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    env["CODEX_HOME"] = str(tmp_path / "home")
    fix = "npm install -g @openai/codex --include=optional"
    doctor = subprocess.run([str(native_binary), "doctor", "--json"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    runtime = json.loads(doctor.stdout)["plugin_runtime"]
    assert runtime["ok"] is False and fix in runtime["detail"], runtime
    source = wat_plugin(tmp_path / "echo", "echo", "echo.wat", tools=("echo",))
    for args in (("plugin", "install", str(source), "--yes"),):
        assert subprocess.run([str(native_binary), *args], env=env, capture_output=True,
                              timeout=120, check=False).returncode == 0
    run = subprocess.run([str(native_binary), "plugin", "run", "echo", "echo", "--json", "{}"],
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode != 0
    assert "the plugin runtime (wasmtime) is missing" in run.stderr and fix in run.stderr
    # Control: the same call with the runtime's library named works.
    env["CODEX_PLUGIN_RUNTIME"] = str(runtime_library())
    ok = subprocess.run([str(native_binary), "plugin", "run", "echo", "echo", "--json", "{}"],
                        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (ok.returncode, json.loads(ok.stdout)) == (0, {}), ok.stderr
