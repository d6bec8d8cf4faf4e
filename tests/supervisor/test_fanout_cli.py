"""`codex fanout` as a user runs it: a real subprocess against the loopback model server."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from supervisor_helpers import git, interrupt_once_running

from codex.agent import find_rollout, load_rollout
from support.model_server import Call, ModelServer, responses_reply, responses_text
from support.procs import pids_with

pytestmark = pytest.mark.timeout(120)


def _argv(server: ModelServer, workspace: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "codex", "-C", str(workspace), "fanout",
            "-c", "model_provider=loop", "-c", f"model_providers.loop.base_url={server.url}",
            "-c", "model_providers.loop.wire_api=responses",
            "-c", "model_providers.loop.request_max_retries=0", *args]


def _env(codex_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    return {**env, "CODEX_HOME": str(codex_home), "NO_COLOR": "1"}


def _fanout(server: ModelServer, workspace: Path, codex_home: Path,
            *args: str) -> tuple[int, list[dict[str, Any]], str]:
    proc = subprocess.run(_argv(server, workspace, *args), capture_output=True, text=True,
                          env=_env(codex_home), timeout=90)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()] \
        if "--json" in args else [{"stdout": proc.stdout}]
    return proc.returncode, events, proc.stderr


def test_voting_over_one_prompt_as_one_json_stream(model_server: ModelServer, workspace: Path,
                                                   codex_home: Path) -> None:
    model_server.enqueue(responses_text("Paris."), responses_text("paris"),
                         responses_text("Lyon"))
    code, events, stderr = _fanout(model_server, workspace, codex_home, "-n", "3", "--json",
                                   "--strategy", "voting", "--min-ratio", "0.6",
                                   "capital of France?")
    assert code == 0, stderr
    *stream, done = events
    assert all("agent_id" in e for e in stream)
    assert {e["agent_id"] for e in stream} == {"a1", "a2", "a3"}
    for agent in ("a1", "a2", "a3"):
        kinds = [e["type"] for e in stream if e["agent_id"] == agent]
        assert kinds[0] == "agent.state" and "thread.started" in kinds
        assert "turn.completed" in kinds and kinds[-1] == "agent.state"
    assert done["type"] == "fanout.completed" and done["ok"] is True
    assert len(done["chosen"]) == 2 and done["tally"] == {"paris": 2, "lyon": 1}
    # any agent's rollout opens with codex's own rollout reader (what `codex exec resume` uses)
    session = done["agents"][0]["session_id"]
    meta = load_rollout(find_rollout(codex_home, session)).meta
    assert meta["agent"]["agent_id"] == done["agents"][0]["agent_id"]
    assert meta["originator"] == "codex_fanout"


def test_no_consensus_exits_1_with_the_tally(model_server: ModelServer, workspace: Path,
                                             codex_home: Path) -> None:
    model_server.enqueue(responses_text("A"), responses_text("B"))
    code, events, stderr = _fanout(model_server, workspace, codex_home, "-n", "2",
                                   "--strategy", "voting", "--min-ratio", "0.6", "pick")
    assert code == 1
    assert "voting: no consensus" in stderr and events == [{"stdout": ""}]


PATCH = "*** Begin Patch\n*** Update File: notes.txt\n@@\n one\n-two\n+{new}\n*** End Patch"


def _tasks(tmp: Path, body: str) -> Path:
    path = tmp / "tasks.toml"
    path.write_text(body)
    return path


def test_tasks_in_worktrees_highest_score_merges_the_best_diff(
        model_server: ModelServer, workspace: Path, codex_home: Path, tmp_path: Path) -> None:
    for name, new in (("low", "low"), ("high", "high")):
        model_server.route(f"[{name}]", responses_reply(Call("shell", json.dumps(
            {"command": ["apply_patch", PATCH.format(new=new)]}), f"c_{name}")),
            responses_text("done"))
    tasks = _tasks(tmp_path, '[low]\nprompt = "[low] edit"\n'
                             'score_command = ["sh", "-c", "grep -c low notes.txt"]\n'
                             '[high]\nprompt = "[high] edit"\n'
                             'score_command = ["sh", "-c", "echo 7 passed"]\n')
    code, events, stderr = _fanout(model_server, workspace, codex_home, "--tasks", str(tasks),
                                   "--workspace", "worktree", "-s", "workspace-write",
                                   "--strategy", "highest-score", "--threshold", "2", "--json")
    assert code == 0, stderr
    done = events[-1]
    assert done["chosen"] == ["high"] and done["scores"] == {"low": 1.0, "high": 7.0}
    assert done["merge"]["applied"] is True and done["merge"]["files"] == ["notes.txt"]
    assert (workspace / "notes.txt").read_text() == "one\nhigh\n"
    assert "+low" in next(a["diff"] for a in done["agents"] if a["agent_id"] == "low")
    assert "codex-agent/" not in git(workspace, "branch", "--list")


def test_conflicting_worktree_diffs_are_reported_and_nothing_is_written(
        model_server: ModelServer, workspace: Path, codex_home: Path, tmp_path: Path) -> None:
    for name in ("x", "y"):
        model_server.route(f"[{name}]", responses_reply(Call("shell", json.dumps(
            {"command": ["apply_patch", PATCH.format(new=name)]}), f"c_{name}")),
            responses_text("done"))
    tasks = _tasks(tmp_path, '[x]\nprompt = "[x] edit"\n[y]\nprompt = "[y] edit"\n')
    code, events, stderr = _fanout(model_server, workspace, codex_home, "--tasks", str(tasks),
                                   "--workspace", "worktree", "-s", "workspace-write")
    assert code == 1 and events == [{"stdout": ""}]
    assert "not merged, nothing was changed" in stderr
    assert "notes.txt: agents x and y changed it differently" in stderr
    assert (workspace / "notes.txt").read_text() == "one\ntwo\n"


def test_a_bad_task_file_names_file_line_and_key(model_server: ModelServer, workspace: Path,
                                                 codex_home: Path, tmp_path: Path) -> None:
    tasks = _tasks(tmp_path, '[ok]\nprompt = "x"\n\n[slow]\nprompt = "y"\ntimeout = -3\n')
    code, _events, stderr = _fanout(model_server, workspace, codex_home, "--tasks", str(tasks))
    assert code == 2
    assert f"{tasks}:6: slow.timeout: must be a positive number of seconds" in stderr
    code, _events, stderr = _fanout(model_server, workspace, codex_home, "--strategy", "best",
                                    "x")
    assert code == 2 and "--strategy 'best': choose one of concatenate" in stderr


def test_ctrl_c_cancels_every_agent_and_prints_what_finished(
        model_server: ModelServer, workspace: Path, codex_home: Path, tmp_path: Path) -> None:
    model_server.route("[fast]", responses_text("quick answer"))
    model_server.route("[busy]", responses_reply(Call("shell", json.dumps(
        {"command": ["sh", "-c", "sleep 58.5"], "timeout_ms": 600_000}), "c_busy")))
    model_server.route("[stuck]", responses_text("never finished").stall_after(2, 60))
    tasks = _tasks(tmp_path, '[fast]\nprompt = "[fast] go"\n[busy]\nprompt = "[busy] go"\n'
                             '[stuck]\nprompt = "[stuck] go"\n')
    run = interrupt_once_running(_argv(model_server, workspace, "--tasks", str(tasks)),
                                 _env(codex_home), "58.5")
    out, err = run.stdout, run.stderr
    assert run.returncode == 130
    assert "interrupted: every agent was cancelled; what finished:" in err
    assert "fast         succeeded" in err and "busy         cancelled" in err
    assert "stuck        cancelled" in err
    assert pids_with("58.5") == []
    assert out == ""


def test_a_terminal_gets_one_live_line_per_agent(model_server: ModelServer, workspace: Path,
                                                 codex_home: Path) -> None:
    for answer in ("first", "second"):
        reply = responses_text(answer)
        reply.pause_before_headers = 1.0  # long enough for a few redraws while running
        model_server.enqueue(reply)
    primary, secondary = pty.openpty()
    env = {**_env(codex_home), "COLUMNS": "100", "LINES": "30", "TERM": "xterm"}
    proc = subprocess.Popen(_argv(model_server, workspace, "-n", "2", "hello"),
                            stdin=secondary, stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    chunks = []
    try:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert proc.returncode == 0
    assert re.search(r"a1 +running +\d+\.\ds +0 tok", screen)  # drawn while it ran
    assert re.search(r"a1 +succeeded +1\.\ds +15 tok +answered", screen)
    assert re.search(r"a2 +succeeded +1\.\ds +15 tok +answered", screen)
    assert "concatenate: 2 of 2 agents succeeded" in screen
