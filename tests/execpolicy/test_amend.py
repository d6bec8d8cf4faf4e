"""`approved_always` persistence: append an allow rule to CODEX_HOME/rules/default.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codex.execpolicy import (
    AmendError,
    Decision,
    append_allow_rule,
    default_rules_path,
    evaluate,
    load_rules,
)

WORKSPACE = Path("/work/proj")


def test_appended_rule_allows_the_prefix(tmp_path: Path) -> None:
    assert evaluate(["cargo", "test"], workspace=WORKSPACE,
                    rules=load_rules(tmp_path)).decision is Decision.PROMPT
    assert append_allow_rule(tmp_path, ["cargo", "test"]) is True
    rules = load_rules(tmp_path)
    assert evaluate(["cargo", "test", "--release"], workspace=WORKSPACE,
                    rules=rules).decision is Decision.ALLOW
    assert evaluate(["cargo", "build"], workspace=WORKSPACE,
                    rules=rules).decision is Decision.PROMPT
    path = default_rules_path(tmp_path)
    assert path == tmp_path / "rules" / "default.toml"
    assert path.stat().st_mode & 0o777 == 0o600


def test_same_rule_twice_is_one_rule(tmp_path: Path) -> None:
    assert append_allow_rule(tmp_path, ["make", "test"]) is True
    assert append_allow_rule(tmp_path, ["make", "test"]) is False
    assert append_allow_rule(tmp_path, ["make"]) is True
    data = tomllib.loads(default_rules_path(tmp_path).read_text())
    assert [r["pattern"] for r in data["rule"]] == [["make", "test"], ["make"]]


def test_existing_text_is_kept_byte_for_byte(tmp_path: Path) -> None:
    path = default_rules_path(tmp_path)
    path.parent.mkdir(parents=True)
    original = ('# my rules, keep this comment\n[[rule]]\npattern = ["ls"]\n'
                'decision = "allow"  # trailing comment')
    path.write_text(original)
    append_allow_rule(tmp_path, ["pytest"])
    text = path.read_text()
    assert text.startswith(original + "\n")
    assert len(load_rules(tmp_path).rules) == 2


@pytest.mark.parametrize("word", ['say "hi"', "back\\slash", "new\nline", "tab\there",
                                  "del\x7f", "unicode ✓ 🎉", "$(rm -rf /)", "'single'"])
def test_any_word_round_trips(tmp_path: Path, word: str) -> None:
    append_allow_rule(tmp_path, ["echo2", word])
    rules = load_rules(tmp_path)
    assert rules.rules[0].pattern == ("echo2", word)
    assert append_allow_rule(tmp_path, ["echo2", word]) is False


def test_unrepresentable_and_empty_commands_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AmendError):
        append_allow_rule(tmp_path, [])
    with pytest.raises(AmendError):
        append_allow_rule(tmp_path, ["ls", ""])
    with pytest.raises(AmendError):
        append_allow_rule(tmp_path, ["cat", "bad\udcff"])


def test_invalid_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    path = default_rules_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("[[rule]\nbroken")
    with pytest.raises(AmendError, match="invalid TOML"):
        append_allow_rule(tmp_path, ["ls"])
    assert path.read_text() == "[[rule]\nbroken"


_WORKER = """
import sys
import time
from pathlib import Path
from codex.execpolicy import append_allow_rule
home, start, words = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
while not start.exists():
    time.sleep(0.005)
added = [append_allow_rule(home, [w, "run"]) for w in words]
print(sum(added))
"""


@pytest.mark.timeout(120)
def test_concurrent_processes_write_each_rule_once(tmp_path: Path) -> None:
    start = tmp_path / "go"
    words = ["same"] + [f"tool{i}" for i in range(6)]
    processes = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path), str(start), *words,
                          f"own{n}"], stdout=subprocess.PIPE, text=True)
        for n in range(6)
    ]
    start.touch()
    added = [int(p.communicate(timeout=100)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    data = tomllib.loads(default_rules_path(tmp_path).read_text())
    patterns = [tuple(r["pattern"]) for r in data["rule"]]
    expected = {(w, "run") for w in words} | {(f"own{n}", "run") for n in range(6)}
    assert sorted(patterns) == sorted(expected), "each rule exactly once"
    assert sum(added) == len(expected), "each rule reported as added by exactly one process"
    leftovers = [p.name for p in default_rules_path(tmp_path).parent.iterdir()
                 if p.name.startswith(".default.toml.")]
    assert leftovers == []
    assert os.access(default_rules_path(tmp_path), os.R_OK)
