"""The values an exec-policy evaluation produces.

They are plain frozen dataclasses (no pydantic) so the guard chain stays cheap to import, and each
has `to_json()` because `codex execpolicy check --json` and the audit log both serialise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    """What the policy says about a command; the order of severity is allow < prompt < forbidden."""

    ALLOW = "allow"
    PROMPT = "prompt"
    FORBIDDEN = "forbidden"

    @property
    def severity(self) -> int:
        """Rank used to pick the strictest of several decisions."""
        return _SEVERITY[self]

    @classmethod
    def strictest(cls, decisions: list[Decision] | tuple[Decision, ...]) -> Decision:
        """The most severe decision in `decisions`; `prompt` when there are none (fail closed)."""
        if not decisions:
            return cls.PROMPT
        return max(decisions, key=lambda d: d.severity)


_SEVERITY = {Decision.ALLOW: 0, Decision.PROMPT: 1, Decision.FORBIDDEN: 2}

BUILTIN_SOURCE = "builtin"


@dataclass(frozen=True)
class RuleMatch:
    """One rule that matched one simple command.

    `source` is `"builtin"` or the path of the rule file; `rule` is a stable name (`builtin:sudo`,
    or the rule's `id`, or `rule[N]` for the N-th rule of a file, counted from 1); `line` is the
    line in `source` where the rule starts (None for built-ins).
    """

    source: str
    rule: str
    decision: Decision
    justification: str
    command: tuple[str, ...]
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape used by `codex execpolicy check --json` and the audit log."""
        return {
            "source": self.source,
            "rule": self.rule,
            "line": self.line,
            "decision": self.decision.value,
            "justification": self.justification,
            "command": list(self.command),
        }

    def describe(self) -> str:
        """`source:line rule` for humans."""
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where} {self.rule}"


@dataclass(frozen=True)
class CommandEvaluation:
    """The verdict for one simple command found in the input."""

    argv: tuple[str, ...]
    decision: Decision
    matched: tuple[RuleMatch, ...]
    by_rule: bool

    def to_json(self) -> dict[str, Any]:
        """JSON form (see `PolicyDecision.to_json`)."""
        return {
            "argv": list(self.argv),
            "decision": self.decision.value,
            "by_rule": self.by_rule,
            "matched_rules": [m.to_json() for m in self.matched],
        }


@dataclass(frozen=True)
class PolicyDecision:
    """The result of `evaluate`: the strictest decision over every simple command and construct.

    - `decision`: allow / prompt / forbidden.
    - `justification`: one human sentence saying why (the strictest matches' justifications, or
      the parse problems, or "no rule matched").
    - `commands`: each simple command found (a `bash -lc` script yields several) with its verdict.
    - `matched`: every rule that matched, over all commands (order: command, then rule).
    - `problems`: shell constructs the parser could not prove simple (each forces >= prompt).
    - `by_rule`: True when the final decision was set by an explicit rule (a built-in dangerous
      rule or a user rule) rather than by the default for unknown commands or unprovable
      constructs. Approval policies use it: an explicit `prompt` asks even under `on-failure`,
      while an unknown command merely runs inside the sandbox.
    """

    decision: Decision
    justification: str
    commands: tuple[CommandEvaluation, ...]
    problems: tuple[str, ...] = ()
    by_rule: bool = False
    matched: tuple[RuleMatch, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by `codex execpolicy check --json`."""
        return {
            "decision": self.decision.value,
            "justification": self.justification,
            "by_rule": self.by_rule,
            "problems": list(self.problems),
            "matched_rules": [m.to_json() for m in self.matched],
            "commands": [c.to_json() for c in self.commands],
        }
