"""Scores for the highest-score strategy: a scorer command or a field of the agent's answer.

A scorer command (e.g. `sh -c "pytest -q | tail -1"`) runs after the agent succeeded, in the
agent's workspace and sandbox, through the agent's own guard chain (exec policy, approvals,
sandbox, audit entry under the agent's id). Its score is the first number on the last
non-empty line it printed ("5 passed in 0.31s" scores 5), whatever its exit code: a test
suite with failures still has a pass count. A score field names a key of the agent's final
answer parsed as a JSON object (`{"score": 0.8, ...}`).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import TYPE_CHECKING

from codex.agent.cancel import kill_running_commands

if TYPE_CHECKING:
    from codex.agent import Session
    from codex.supervisor.engine import AgentRecord

SCORER_TIMEOUT_S = 600.0
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_score(output: str) -> float | None:
    """The first number on the last non-empty line, or None."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    match = _NUMBER.search(lines[-1])
    return float(match.group()) if match else None


def score_from_answer(answer: str | None, field: str) -> tuple[float | None, str | None]:
    try:
        data = json.loads(answer or "")
    except ValueError:
        return None, f"the answer is not JSON, so it has no {field!r} field"
    value = data.get(field) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"the answer's {field!r} field is not a number"
    return float(value), None


async def score_agent(record: AgentRecord, session: Session) -> tuple[float | None, str | None]:
    """(score, why there is none)."""
    spec = record.spec
    if spec.score_field:
        return score_from_answer(record.last_message, spec.score_field)
    assert spec.score_command is not None
    return await _run_scorer(session, list(spec.score_command))


async def _run_scorer(session: Session, argv: list[str]) -> tuple[float | None, str | None]:
    from codex.tools.guarded_exec import ExecRequest, run_guarded

    guard = session.tool_context.guard
    if guard is None:
        return None, "the session has no guard chain to run the scorer through"
    threads: set[int] = set()
    settings = session.settings

    def run() -> tuple[float | None, str | None]:
        threads.add(threading.get_native_id())
        outcome = run_guarded(guard, ExecRequest(
            argv=argv, cwd=settings.cwd, policy=settings.sandbox_policy,
            workspace=settings.cwd, timeout_s=SCORER_TIMEOUT_S, capture=True))
        if not outcome.ran or outcome.result is None:
            return None, f"the scorer was not run: {outcome.reason}"
        text = (outcome.result.stdout or b"").decode("utf-8", "replace")
        score = parse_score(text)
        if score is None:
            return None, (f"the scorer printed no number on its last line (exit code "
                          f"{outcome.result.exit_code})")
        return score, None

    future = session.executor.submit(run)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        while not future.done():  # the scorer's sandbox dies with the agent
            kill_running_commands(threads)
            await asyncio.sleep(0.05)
        raise
