"""User rules: prefix patterns with a decision, and the set of them that `evaluate` consults.

A pattern is a sequence of positions; each position is one word or a tuple of alternative words.
A rule matches an argv when the argv is at least as long as the pattern and every position
matches in order (a prefix match, the Codex CLI's `prefix_rule` semantics).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex.execpolicy.types import Decision, RuleMatch

PatternToken = str | tuple[str, ...]


class RuleLoadError(Exception):
    """A rule file could not be loaded; str(err) is `<path>:<line>: <what is wrong>`."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Rule:
    """One prefix rule loaded from a file (TOML or Codex `.rules`)."""

    pattern: tuple[PatternToken, ...]
    decision: Decision
    justification: str
    source: Path
    line: int
    name: str

    def matches(self, argv: Sequence[str]) -> bool:
        """True when `argv` starts with this rule's pattern."""
        if not self.pattern or len(argv) < len(self.pattern):
            return False
        for token, word in zip(self.pattern, argv, strict=False):
            if isinstance(token, tuple):
                if word not in token:
                    return False
            elif word != token:
                return False
        return True

    def to_match(self, argv: Sequence[str]) -> RuleMatch:
        """The `RuleMatch` recorded when this rule matches `argv`."""
        return RuleMatch(
            source=str(self.source), rule=self.name, decision=self.decision,
            justification=self.justification or _default_justification(self),
            command=tuple(argv), line=self.line,
        )

    def check_examples(self, matches: Iterable[Sequence[str]],
                       not_matches: Iterable[Sequence[str]]) -> None:
        """Raise RuleLoadError when a `match` example misses or a `not_match` example hits."""
        for example in matches:
            if not self.matches(example):
                raise RuleLoadError(self.source, self.line,
                                    f"{self.name}: example {shlex.join(example)!r} in `match` "
                                    f"does not match pattern {format_pattern(self.pattern)}")
        for example in not_matches:
            if self.matches(example):
                raise RuleLoadError(self.source, self.line,
                                    f"{self.name}: example {shlex.join(example)!r} in "
                                    f"`not_match` matches pattern {format_pattern(self.pattern)}")


def _default_justification(rule: Rule) -> str:
    return f"{rule.decision.value} by user rule {format_pattern(rule.pattern)}"


def format_pattern(pattern: Sequence[PatternToken]) -> str:
    """A readable form such as `git [push|fetch]`."""
    return " ".join(f"[{'|'.join(t)}]" if isinstance(t, tuple) else shlex.quote(t)
                    for t in pattern)


@dataclass(frozen=True)
class RuleSet:
    """The user rules `evaluate` consults, in load order, and the files they came from."""

    rules: tuple[Rule, ...] = ()
    files: tuple[Path, ...] = ()

    def matches(self, argv: Sequence[str]) -> list[RuleMatch]:
        """Every rule that matches `argv`."""
        return [rule.to_match(argv) for rule in self.rules if rule.matches(argv)]

    def merged(self, other: RuleSet) -> RuleSet:
        """This set followed by `other`."""
        return RuleSet(self.rules + other.rules, self.files + other.files)
