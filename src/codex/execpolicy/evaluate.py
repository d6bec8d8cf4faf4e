"""`evaluate`: the decision for an argv, combining parsing, built-in rules and user rules.

For every simple command (an argv alone, or each command of a `bash -lc` script) the matches of
the built-in dangerous rules, the user rules and the known-safe list are collected and the
strictest wins; a command nothing matches needs approval (`prompt`). Over the whole input the
strictest command wins, and any construct the parser cannot prove simple adds a `prompt`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from codex.execpolicy.builtin import (
    Context,
    builtin_match,
    dangerous,
    downloader,
    is_interpreter,
    known_safe,
    resolve_path,
    write_target_danger,
)
from codex.execpolicy.parse import ParsedScript, SimpleCommand, parse_script
from codex.execpolicy.rules import RuleSet
from codex.execpolicy.types import CommandEvaluation, Decision, PolicyDecision, RuleMatch
from codex.execpolicy.wrappers import peel, program_name, shell_script

MAX_SHELL_DEPTH = 4
"""`bash -c "bash -c '…'"` is followed this many levels deep, then treated as unknown."""

_RUNS_DYNAMIC_CODE = frozenset({"eval", "source", ".", "trap"})


def evaluate(argv: Sequence[str], *, workspace: Path, rules: RuleSet | None = None,
             home: Path | None = None) -> PolicyDecision:
    """Decide allow / prompt / forbidden for `argv` run in `workspace`.

    `argv` is taken literally (no shell): to check a shell script pass
    `["bash", "-lc", SCRIPT]` (or sh/zsh/dash `-c`). `rules` are the user rules (see
    `load_rules`); `home` defaults to the current user's home and is used to expand `~` and to
    recognise shell start-up files. Never raises on any argv.
    """
    home_dir = os.path.normpath(os.path.abspath(str(home if home is not None
                                                    else _current_home())))
    root = os.path.normpath(os.path.abspath(str(workspace)))
    evaluator = _Evaluator(rules or RuleSet(), Context(root, home_dir, root))
    words = tuple(str(w) for w in argv)
    if not words or not words[0]:
        evaluator.problems.append("empty command")
    else:
        evaluator.simple(SimpleCommand(words), evaluator.base, depth=0, extra=[])
    return evaluator.result()


def _current_home() -> Path:
    """The user's home; `/` when it cannot be determined, so `~` paths count as critical."""
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return Path("/")


class _Evaluator:
    def __init__(self, rules: RuleSet, base: Context) -> None:
        self.rules = rules
        self.base = base
        self.evaluations: list[CommandEvaluation] = []
        self.problems: list[str] = []

    # --- scripts ----------------------------------------------------------------------------

    def script(self, parsed: ParsedScript, ctx: Context, depth: int) -> None:
        self.problems.extend(parsed.problems)
        for name in parsed.recursive_functions:
            self.attach((name,), builtin_match(
                "fork-bomb", Decision.FORBIDDEN,
                f"the function `{name}` calls itself (fork bomb)", (name,)))
        peeled = [peel(cmd.argv).argv for cmd in parsed.commands]
        for cmd, inner in zip(parsed.commands, peeled, strict=True):
            extra = [m for r in cmd.redirects if r.writes_file and isinstance(r.target, str)
                     and (m := write_target_danger(r.target, ctx, cmd.argv)) is not None]
            self.simple(cmd, ctx, depth=depth, extra=extra)
            ctx = _after_cd(inner, cmd, ctx)
        self._downloads_into_interpreters(parsed, peeled)

    def _downloads_into_interpreters(self, parsed: ParsedScript,
                                     peeled: list[tuple[str, ...]]) -> None:
        """`curl … | sh`, `sh -c "$(curl …)"`, `bash <(curl …)`, `cat <(curl …) | sh`."""
        parents = [cmd.parent for cmd in parsed.commands]

        def ancestors(index: int) -> list[int]:
            chain: list[int] = []
            parent = parents[index]
            while parent is not None and parent not in chain:
                chain.append(parent)
                parent = parents[parent]
            return chain

        downloaders = [i for i, inner in enumerate(peeled) if inner and downloader(inner[0])]
        fed_by_download = set(downloaders)
        for index in downloaders:
            fed_by_download.update(ancestors(index))
        why = ("runs code downloaded from the network without review; download it to a file, "
               "read it, then run it")
        culprits: list[tuple[str, ...]] = []
        for index in downloaders:
            culprits.extend(peeled[a] for a in ancestors(index)
                            if peeled[a] and is_interpreter(peeled[a][0]))
        pipelines: dict[int, list[int]] = defaultdict(list)
        for index, cmd in enumerate(parsed.commands):
            pipelines[cmd.pipeline].append(index)
        for members in pipelines.values():
            first = min((parsed.commands[i].stage for i in members if i in fed_by_download),
                        default=None)
            if first is None:
                continue
            culprits.extend(peeled[i] for i in members
                            if parsed.commands[i].stage > first and peeled[i]
                            and is_interpreter(peeled[i][0]))
        for argv in dict.fromkeys(culprits):
            self.attach(argv, builtin_match("pipe-to-shell", Decision.FORBIDDEN, why, argv))

    # --- one simple command -----------------------------------------------------------------

    def simple(self, cmd: SimpleCommand, ctx: Context, *, depth: int,
               extra: list[RuleMatch]) -> None:
        if not cmd.argv:
            for match in extra:
                self.attach(match.command, match)
            return
        peeled = peel(cmd.argv)
        if peeled.problem:
            self.problems.append(peeled.problem)
        inner = peeled.argv
        offset = len(cmd.argv) - len(inner)
        script = shell_script(inner)
        if script is not None:
            index, text = script
            if index + offset in cmd.dynamic:
                self.problems.append(f"the script given to `{program_name(inner[0])} -c` is "
                                     "computed at run time")
            elif depth >= MAX_SHELL_DEPTH:
                self.problems.append(f"shells nested more than {MAX_SHELL_DEPTH} levels deep")
            else:
                self.script(parse_script(text), ctx, depth + 1)
            for match in extra:
                self.attach(cmd.argv, match)
            return
        if program_name(inner[0]) in _RUNS_DYNAMIC_CODE:
            self.problems.append(f"`{program_name(inner[0])}` runs code chosen at run time")
        matches = list(extra)
        matches.extend(dangerous(inner, ctx))
        matches.extend(self.rules.matches(inner))
        if peeled.wrappers:
            # A user rule about the wrapper itself may tighten, never loosen, the verdict.
            matches.extend(m for m in self.rules.matches(cmd.argv)
                           if m.decision is not Decision.ALLOW)
        if not peeled.problem and (safe := known_safe(inner)) is not None:
            matches.append(safe)
        self.record(inner, matches)

    def attach(self, argv: Sequence[str], match: RuleMatch) -> None:
        """Add a script-level match (pipe to shell, fork bomb) as its own evaluation."""
        self.record(tuple(argv), [match])

    def record(self, argv: Sequence[str], matches: list[RuleMatch]) -> None:
        if matches:
            decision = Decision.strictest([m.decision for m in matches])
            self.evaluations.append(CommandEvaluation(tuple(argv), decision, tuple(matches),
                                                      by_rule=True))
        else:
            self.evaluations.append(CommandEvaluation(tuple(argv), Decision.PROMPT, (),
                                                      by_rule=False))

    # --- the verdict ------------------------------------------------------------------------

    def result(self) -> PolicyDecision:
        problems = tuple(dict.fromkeys(self.problems))
        evaluations = _merge_duplicates(self.evaluations)
        decisions = [e.decision for e in evaluations]
        if problems:
            decisions.append(Decision.PROMPT)
        if not decisions:
            return PolicyDecision(Decision.ALLOW, "the script runs no command", (), (), True)
        final = Decision.strictest(decisions)
        by_rule = any(e.by_rule and e.decision is final for e in evaluations)
        matched = tuple(m for e in evaluations for m in e.matched)
        if by_rule:
            reasons = [m.justification for m in matched if m.decision is final]
        else:
            reasons = list(problems) + [
                f"`{program_name(e.argv[0]) if e.argv else ''}` is not a known-safe command"
                for e in evaluations if not e.by_rule]
        justification = "; ".join(dict.fromkeys(reasons))
        return PolicyDecision(final, justification, evaluations, problems, by_rule, matched)


def _merge_duplicates(evaluations: list[CommandEvaluation]) -> tuple[CommandEvaluation, ...]:
    """One entry per argv: a script-level match (pipe to shell) joins the command's own."""
    merged: dict[tuple[str, ...], CommandEvaluation] = {}
    for evaluation in evaluations:
        previous = merged.get(evaluation.argv)
        if previous is None:
            merged[evaluation.argv] = evaluation
            continue
        matches = previous.matched + tuple(m for m in evaluation.matched
                                           if m not in previous.matched)
        by_rule = previous.by_rule or evaluation.by_rule
        decision = (Decision.strictest([m.decision for m in matches]) if matches
                    else Decision.PROMPT)
        merged[evaluation.argv] = replace(previous, matched=matches, by_rule=by_rule,
                                          decision=decision)
    return tuple(merged.values())


def _after_cd(inner: tuple[str, ...], cmd: SimpleCommand, ctx: Context) -> Context:
    """Follow a literal `cd DIR` so later relative paths resolve where the script will be."""
    if not inner or program_name(inner[0]) not in ("cd", "pushd"):
        return ctx
    args = [a for a in inner[1:] if a not in ("-L", "-P", "--")]
    if not args:
        return replace(ctx, cwd=ctx.home)
    offset = len(cmd.argv) - len(inner)
    literal = (inner.index(args[0]) + offset) not in cmd.dynamic or args[0].startswith("~")
    target = resolve_path(args[0], ctx) if literal and args[0] != "-" else None
    return replace(ctx, cwd=target)
