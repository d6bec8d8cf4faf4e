"""User rule files: the TOML schema, example checking at load time and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex.execpolicy import Decision, RuleLoadError, evaluate, load_rule_file, load_rules

WORKSPACE = Path("/work/proj")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_in_codex_home_are_loaded_and_matched(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "team.toml", '''
[[rule]]
id = "remote"
pattern = ["git", ["push", "fetch"]]
decision = "prompt"
justification = "talks to the remote"
match = ["git push origin", ["git", "fetch"]]
not_match = ["git pull", "git"]

[[rule]]
pattern = ["cargo", "build"]
decision = "allow"
match = ["cargo build --release"]
''')
    rules = load_rules(tmp_path)
    assert len(rules.rules) == 2
    assert rules.rules[0].name == "remote" and rules.rules[0].line == 2
    assert rules.rules[1].name == "rule[2]" and rules.rules[1].line == 10

    fetch = evaluate(["git", "fetch", "origin"], workspace=WORKSPACE, rules=rules)
    assert fetch.decision is Decision.PROMPT and fetch.by_rule
    assert fetch.justification == "talks to the remote"
    match = fetch.matched[0]
    assert (match.source, match.rule, match.line) == (str(tmp_path / "rules" / "team.toml"),
                                                      "remote", 2)

    build = evaluate(["cargo", "build", "--release"], workspace=WORKSPACE, rules=rules)
    assert build.decision is Decision.ALLOW
    without_rules = evaluate(["cargo", "build", "--release"], workspace=WORKSPACE)
    assert without_rules.decision is Decision.PROMPT


def test_missing_rules_dir_means_no_rules(tmp_path: Path) -> None:
    assert load_rules(tmp_path).rules == ()


def test_user_rules_tighten_but_never_loosen_builtins(tmp_path: Path) -> None:
    path = write(tmp_path / "r.toml", '''
[[rule]]
pattern = ["git", "status"]
decision = "forbidden"
justification = "use jj status"

[[rule]]
pattern = ["sudo"]
decision = "allow"

[[rule]]
pattern = ["git", "push"]
decision = "allow"
''')
    rules = load_rules(None, [path])
    status = evaluate(["git", "status"], workspace=WORKSPACE, rules=rules)
    assert status.decision is Decision.FORBIDDEN and status.justification == "use jj status"
    assert evaluate(["sudo", "ls"], workspace=WORKSPACE, rules=rules).decision \
        is Decision.FORBIDDEN
    push = evaluate(["git", "push", "--force"], workspace=WORKSPACE, rules=rules)
    assert push.decision is Decision.PROMPT
    assert evaluate(["git", "push"], workspace=WORKSPACE, rules=rules).decision is Decision.ALLOW


def test_strictest_of_several_user_rules_wins(tmp_path: Path) -> None:
    path = write(tmp_path / "r.toml", '''
[[rule]]
pattern = ["npm"]
decision = "allow"

[[rule]]
pattern = ["npm", "publish"]
decision = "forbidden"
justification = "publish from CI"
''')
    rules = load_rules(None, [path])
    assert evaluate(["npm", "test"], workspace=WORKSPACE, rules=rules).decision is Decision.ALLOW
    publish = evaluate(["npm", "publish"], workspace=WORKSPACE, rules=rules)
    assert publish.decision is Decision.FORBIDDEN
    assert [m.decision for m in publish.matched] == [Decision.ALLOW, Decision.FORBIDDEN]


def test_rules_apply_inside_scripts_and_through_wrappers(tmp_path: Path) -> None:
    path = write(tmp_path / "r.toml", '''
[[rule]]
pattern = ["make"]
decision = "allow"

[[rule]]
pattern = ["terraform", "apply"]
decision = "forbidden"
''')
    rules = load_rules(None, [path])
    assert evaluate(["bash", "-lc", "make && make test"], workspace=WORKSPACE,
                    rules=rules).decision is Decision.ALLOW
    assert evaluate(["env", "terraform", "apply"], workspace=WORKSPACE,
                    rules=rules).decision is Decision.FORBIDDEN
    assert evaluate(["bash", "-lc", "ls; timeout 60 terraform apply -auto-approve"],
                    workspace=WORKSPACE, rules=rules).decision is Decision.FORBIDDEN


@pytest.mark.parametrize(("text", "where", "fragment"), [
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\nmatch = ["ls -la"]\n', 1,
     "rule[1]: example 'ls -la' in `match` does not match pattern git"),
    ('[[rule]]\nid = "no-push"\npattern = ["git", "push"]\ndecision = "forbidden"\n'
     'not_match = ["git push origin"]\n', 1,
     "no-push: example 'git push origin' in `not_match` matches pattern git push"),
    ('[[rule]]\npattern = ["a"]\ndecision = "allow"\n\n[[rule]]\npattern = ["b"]\n'
     'decision = "allow"\nmatch = [["c"]]\n', 5, "rule[2]: example 'c'"),
])
def test_failing_examples_are_load_errors(tmp_path: Path, text: str, where: int,
                                          fragment: str) -> None:
    path = write(tmp_path / "rules" / "bad.toml", text)
    with pytest.raises(RuleLoadError) as caught:
        load_rules(tmp_path)
    assert str(caught.value).startswith(f"{path}:{where}: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ('[[rule]]\npattern = ["git"\ndecision = "allow"\n', 3, "invalid TOML"),
    ('[[rule]]\npattern = ["git"]\ndecision = "maybe"\n', 3,
     "`decision` must be allow, prompt or forbidden, not 'maybe'"),
    ('[[rule]]\npattern = ["git"]\n', 1, "missing `decision`"),
    ('[[rule]]\ndecision = "allow"\n', 1, "missing `pattern`"),
    ('[[rule]]\npattern = []\ndecision = "allow"\n', 2, "non-empty list"),
    ('[[rule]]\npattern = ["git", 3]\ndecision = "allow"\n', 2, "element 2"),
    ('[[rule]]\npattern = ["git", []]\ndecision = "allow"\n', 2, "element 2"),
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\ncolour = "red"\n', 4,
     "unknown field `colour`"),
    ('version = 2\n[[rule]]\npattern = ["git"]\ndecision = "allow"\n', 1,
     "unknown key `version`"),
    ('[rule]\npattern = ["git"]\ndecision = "allow"\n', 1, "array of tables"),
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\njustification = 5\n', 4,
     "`justification` must be a string"),
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\nmatch = "git"\n', 4,
     "`match` must be a list"),
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\nmatch = ["git \'unclosed"]\n', 4,
     "No closing quotation"),
    ('[[rule]]\npattern = ["git"]\ndecision = "allow"\nmatch = [""]\n', 4, "empty `match`"),
])
def test_bad_fields_name_file_and_line(tmp_path: Path, text: str, line: int,
                                       fragment: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(RuleLoadError) as caught:
        load_rule_file(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert fragment in str(caught.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError, match="no such rule file"):
        load_rules(None, [tmp_path / "missing.toml"])
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[[rule]]")
    with pytest.raises(RuleLoadError, match="not UTF-8"):
        load_rule_file(binary)


def test_files_load_in_name_order_and_other_suffixes_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "b.toml", '[[rule]]\npattern = ["b"]\ndecision = "allow"\n')
    write(tmp_path / "rules" / "a.rules", 'prefix_rule(pattern = ["a"])\n')
    write(tmp_path / "rules" / "notes.md", "not a rule file")
    rules = load_rules(tmp_path)
    assert [r.pattern for r in rules.rules] == [("a",), ("b",)]
    assert [p.name for p in rules.files] == ["a.rules", "b.toml"]
