"""Run-wide limits of the engine: the agent count, the total deadline, profile narrowing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from supervisor_helpers import base_settings

from codex.supervisor import AgentSpec, Limits, SpawnRefused, SpecError, Supervisor
from codex.supervisor.scoring import parse_score, score_from_answer
from codex.supervisor.spec import narrower_profile
from support.model_server import ModelServer, responses_text

pytestmark = pytest.mark.timeout(60)


def test_the_agent_count_limit_refuses_the_next_spawn(model_server: ModelServer,
                                                      workspace: Path,
                                                      codex_home: Path) -> None:
    model_server.route("[n]", responses_text("ok"), responses_text("ok"))

    async def main() -> str:
        supervisor = Supervisor(base_settings(model_server, workspace, codex_home),
                                Limits(max_agents=2))
        supervisor.spawn(AgentSpec(prompt="[n] one"))
        supervisor.spawn(AgentSpec(prompt="[n] two"))
        try:
            supervisor.spawn(AgentSpec(prompt="[n] three"))
            message = ""
        except SpawnRefused as exc:
            message = str(exc)
        await supervisor.shutdown()
        return message

    assert asyncio.run(main()).startswith("agent limit reached: this run already has 2 agents")


def test_the_run_deadline_times_out_what_still_runs(model_server: ModelServer, workspace: Path,
                                                    codex_home: Path) -> None:
    model_server.route("[quick]", responses_text("quick"))
    model_server.route("[stall]", responses_text("never").stall_after(2, 30))

    async def main() -> tuple[list[str], float]:
        supervisor = Supervisor(base_settings(model_server, workspace, codex_home),
                                Limits(deadline_s=1.5))
        start = time.monotonic()
        records = await supervisor.run_all([AgentSpec(prompt="[quick] go"),
                                            AgentSpec(prompt="[stall] go")])
        took = time.monotonic() - start
        await supervisor.shutdown()
        assert records[1].error == "the run's deadline (1.5s) passed"
        return [r.state for r in records], took

    states, took = asyncio.run(main())
    assert states == ["succeeded", "timed_out"]
    assert took < 2.5


def test_a_child_profile_may_only_narrow() -> None:
    assert narrower_profile(None, "workspace-write") == "workspace-write"
    assert narrower_profile("offline", "workspace-net") == "offline"
    assert narrower_profile("read-only", "trusted") == "offline"
    for wider, parent in (("workspace-write", "offline"), ("net-read-only", "workspace-write"),
                          ("trusted", "workspace-net")):
        with pytest.raises(SpecError, match="wider than the parent's"):
            narrower_profile(wider, parent)


def test_scores_from_a_scorer_line_or_an_answer_field() -> None:
    assert parse_score("collected 7 items\n\n5 passed, 2 failed in 0.31s\n") == 5.0
    assert parse_score("score: -1.5e1\n") == -15.0
    assert parse_score("all good\n") is None and parse_score("") is None
    assert score_from_answer('{"score": 0.8, "why": "x"}', "score") == (0.8, None)
    assert score_from_answer("not json", "score")[1] == \
        "the answer is not JSON, so it has no 'score' field"
    assert score_from_answer('{"score": true}', "score")[1] == \
        "the answer's 'score' field is not a number"
