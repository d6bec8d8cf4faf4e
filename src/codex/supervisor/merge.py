"""Merge strategies: one result out of many agents, saying who contributed and who failed.

- `concatenate`: every successful answer, in agent order, each under its agent id.
- `voting`: answers normalised (case, whitespace, trailing punctuation, code fences); the
  most common one wins when at least `min_ratio` of the successful agents gave it, else
  "no consensus" with the tally.
- `first-success`: the first agent to succeed (the engine cancels the others at that moment,
  `Supervisor.run_all(stop_on_success=True)`).
- `highest-score`: the successful agent with the highest score (scorer command or answer
  field, `codex.supervisor.scoring`), if it reaches `threshold`; ties go to the earlier agent.

Failed, timed-out and cancelled agents never make a strategy fail by themselves: their
partial results (last message, usage, error) stay in `MergeResult.agents`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from codex.supervisor.engine import AgentRecord

Strategy = Literal["concatenate", "voting", "first-success", "highest-score"]
STRATEGIES: tuple[Strategy, ...] = ("concatenate", "voting", "first-success", "highest-score")


@dataclass(frozen=True)
class MergeResult:
    """The chosen result (`chosen` empty: none), with every agent's outcome."""

    strategy: Strategy
    answer: str | None
    chosen: tuple[str, ...]
    contributors: tuple[str, ...]
    failures: dict[str, str]
    reason: str
    tally: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.chosen)

    def to_json(self) -> dict[str, object]:
        return {"strategy": self.strategy, "ok": self.ok, "answer": self.answer,
                "chosen": list(self.chosen), "contributors": list(self.contributors),
                "failures": self.failures, "reason": self.reason, "tally": self.tally,
                "scores": self.scores}


def normalise_answer(text: str) -> str:
    """What two answers must share to count as the same vote."""
    body = text.strip()
    fence = re.fullmatch(r"```[\w+-]*\n(.*?)\n?```", body, flags=re.DOTALL)
    if fence:
        body = fence.group(1)
    body = re.sub(r"\s+", " ", body).strip().casefold()
    return body.rstrip(".!;:, ").strip()


def merge_results(strategy: Strategy, records: Sequence[AgentRecord], *, min_ratio: float = 0.5,
          threshold: float | None = None) -> MergeResult:
    """Apply `strategy` to finished agents (see the module docstring)."""
    ok = [r for r in records if r.state == "succeeded"]
    failures = {r.id: f"{r.state}: {r.error}" if r.error else r.state
                for r in records if r.state != "succeeded"}
    if strategy == "concatenate":
        return _concatenate(ok, failures)
    if strategy == "voting":
        return _voting(ok, failures, min_ratio)
    if strategy == "first-success":
        return _first(ok, failures)
    return _highest(ok, failures, threshold)


def _concatenate(ok: list[AgentRecord], failures: dict[str, str]) -> MergeResult:
    if not ok:
        return MergeResult("concatenate", None, (), (), failures, "no agent succeeded")
    answer = "\n\n".join(f"## {r.id}\n\n{(r.last_message or '').strip()}" for r in ok)
    ids = tuple(r.id for r in ok)
    return MergeResult("concatenate", answer, ids, ids, failures,
                       f"{len(ok)} of {len(ok) + len(failures)} agents succeeded")


def _voting(ok: list[AgentRecord], failures: dict[str, str], min_ratio: float) -> MergeResult:
    votes: dict[str, list[AgentRecord]] = {}
    for record in ok:
        votes.setdefault(normalise_answer(record.last_message or ""), []).append(record)
    tally = dict(Counter({key: len(group) for key, group in votes.items()}).most_common())
    contributors = tuple(r.id for r in ok)
    if not ok:
        return MergeResult("voting", None, (), (), failures, "no agent succeeded", tally)
    group = max(votes.values(), key=lambda g: (len(g), -ok.index(g[0])))
    ratio = len(group) / len(ok)
    if ratio < min_ratio:
        return MergeResult("voting", None, (), contributors, failures,
                           f"no consensus: the most common answer has {len(group)} of "
                           f"{len(ok)} votes ({ratio:.0%} < min_ratio {min_ratio:.0%})", tally)
    return MergeResult("voting", group[0].last_message, tuple(r.id for r in group),
                       contributors, failures,
                       f"{len(group)} of {len(ok)} successful agents agree ({ratio:.0%} >= "
                       f"{min_ratio:.0%})", tally)


def _first(ok: list[AgentRecord], failures: dict[str, str]) -> MergeResult:
    if not ok:
        return MergeResult("first-success", None, (), (), failures, "no agent succeeded")
    first = min(ok, key=lambda r: r.ended_at or 0.0)
    return MergeResult("first-success", first.last_message, (first.id,), (first.id,), failures,
                       f"agent {first.id} succeeded first")


def _highest(ok: list[AgentRecord], failures: dict[str, str],
             threshold: float | None) -> MergeResult:
    scores = {r.id: r.score for r in ok}
    for record in ok:
        if record.score is None:
            failures[record.id] = f"unscored: {record.score_error or 'no score'}"
    scored = [r for r in ok if r.score is not None]
    if not scored:
        return MergeResult("highest-score", None, (), (), failures, "no agent has a score",
                           scores=scores)
    best = max(scored, key=lambda r: (r.score or 0.0, -scored.index(r)))
    contributors = tuple(r.id for r in scored)
    if threshold is not None and (best.score or 0.0) < threshold:
        return MergeResult("highest-score", None, (), contributors, failures,
                           f"the best score {best.score:g} (agent {best.id}) is below the "
                           f"threshold {threshold:g}", scores=scores)
    return MergeResult("highest-score", best.last_message, (best.id,), contributors, failures,
                       f"agent {best.id} has the highest score {best.score:g}", scores=scores)
