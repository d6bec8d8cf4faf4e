"""Exec policy: decide whether a command may run (allow), needs approval (prompt) or never runs
(forbidden).

Public API (what the guard chain and the CLI call):

    load_rules(codex_home: Path | None, extra_files: Sequence[Path] = ()) -> RuleSet
        Loads CODEX_HOME/rules/*.toml and *.rules (Codex `prefix_rule`), then extra_files.
        Raises RuleLoadError; str(err) == "<file>:<line>: <problem>".
    evaluate(argv: Sequence[str], *, workspace: Path, rules: RuleSet | None = None,
             home: Path | None = None) -> PolicyDecision
        argv is literal; a script is checked as ["bash", "-lc", SCRIPT]. Never raises.
    PolicyDecision: decision (Decision), justification (str), commands
        (tuple[CommandEvaluation]), matched (tuple[RuleMatch]), problems (tuple[str]),
        by_rule (bool: an explicit rule, not the unknown-command default, set the decision),
        to_json().
    Decision: ALLOW | PROMPT | FORBIDDEN (StrEnum "allow" | "prompt" | "forbidden").
    RuleMatch: source ("builtin" or a file path), rule (name), line, decision, justification,
        command (the simple command it matched).
    append_allow_rule(codex_home, prefix) -> bool
        The `approved_always` persistence: appends an allow rule to CODEX_HOME/rules/default.toml
        under a file lock, atomically and idempotently (False when already present).

Decision procedure: each simple command collects the matches of the built-in dangerous rules,
the user rules and the known-safe list; the strictest wins, and a command nothing matches is
`prompt`. The strictest command wins overall; shell constructs that cannot be proven simple add a
`prompt`. User rules can therefore tighten the built-ins but never loosen a built-in
`prompt`/`forbidden`.
"""

from codex.execpolicy.amend import AmendError, append_allow_rule, default_rules_path
from codex.execpolicy.evaluate import evaluate
from codex.execpolicy.loading import load_rule_file, load_rules, rules_dir
from codex.execpolicy.rules import Rule, RuleLoadError, RuleSet
from codex.execpolicy.types import CommandEvaluation, Decision, PolicyDecision, RuleMatch

__all__ = [
    "AmendError",
    "CommandEvaluation",
    "Decision",
    "PolicyDecision",
    "Rule",
    "RuleLoadError",
    "RuleMatch",
    "RuleSet",
    "append_allow_rule",
    "default_rules_path",
    "evaluate",
    "load_rule_file",
    "load_rules",
    "rules_dir",
]
