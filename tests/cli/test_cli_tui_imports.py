"""The interactive UI's modules (and prompt_toolkit) load only when the UI starts:
`codex --version`, `codex sandbox` and `codex exec` import none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Runs main(ARGS) with stdin/stdout claiming to be terminals (so the UI would start), then
# reports which UI modules were imported, whatever way main ended.
PROBE = """
import json, os, sys
sys.stdin.isatty = lambda: True
sys.stdout.isatty = lambda: True
def report(*_):
    tui = sorted(m for m in sys.modules
                 if m.split(".")[0] == "prompt_toolkit" or m.startswith("codex.tui"))
    print("TUI=" + json.dumps(tui), file=sys.stderr)
real_exit = os._exit
os._exit = lambda code: (report(), real_exit(code))
from codex.__main__ import main
try:
    main({args!r})
finally:
    report()
"""


def tui_modules(args: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=120, check=False)
    line = [x for x in result.stderr.splitlines() if x.startswith("TUI=")][-1]
    return list(json.loads(line[4:]))


@pytest.mark.parametrize("args", [
    ["--version"],
    ["sandbox", "--profile", "offline", "--", "true"],
    ["exec", "--skip-git-repo-check", "hello"],  # fails for want of an API key: fine here
])
def test_other_commands_import_no_ui(args: list[str], codex_env: dict[str, str],
                                     tmp_path: Path) -> None:
    env = {k: v for k, v in codex_env.items() if k != "OPENAI_API_KEY"}
    assert tui_modules(args, env, tmp_path) == []


def test_control_starting_the_ui_imports_it(codex_env: dict[str, str], tmp_path: Path) -> None:
    """The probe sees UI imports when the UI starts (it stops at the missing API key)."""
    env = {k: v for k, v in codex_env.items() if k != "OPENAI_API_KEY"}
    loaded = tui_modules([], env, tmp_path)
    assert "codex.tui.launch" in loaded and "prompt_toolkit" in loaded
