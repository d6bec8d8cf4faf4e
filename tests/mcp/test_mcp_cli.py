"""`codex mcp add/list/get/remove/login` on a real config.toml, and MCP staying off light
paths (`codex --version` with ten servers configured imports nothing of it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ORIGINAL = """\
# my settings, with comments that must survive
model = "o3"   # trailing comment

[mcp_servers.keep]
command = "keep-server"  # stays exactly like this
args = ["--x"]

[profiles.fast]
model = "o4-mini"
"""


def codex(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEX_")}
    env["CODEX_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "codex", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(ORIGINAL)
    return tmp_path


def test_add_list_get_remove_round_trip_is_byte_identical(home: Path) -> None:
    config = home / "config.toml"
    added = codex(home, "mcp", "add", "time", "--env", "TZ=UTC", "--env", "API_KEY=s3cr3t-v4lue",
                  "--", "mcp-server-time", "--local-timezone", "UTC")
    assert added.returncode == 0, added.stderr
    web = codex(home, "mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp",
                "--bearer-token-env-var", "WEB_TOKEN")
    assert web.returncode == 0, web.stderr
    text = config.read_text()
    # everything the user wrote is still there, in order, byte for byte
    assert text.startswith(ORIGINAL.split("[profiles.fast]")[0])
    assert text.endswith("[profiles.fast]\nmodel = \"o4-mini\"\n")
    listed = codex(home, "mcp", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    servers = {s["name"]: s for s in json.loads(listed.stdout)}
    assert servers["time"]["transport"] == {
        "type": "stdio", "command": "mcp-server-time", "args": ["--local-timezone", "UTC"],
        "env": {"TZ": "*****", "API_KEY": "*****"}, "env_vars": [], "cwd": None,
        "sandbox": "inherit"}
    assert servers["web"]["transport"]["bearer_token_env_var"] == "WEB_TOKEN"
    human = codex(home, "mcp", "list")
    assert "s3cr3t" not in human.stdout + listed.stdout and "time" in human.stdout
    got = codex(home, "mcp", "get", "time", "--json")
    assert json.loads(got.stdout)["transport"]["command"] == "mcp-server-time"
    assert "s3cr3t" not in got.stdout
    for name in ("time", "web"):
        removed = codex(home, "mcp", "remove", name)
        assert removed.returncode == 0, removed.stderr
    assert config.read_text() == ORIGINAL


def test_add_refuses_to_overwrite_without_force(home: Path) -> None:
    refused = codex(home, "mcp", "add", "keep", "--", "other")
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert (home / "config.toml").read_text() == ORIGINAL
    forced = codex(home, "mcp", "add", "keep", "--force", "--", "other", "--flag")
    assert forced.returncode == 0, forced.stderr
    got = json.loads(codex(home, "mcp", "get", "keep", "--json").stdout)
    assert got["transport"]["command"] == "other" and got["transport"]["args"] == ["--flag"]


def test_bad_input_is_one_line_with_the_fix(home: Path) -> None:
    cases = [
        (("mcp", "add", "bad name", "--", "x"), 2, "invalid server name"),
        (("mcp", "add", "x"), 2, "either a command"),
        (("mcp", "add", "x", "--url", "http://h", "--", "cmd"), 2, "either a command"),
        (("mcp", "add", "x", "--env", "NOEQUALS", "--", "cmd"), 2, "KEY=VALUE"),
        (("mcp", "get", "nope"), 1, "no MCP server named 'nope'"),
        (("mcp", "remove", "nope"), 1, "no MCP server named 'nope'"),
        (("mcp", "login", "keep"), 1, "OAuth login is not supported yet"),
    ]
    for args, code, message in cases:
        result = codex(home, *args)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (home / "config.toml").read_text() == ORIGINAL


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[mcp_servers.web]\nurl = "http://h"\n\n[mcp_servers.web.tools.search]\n'
        'approval_mode = "sometimes"\n')
    result = codex(tmp_path, "mcp", "list")
    assert result.returncode == 2
    assert "config.toml:5: mcp_servers.web.tools.search.approval_mode" in result.stderr
    (tmp_path / "config.toml").write_text('[mcp_servers.web]\nurl = "http://h"\n'
                                          'bearer_token = "inline"\n')
    result = codex(tmp_path, "mcp", "list")
    assert result.returncode == 2 and "bearer_token_env_var" in result.stderr


PROBE = """
import sys
from codex.__main__ import main
code = main(["--version"])
print("LOADED=" + ",".join(sorted(m for m in sys.modules
                                  if m.startswith("codex.mcp") or m in ("httpx", "tomlkit"))))
sys.exit(code)
"""


def test_version_loads_no_mcp_with_ten_servers_configured(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("".join(
        f'[mcp_servers.s{i}]\ncommand = "server-{i}"\n' for i in range(10)))
    env = {**os.environ, "CODEX_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "LOADED="
    # control: the probe does see what a command loads (editing the config needs tomlkit)
    control = PROBE.replace('["--version"]', '["mcp", "remove", "s0"]')
    result = subprocess.run([sys.executable, "-c", control], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "tomlkit" in result.stdout.splitlines()[-1]
