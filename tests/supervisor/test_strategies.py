"""Eight real agent sessions against the loopback model server, with mixed outcomes (success,
model error, sandbox refusal, timeout), merged by every strategy."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from supervisor_helpers import base_settings

from codex.agent import load_rollout
from codex.audit import audit_dir, read_entries
from codex.protocol import AgentStateChanged
from codex.supervisor import AgentSpec, Limits, MergeResult, Supervisor, merge_results
from codex.supervisor.engine import AgentRecord
from support.model_server import (
    Call,
    ModelServer,
    Reply,
    Text,
    error_reply,
    responses_reply,
    responses_text,
)

pytestmark = pytest.mark.timeout(120)


def _script(server: ModelServer, *, slow: float = 0.0) -> list[AgentSpec]:
    """Eight agents: a1-a3 and a8 say 42 (a8 after running a command), a4 says 41, a5 gets a
    model error, a6 has its command refused and says so, a7's model stalls past its timeout."""
    def text(answer: str, delay: float = slow) -> Reply:
        reply = responses_text(answer)
        reply.pause_before_headers = delay
        return reply

    server.route("[task a1]", text("The answer is 42.", 0.0))
    server.route("[task a2]", text("the answer is 42"))
    server.route("[task a3]", text("The  answer is 42!"))
    server.route("[task a4]", text("The answer is 41."))
    server.route("[task a5]", error_reply(400, "this model does not exist", "model_not_found"))
    server.route("[task a6]",
                 responses_reply(Call("shell", json.dumps({"command": ["sudo", "ls"]}), "c6")),
                 text("I could not run it."))
    server.route("[task a7]", responses_text("too late").stall_after(1, 30))
    server.route("[task a8]",
                 responses_reply(Call("shell", json.dumps({"command": ["echo", "hi"]}), "c8")),
                 text("The answer is 42"))
    return [AgentSpec(prompt=f"[task a{n}] what is the answer?", name=f"a{n}",
                      timeout_s=2.0 if n == 7 else None,
                      score_command=("echo", f"{n} passed")) for n in range(1, 9)]


def _run(server: ModelServer, workspace: Path, codex_home: Path, specs: list[AgentSpec],
         *, stop_on_success: bool = False,
         max_parallel: int = 8) -> tuple[list[AgentRecord], list[AgentStateChanged]]:
    states: list[AgentStateChanged] = []

    def emit(agent_id: str, event: object) -> None:
        if isinstance(event, AgentStateChanged):
            states.append(event)

    async def main() -> list[AgentRecord]:
        supervisor = Supervisor(base_settings(server, workspace, codex_home),
                                Limits(max_parallel=max_parallel), emit=emit)
        try:
            return await supervisor.run_all(specs, stop_on_success=stop_on_success)
        finally:
            await supervisor.shutdown()

    return asyncio.run(main()), states


def _by_id(records: list[AgentRecord]) -> dict[str, AgentRecord]:
    return {r.id: r for r in records}


def _check_common(records: list[AgentRecord], states: list[AgentStateChanged],
                  codex_home: Path) -> None:
    agents = _by_id(records)
    assert agents["a5"].state == "failed" and "does not exist" in (agents["a5"].error or "")
    assert agents["a7"].state == "timed_out" and "timed out after 2s" in agents["a7"].error
    for record in records:  # queued -> running -> final, in that order, with times
        seen = [e.state for e in states if e.agent_id == record.id]
        assert seen[0] == "queued" and seen[1] == "running" and seen[-1] == record.state
        assert record.started_at and record.ended_at and record.ended_at >= record.started_at
        meta = load_rollout(record.rollout_path).meta
        assert meta["agent"]["agent_id"] == record.id and meta["id"] == record.session_id
    # a6's refused command is in the audit log under its agent id, denied
    entries = list(read_entries(audit_dir(codex_home)))
    refused = [e for e in entries if e.actor == "agent:a6" and e.target == "sudo ls"]
    assert refused and refused[-1].decision == "denied"
    assert refused[-1].session_id == agents["a6"].session_id
    echoed = [e for e in entries if e.actor == "agent:a8" and e.target == "echo hi"]
    assert echoed and echoed[-1].decision == "allowed"


def test_concatenate_and_voting_over_mixed_outcomes(model_server: ModelServer, workspace: Path,
                                                    codex_home: Path) -> None:
    records, states = _run(model_server, workspace, codex_home, _script(model_server))
    _check_common(records, states, codex_home)
    agents = _by_id(records)
    assert [r.state for r in records] == ["succeeded"] * 4 + ["failed", "succeeded",
                                                             "timed_out", "succeeded"]
    assert agents["a8"].usage.input_tokens == 20 and agents["a8"].model_requests == 2

    joined = merge_results("concatenate", records)
    assert joined.contributors == ("a1", "a2", "a3", "a4", "a6", "a8")
    assert set(joined.failures) == {"a5", "a7"} and joined.failures["a7"].startswith("timed_out")
    assert "## a4\n\nThe answer is 41." in (joined.answer or "")

    agreed = merge_results("voting", records, min_ratio=0.6)
    assert agreed.ok and agreed.chosen == ("a1", "a2", "a3", "a8")
    assert agreed.tally == {"the answer is 42": 4, "the answer is 41": 1,
                            "i could not run it": 1}
    assert agreed.answer == "The answer is 42."
    split = merge_results("voting", records, min_ratio=0.7)
    assert not split.ok and split.reason.startswith("no consensus")
    assert split.tally["the answer is 42"] == 4

    best = merge_results("highest-score", records)  # each scorer ran in its agent's sandbox
    assert best.chosen == ("a8",) and best.scores["a8"] == 8.0 and best.scores["a1"] == 1.0
    assert "a7" not in best.scores
    entries = list(read_entries(audit_dir(codex_home)))
    assert any(e.actor == "agent:a3" and e.target == "echo '3 passed'" for e in entries)
    too_high: MergeResult = merge_results("highest-score", records, threshold=9)
    assert not too_high.ok and "below the threshold 9" in too_high.reason
    assert too_high.contributors == ("a1", "a2", "a3", "a4", "a6", "a8")


def test_first_success_cancels_the_others_at_once(model_server: ModelServer, workspace: Path,
                                                  codex_home: Path) -> None:
    specs = _script(model_server, slow=5.0)  # everybody but a1 (and the failing a5) is slow
    started = time.monotonic()
    records, states = _run(model_server, workspace, codex_home, specs, stop_on_success=True)
    elapsed = time.monotonic() - started
    agents = _by_id(records)
    assert agents["a1"].state == "succeeded" and agents["a5"].state == "failed"
    cancelled = [r for r in records if r.state == "cancelled"]
    assert {r.id for r in cancelled} == {"a2", "a3", "a4", "a6", "a7", "a8"}
    assert all((r.ended_at or 0) - (agents["a1"].ended_at or 0) < 1.0 for r in cancelled)
    assert elapsed < 5.0
    result = merge_results("first-success", records)
    assert result.chosen == ("a1",) and result.answer == "The answer is 42."
    assert result.failures["a3"].startswith("cancelled: agent a1 succeeded first")
    for record in cancelled:  # their rollouts were closed cleanly: a turn_end line each
        lines = [json.loads(x) for x in record.rollout_path.read_text().splitlines()]
        assert lines[-1]["type"] == "turn_end"
        assert lines[-1]["payload"]["status"] == "interrupted"
    assert [e.state for e in states if e.agent_id == "a2"][-1] == "cancelled"


def test_max_parallel_queues_the_rest(model_server: ModelServer, workspace: Path,
                                      codex_home: Path) -> None:
    for n in range(1, 5):
        reply = responses_reply(Text(f"done {n}"))
        reply.pause_before_headers = 0.3
        model_server.route(f"[q{n}]", reply)
    specs = [AgentSpec(prompt=f"[q{n}] go") for n in range(1, 5)]
    records, states = _run(model_server, workspace, codex_home, specs, max_parallel=2)
    assert all(r.state == "succeeded" for r in records)
    running = 0
    peak = 0
    for event in states:
        if event.state == "running":
            running += 1
        elif event.state == "succeeded":
            running -= 1
        peak = max(peak, running)
    assert peak == 2
    assert [r.id for r in records] == ["a1", "a2", "a3", "a4"]
