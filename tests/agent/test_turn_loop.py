"""The core API other front ends use: Session.open + run_task, events through `emit`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import time
from pathlib import Path

import pytest

from codex.agent import Session, SessionSettings, find_rollout, load_rollout, run_task
from codex.agent.session import calls_without_output
from codex.approvals import NonInteractiveApprover
from codex.model import FunctionCallOutput, Message, resolve_provider
from codex.policies import ApprovalPolicy
from codex.protocol import (
    AgentEvent,
    ItemCompleted,
    ItemStarted,
    LiveCommandOutput,
    LiveTextDelta,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserInput,
)
from codex.security.profiles import SecurityProfile, resolve_policy
from support.model_server import Call, ModelServer, Text, responses_reply, responses_text
from support.procs import pids_with

pytestmark = pytest.mark.timeout(120)


def _settings(server: ModelServer, tmp_path: Path) -> SessionSettings:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    return SessionSettings(
        cwd=workspace, codex_home=tmp_path / "home", model="m",
        provider=resolve_provider("loop", {"loop": server.provider_table()}, env={}),
        provider_id="loop", sandbox_policy=resolve_policy(SecurityProfile.OFFLINE, workspace),
        approval_policy=ApprovalPolicy.ON_REQUEST, approver=NonInteractiveApprover(),
        audit=None)


def test_events_and_result_of_a_tool_turn(model_server: ModelServer, tmp_path: Path) -> None:
    model_server.enqueue(
        responses_reply(Text("Checking."), Call("shell", json.dumps({"command": ["echo", "hi"]}),
                                                "call_1")),
        responses_text("All good."))
    events: list[AgentEvent] = []

    async def main() -> tuple[object, list]:
        async with Session.open(_settings(model_server, tmp_path)) as session:
            result = await run_task(session, UserInput(text="check"), events.append)
            return result, list(session.history)

    result, history = asyncio.run(main())
    assert result.status == "completed" and result.last_message == "All good."
    assert result.model_requests == 2 and result.usage.input_tokens == 20
    assert isinstance(events[0], TurnStarted) and isinstance(events[-1], TurnCompleted)
    assert "".join(e.text for e in events if isinstance(e, LiveTextDelta)) == \
        "Checking.All good."
    assert any(isinstance(e, LiveCommandOutput) and "hi" in e.text for e in events)
    started = [e for e in events if isinstance(e, ItemStarted)]
    completed = [e.item for e in events if isinstance(e, ItemCompleted)]
    assert [i.type for i in completed] == ["agent_message", "command_execution", "agent_message"]
    assert started[0].item.id == completed[1].id
    assert calls_without_output(history) == []
    assert history[0] == Message("user", "check")
    assert isinstance(history[3], FunctionCallOutput) and "hi" in history[3].output


@pytest.mark.parametrize("cancel_early", [False, True])
def test_cancelling_the_task_interrupts_and_keeps_the_session_resumable(
        model_server: ModelServer, tmp_path: Path, cancel_early: bool) -> None:
    # timeout_ms far beyond the sleep: only the cancellation can end this command early. The
    # duration doubles as a unique token in the command's argv: the oracle is /proc, not the
    # agent's own `running_helpers()` (the function the code uses to find what to kill).
    token = f"30.{secrets.randbelow(10**9):09d}"
    arguments = {"command": ["sleep", token], "timeout_ms": 600_000}
    model_server.enqueue(responses_reply(Call("shell", json.dumps(arguments), "call_s")))
    events: list[AgentEvent] = []
    settings = _settings(model_server, tmp_path)

    def sleepers() -> list[int]:
        return pids_with(token)

    async def main() -> object:
        async with Session.open(settings) as session:
            task = asyncio.ensure_future(run_task(session, UserInput(text="wait"), events.append))
            while not any(isinstance(e, ItemStarted) for e in events):
                await asyncio.sleep(0.01)
            if not cancel_early:
                deadline = time.monotonic() + 30
                while not sleepers():  # the sandboxed command is running
                    assert time.monotonic() < deadline, "the command never started"
                    await asyncio.sleep(0.02)
            task.cancel()  # early: the sandbox may not even be spawned yet
            result = await task
            left = sleepers()
            # Nothing may start late either (a spawn racing the cancellation).
            deadline = time.monotonic() + 1.0
            while not left and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
                left = sleepers()
            for pid in left:  # only reached when the agent failed to stop it
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            assert left == []
            return result

    result = asyncio.run(main())
    assert result.status == "interrupted"
    assert isinstance(events[-1], TurnFailed)
    loaded = load_rollout(find_rollout(settings.codex_home))
    assert calls_without_output(loaded.items) == []
    assert loaded.items[-1] == FunctionCallOutput("call_s", loaded.items[-1].output)
    assert loaded.items[-1].output.startswith("aborted")


def test_a_session_end_signs_a_checkpoint_of_its_audit_entries(
        model_server: ModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once an audit key exists, ending a session anchors what it recorded."""
    from dataclasses import replace

    from codex.audit import AuditLog, verify_log
    from codex.audit.anchor_paths import KEY_DIR_ENV, local_checkpoints
    from codex.audit.checkpoint import load_private_key

    keys = tmp_path / "keys"
    monkeypatch.setenv(KEY_DIR_ENV, str(keys))
    load_private_key(keys, create=True)
    model_server.enqueue(
        responses_reply(Call("shell", json.dumps({"command": ["echo", "hi"]}), "call_1")),
        responses_text("done"))
    base = _settings(model_server, tmp_path)
    audit = AuditLog(base.codex_home)
    stored = local_checkpoints(keys, audit.directory)

    async def main() -> None:
        async with Session.open(replace(base, audit=audit)) as session:
            await run_task(session, UserInput(text="go"), lambda _event: None)
            assert not stored.exists()  # nothing signed before the session ends

    asyncio.run(main())
    report = verify_log(audit.directory)
    assert report.ok and report.entries >= 1
    (line,) = stored.read_text().splitlines()
    assert (json.loads(line)["seq"], json.loads(line)["hash"]) == (report.last_seq,
                                                                   report.last_hash)
