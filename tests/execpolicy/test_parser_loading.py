"""The bash grammar (a native module) loads on the first script to parse, never for a plain argv.

Each case runs in a fresh interpreter, so what `sys.modules` holds afterwards is exactly what
that evaluation imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from pathlib import Path
from codex.execpolicy import evaluate
decision = evaluate(json.loads(sys.argv[1]), workspace=Path("/work/proj")).decision.value
print(json.dumps([decision, sorted(m for m in sys.modules if m.startswith("tree_sitter"))]))
"""


def probe(argv: list[str]) -> tuple[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True,
                          text=True, timeout=60, check=True)
    decision, modules = json.loads(done.stdout)
    return decision, modules


@pytest.mark.parametrize("argv", [["ls", "-la"], ["rm", "-rf", "/"], ["sh", "script.sh"]])
def test_plain_argv_does_not_load_the_grammar(argv: list[str]) -> None:
    _, modules = probe(argv)
    assert modules == []


def test_a_shell_script_loads_it_and_is_judged() -> None:
    decision, modules = probe(["bash", "-lc", "ls 2>/dev/null | wc -l"])
    assert decision == "allow"
    assert {"tree_sitter", "tree_sitter_bash"} <= set(modules)
    forbidden, _ = probe(["bash", "-lc", "ls && rm 2>/dev/null -rf /"])
    assert forbidden == "forbidden"
