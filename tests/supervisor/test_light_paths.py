"""Orchestration stays off the light paths: `codex --version` and a plain `codex exec` (no
[agents] enabled) never import the supervisor; the package face imports no module until a
name is used."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
{body}
print("LOADED=" + ",".join(sorted(m for m in sys.modules if m.startswith("codex.supervisor"))))
"""


def _loaded(body: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_version_and_exec_without_agents_do_not_load_the_supervisor() -> None:
    assert _loaded("from codex.__main__ import main\nmain(['--version'])") == "LOADED="
    exec_module = "import codex.cli.exec_cmd, codex.agent, codex.agent.items"
    assert _loaded(exec_module) == "LOADED="


def test_the_package_face_is_lazy() -> None:
    assert _loaded("import codex.supervisor") == "LOADED=codex.supervisor"
    assert "codex.supervisor.engine" in _loaded(
        "import codex.supervisor\ncodex.supervisor.Supervisor")
