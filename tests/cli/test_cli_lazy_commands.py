"""Commands load lazily: a run imports only the invoked command's module, and the static
COMMANDS table that `codex --help` and completion read matches what each module registers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer._click.utils import make_default_short_help

from codex.cli.app import COMMANDS, load_command

# What a probe prints: the codex.cli modules that are command modules, after running ARGS.
PROBE = """
import json, sys
from codex.__main__ import main
code = main({args!r})
loaded = sorted(m for m in sys.modules if m.startswith("codex.cli."))
print(json.dumps(loaded), file=sys.stderr)
"""

COMMAND_MODULES = {f"codex.cli.{module}" for module, _ in COMMANDS.values()}


def loaded_command_modules(args: list[str], env: dict[str, str], cwd: Path) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=120, check=False)
    loaded = json.loads(result.stderr.strip().splitlines()[-1])
    return set(loaded) & COMMAND_MODULES


@pytest.mark.parametrize("name", list(COMMANDS))
def test_table_matches_what_the_module_registers(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help is not None
    assert make_default_short_help(COMMANDS[name][1], 200) == command.get_short_help_str(200)


def test_a_command_imports_only_its_own_module(codex_env: dict[str, str],
                                               tmp_path: Path) -> None:
    assert loaded_command_modules(["profiles", "--json"], codex_env, tmp_path) == {
        "codex.cli.profiles_cmd", "codex.cli.completion"}
    assert "codex.cli.doctor" in loaded_command_modules(["doctor", "--json"], codex_env,
                                                        tmp_path)


def test_help_imports_no_command_module_and_lists_all(codex_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    # codex.cli.completion is both a command module and the home of the global options'
    # completers, which the root command needs.
    assert loaded_command_modules(["--help"], codex_env, tmp_path) == {"codex.cli.completion"}
    helped = subprocess.run([sys.executable, "-m", "codex", "--help"], env=codex_env,
                            capture_output=True, text=True, timeout=120, check=False)
    for name in COMMANDS:
        assert f"\n  {name} " in helped.stdout


def test_unknown_command_suggests_from_the_table(codex_env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "codex", "sandbx"], env=codex_env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "No such command 'sandbx'. Did you mean 'sandbox'?" in result.stderr


# `codex sandbox` ends with os._exit, so the probe reports the modules from there.
SANDBOX_PROBE = """
import json, os, sys
real_exit = os._exit
def report(code):
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
    real_exit(code)
os._exit = report
from codex.__main__ import main
main(["sandbox", "--profile", "offline", "--", "true"])
"""


def test_sandbox_run_skips_what_it_does_not_use(codex_env: dict[str, str],
                                                tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", SANDBOX_PROBE], env=codex_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    imported = set(json.loads(result.stderr.strip().splitlines()[-1]))
    # Control: the probe sees the command and the guard chain it ran through.
    assert {"codex.cli.sandbox_cmd", "codex.tools.guarded_exec"} <= imported, result.stderr
    other_commands = COMMAND_MODULES - {"codex.cli.sandbox_cmd", "codex.cli.completion",
                                        "codex.cli.audit_cmd"}  # audit_cmd opens the log
    assert not imported & other_commands
    assert not {"filelock", "rich", "httpx", "tree_sitter", "tree_sitter_bash",
                "nacl"} & imported
