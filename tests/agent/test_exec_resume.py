"""Sessions survive `kill -9` and Ctrl-C: the rollout stays valid and `codex exec resume`
continues the same conversation, in the same file, with the same session id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from agent_helpers import assert_valid_events, exec_command, exec_env, rollout_files, rollout_lines

from support.model_server import ModelServer, responses_function_call, responses_text

pytestmark = pytest.mark.timeout(180)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if token.encode() in handle.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _start(server: ModelServer, workspace: Path, codex_home: Path, spawned: list,
           *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        exec_command(server, workspace, args, global_args=["--profile", "workspace-write"]),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=exec_env(codex_home), cwd=workspace)
    spawned.append(proc)
    return proc


def _conversation(lines: list[dict]) -> list[dict]:
    return [line["payload"] for line in lines if line["type"] == "response_item"]


def test_resume_after_kill_9(run_exec, model_server: ModelServer, workspace: Path,
                             codex_home: Path, spawned: list) -> None:
    model_server.enqueue(
        responses_function_call("shell", {"command": ["echo", "first-step"]}, "call_1"),
        responses_text("never finished").stall_after(1, 120))
    proc = _start(model_server, workspace, codex_home, spawned, "--json", "task one")
    _wait_for(lambda: len(model_server.requests) == 2, "the second model request")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    first_events = [json.loads(line) for line in proc.stdout.read().splitlines()]
    thread_id = first_events[0]["thread_id"]
    (path,) = rollout_files(codex_home)
    before = _conversation(rollout_lines(path))
    assert [i["type"] for i in before] == ["message", "function_call", "function_call_output"]
    # a write cut short by the kill leaves a torn last line; resume must cope with it
    with path.open("ab") as handle:
        handle.write(b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"response_it')

    model_server.enqueue(responses_text("Continuing where we left off."))
    run = run_exec("--json", "resume", "--last", "continue")
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    assert run.events[0] == {"type": "thread.started", "thread_id": thread_id}
    sent = model_server.requests[2].json["input"]
    assert sent[:3] == before
    assert sent[3] == {"type": "message", "role": "user",
                       "content": [{"type": "input_text", "text": "continue"}]}
    assert rollout_files(codex_home) == [path]  # the same file, continued
    lines = rollout_lines(path)  # every line parses: the torn tail was cut off
    assert sum(1 for line in lines if line["type"] == "session_meta") == 1
    assert _conversation(lines) == [*sent, {"type": "message", "role": "assistant",
                                            "content": "Continuing where we left off."}]
    assert lines[-1]["type"] == "turn_end" and lines[-1]["payload"]["status"] == "completed"


def test_resume_by_id_prefix_after_completed_task(run_exec, model_server: ModelServer,
                                                  codex_home: Path) -> None:
    model_server.enqueue(responses_text("first answer"))
    first = run_exec("--json", "question one")
    thread_id = first.events[0]["thread_id"]
    model_server.enqueue(responses_text("second answer"))
    second = run_exec("--json", "resume", thread_id[:13], "question two")
    assert second.returncode == 0, second.stderr
    assert second.events[0]["thread_id"] == thread_id
    texts = [i.get("content") for i in model_server.requests[1].json["input"]]
    assert texts[1] == "first answer"
    unknown = run_exec("resume", "ffffffff-0000", "hi")
    assert unknown.returncode == 1 and "no session with id" in unknown.stderr


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_kills_running_command_and_session_resumes(run_exec, model_server: ModelServer,
                                                          workspace: Path, codex_home: Path,
                                                          spawned: list, signum: int,
                                                          code: int) -> None:
    token = f"{60 + signum + (os.getpid() % 1000) / 1000:.3f}"  # unique to this test
    # timeout_ms far beyond the sleep: only the interruption can end this command early
    model_server.enqueue(responses_function_call(
        "shell", {"command": ["sleep", token], "timeout_ms": 600_000}, "call_sleep"))
    proc = _start(model_server, workspace, codex_home, spawned, "--json", "sleep a while")
    _wait_for(lambda: bool(_processes_with(token)), "the sandboxed sleep to start")
    proc.send_signal(signum)
    assert proc.wait(timeout=40) == code  # well before the 60 s sleep would end by itself
    events = [json.loads(line) for line in proc.stdout.read().splitlines()]
    assert_valid_events(events)
    assert events[-1]["type"] == "turn.failed"
    assert "interrupted" in events[-1]["error"]["message"]
    assert _processes_with(token) == []  # the command died with the turn
    (path,) = rollout_files(codex_home)
    conversation = _conversation(rollout_lines(path))
    assert conversation[-1]["type"] == "function_call_output"
    assert conversation[-1]["call_id"] == "call_sleep"
    assert conversation[-1]["output"].startswith("aborted")

    model_server.enqueue(responses_text("ok, stopped"))
    run = run_exec("--json", "resume", "--last", "what happened?")
    assert run.returncode == 0, run.stderr
    outputs = [i for i in model_server.requests[1].json["input"]
               if i["type"] == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_sleep"]


def test_resume_after_kill_9_during_a_command_answers_the_call(
        run_exec, model_server: ModelServer, workspace: Path, codex_home: Path,
        spawned: list) -> None:
    token = f"{70 + (os.getpid() % 1000) / 1000:.3f}"
    model_server.enqueue(responses_function_call(
        "shell", {"command": ["sleep", token], "timeout_ms": 600_000}, "call_long"))
    proc = _start(model_server, workspace, codex_home, spawned, "--json", "long job")
    _wait_for(lambda: bool(_processes_with(token)), "the sandboxed sleep to start")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _wait_for(lambda: not _processes_with(token), "the orphaned command to die", timeout=30)
    model_server.enqueue(responses_text("resumed"))
    run = run_exec("--json", "resume", "--last", "continue")
    assert run.returncode == 0, run.stderr
    sent = model_server.requests[1].json["input"]
    assert [i["type"] for i in sent] == ["message", "function_call", "function_call_output",
                                         "message"]
    assert sent[2]["call_id"] == "call_long" and sent[2]["output"].startswith("aborted")


def test_resuming_a_live_session_is_refused(run_exec, model_server: ModelServer,
                                            workspace: Path, codex_home: Path,
                                            spawned: list) -> None:
    model_server.enqueue(responses_text("still thinking").stall_after(1, 120))
    proc = _start(model_server, workspace, codex_home, spawned, "--json", "long thought")
    _wait_for(lambda: len(model_server.requests) == 1, "the first model request")
    run = run_exec("--json", "resume", "--last", "me too")
    assert run.returncode == 1
    assert "in use by another codex process" in run.stderr
    assert run.events == [{"type": "error", "message": run.events[0]["message"]}]
    assert len(model_server.requests) == 1
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
