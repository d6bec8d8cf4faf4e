"""Importing the Codex CLI's Starlark `prefix_rule(...)` files (parsed with `ast`, never run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.execpolicy import Decision, RuleLoadError, evaluate, load_rule_file, load_rules

WORKSPACE = Path("/work/proj")

# The shape of the Codex CLI documentation's example policy (our own wording of it).
CODEX_POLICY = '''
# Comments are fine.
prefix_rule(
    pattern = ["git", "reset", "--hard"],
    decision = "forbidden",
    justification = "destructive; use `git stash` instead",
    match = [
        ["git", "reset", "--hard"],
    ],
    not_match = [
        ["git", "reset", "--keep"],
        "git reset --merge",
    ],
)

prefix_rule(
    pattern = ["npm", ["run", "test"]],
    match = ["npm run build", ["npm", "test"]],
)

prefix_rule(pattern=["cp"], decision="prompt", match=[["cp", "a", "b"], "cp -r src dst"])
'''


def test_prefix_rules_are_imported(tmp_path: Path) -> None:
    path = tmp_path / "rules" / "default.rules"
    path.parent.mkdir()
    path.write_text(CODEX_POLICY, encoding="utf-8")
    rules = load_rules(tmp_path)
    assert [(r.pattern, r.decision, r.line) for r in rules.rules] == [
        (("git", "reset", "--hard"), Decision.FORBIDDEN, 3),
        (("npm", ("run", "test")), Decision.ALLOW, 16),  # decision defaults to allow
        (("cp",), Decision.PROMPT, 21),
    ]
    reset = evaluate(["git", "reset", "--hard", "HEAD"], workspace=WORKSPACE, rules=rules)
    assert reset.decision is Decision.FORBIDDEN
    assert "use `git stash` instead" in reset.justification
    assert f"{path}:3 rule[1]" in [m.describe() for m in reset.matched]
    assert evaluate(["npm", "test"], workspace=WORKSPACE, rules=rules).decision \
        is Decision.ALLOW


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ('host_executable(name="git", paths=["/usr/bin/git"])\n', 1,
     "unsupported call `host_executable(...)`"),
    ('\n\nprefix_rule(pattern=["a"], colour="red")\n', 3, "unknown prefix_rule field `colour`"),
    ('prefix_rule(["a"])\n', 1, "keyword arguments only"),
    ('prefix_rule(pattern=["a"], decision="deny")\n', 1, "`decision` must be allow"),
    ('prefix_rule(pattern=["a"], match=["b"])\n', 1, "does not match pattern a"),
    ('prefix_rule(pattern=["a"], not_match=[["a", "x"]])\n', 1, "matches pattern a"),
    ('prefix_rule(\n    pattern=X,\n)\n', 2, "only string literals"),
    ('prefix_rule(pattern=["a"] + ["b"])\n', 1, "only string literals"),
    ('prefix_rule(pattern=[f"{x}"])\n', 1, "only string literals"),
    ('x = 1\n', 1, "only prefix_rule(...) calls"),
    ('prefix_rule(pattern=["a"]\n', 1, "syntax error"),
    ('prefix_rule(pattern=["a"], pattern=["b"])\n', 1, "`pattern` given twice"),
    ('prefix_rule(**{"pattern": ["a"]})\n', 1, "`**` is not supported"),
    ('load("//x.star", "y")\n', 1, "unsupported call `load(...)`"),
])
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int,
                                   fragment: str) -> None:
    path = tmp_path / "bad.rules"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_rule_file(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert fragment in str(caught.value)


def test_nothing_is_ever_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.rules"
    path.write_text(f'prefix_rule(pattern=__import__("os").system("touch {marker}"))\n'
                    f'__import__("os").system("touch {marker}")\n', encoding="utf-8")
    with pytest.raises(RuleLoadError, match="only string literals"):
        load_rule_file(path)
    assert not marker.exists()
