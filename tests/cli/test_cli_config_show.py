"""`codex config show` and the config error contract, through the real CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

RunCodex = Callable[..., subprocess.CompletedProcess[str]]


def test_overrides_land_in_config_show_json(run_codex: RunCodex, codex_home: Path) -> None:
    result = run_codex("-c", "sandbox_workspace_write.network_access=true", "-c", 'model="o3"',
                       "config", "show", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["config"]["model"] == "o3"
    assert data["config"]["sandbox_workspace_write"]["network_access"] is True
    assert data["sources"]["model"] == "-c"
    assert data["sources"]["sandbox_workspace_write.network_access"] == "-c"
    assert data["config"]["security_profile"] == "offline"
    assert data["config_path"] == str(codex_home / "config.toml")
    assert data["config_loaded"] is False


def test_human_output_names_each_source(run_codex: RunCodex, codex_home: Path) -> None:
    (codex_home / "config.toml").write_text(
        'model = "file"\nprofile = "p"\n[profiles.p]\napproval_policy = "never"\n')
    result = run_codex("-c", "project_doc_max_bytes=9", "-s", "workspace-write",
                       "config", "show")
    assert result.returncode == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines()
             if " = " in line}
    assert lines["model"].rstrip().endswith("# config.toml:1")
    assert lines["approval_policy"].rstrip().endswith("# profile p")
    assert lines["project_doc_max_bytes"].rstrip().endswith("# -c")
    assert lines["security_profile"].rstrip().endswith("# flag -s")
    assert lines["history.persistence"].rstrip().endswith("# default")
    assert "# config profile: p" in result.stdout


def test_codex_cli_config_loads_without_warnings(run_codex: RunCodex, codex_home: Path) -> None:
    (codex_home / "config.toml").write_text(
        'model = "gpt-5-codex"\nmodel_reasoning_effort = "high"\n[tui]\nnotifications = true\n')
    result = run_codex("config", "show", "--json")
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == []  # both keys are codex's now
    shown = json.loads(result.stdout)
    assert shown["config"]["model_reasoning_effort"] == "high"  # the reasoning effort sent
    assert shown["config"]["tui"]["notifications"] is True  # `[tui]` is the interactive UI's


def _fails(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr == f"codex: error: {expected}\n"


def test_broken_configs_exit_2_with_file_line_key(run_codex: RunCodex, codex_home: Path) -> None:
    path = codex_home / "config.toml"
    path.write_text('model = "o3"\nmodel_provider = \n')
    result = run_codex("config", "show")
    assert result.returncode == 2
    assert result.stderr.startswith(f"codex: error: {path}:2: invalid TOML: ")

    path.write_text('[history]\nmax_bytes = "1MB"\n')
    _fails(run_codex("profiles"),
           f"{path}:2: history.max_bytes: Input should be a valid integer (got '1MB')")

    path.write_text('security_profile = "sandboxed"\n')
    result = run_codex("config", "show")
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"codex: error: {path}:1: security_profile: unknown security profile 'sandboxed': "
        "choose one of offline, net-read-only, workspace-write, workspace-net, trusted")

    path.write_text('profile = "missing"\n')
    _fails(run_codex("config", "show"),
           f"{path}:1: profile: unknown config profile 'missing' (defined: none); add "
           "[profiles.missing] or remove the key")


def test_bad_flags_exit_2(run_codex: RunCodex, codex_home: Path) -> None:
    _fails(run_codex("-c", "project_doc_max_bytes=x", "config", "show"),
           "-c project_doc_max_bytes: Input should be a valid integer (got 'x')")
    _fails(run_codex("-c", "model", "config", "show"),
           "-c: expected KEY=VALUE, got 'model' (for example: -c model=o3)")
    result = run_codex("--profile", "yolo", "profiles")
    assert result.returncode == 2
    assert result.stderr.startswith("codex: error: --profile yolo: unknown security profile")
    _fails(run_codex("--config-profile", "x", "config", "show"),
           f"--config-profile x: no [profiles.x] in {codex_home / 'config.toml'} "
           "(defined: none)")
    _fails(run_codex("-C", "nowhere", "config", "show"),
           "-C nowhere: not a directory; pass an existing directory")


def test_cd_flag_sets_cwd(run_codex: RunCodex, tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    data = json.loads(run_codex("-C", "proj", "config", "show", "--json").stdout)
    assert (data["config"]["cwd"], data["sources"]["cwd"]) == (str(tmp_path / "proj"),
                                                              "flag -C")
