"""Cancellation reaches the model stream and the sandboxed process trees of exactly the agent
cancelled; worktree agents' diffs merge atomically, and conflicts are reported, not applied."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from supervisor_helpers import base_settings, git

from codex.protocol import ItemStarted
from codex.security.profiles import SecurityProfile
from codex.supervisor import AgentSpec, Limits, MailboxFull, Supervisor, merge_changes
from codex.supervisor.engine import AgentRecord
from support.model_server import Call, ModelServer, responses_reply, responses_text
from support.procs import pids_with

pytestmark = pytest.mark.timeout(120)


def _shell(argv: list[str], call_id: str) -> object:
    return responses_reply(Call("shell", json.dumps({"command": argv, "timeout_ms": 600_000}),
                                call_id))


def _rollout_closed(path: Path) -> bool:
    with open(path, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def test_cancel_mid_stream_and_mid_command_leaves_nothing_running(
        model_server: ModelServer, workspace: Path, codex_home: Path) -> None:
    # a1: a command tree (sh -> sleep) in its sandbox; a2: a model stream stalled mid-answer;
    # a3: a short command of its own that must survive the others' cancellation.
    model_server.route("[c1]", _shell(["sh", "-c", "sleep 47.25; echo never"], "k1"))
    model_server.route("[c2]", responses_text("a long answer that stalls").stall_after(3, 60))
    model_server.route("[c3]", _shell(["sh", "-c", "sleep 1.5; echo survived"], "k3"),
                       responses_text("done"))
    seen: list[tuple[str, object]] = []

    async def main() -> tuple[list[AgentRecord], float]:
        supervisor = Supervisor(base_settings(model_server, workspace, codex_home),
                                Limits(max_parallel=3), emit=lambda a, e: seen.append((a, e)))
        records = [supervisor.spawn(AgentSpec(prompt=f"[c{n}] go")) for n in (1, 2, 3)]
        deadline = time.monotonic() + 30
        while not (pids_with("47.25") and len(model_server.requests) >= 3
                   and any(a == "a3" and isinstance(e, ItemStarted) for a, e in seen)):
            assert time.monotonic() < deadline, "the agents never got going"
            await asyncio.sleep(0.02)
        started = time.monotonic()
        supervisor.cancel("a1")
        supervisor.cancel("a2")
        await supervisor.wait(["a1", "a2"], 5)
        took = time.monotonic() - started
        await supervisor.wait(["a3"], 30)
        await supervisor.shutdown()
        return records, took

    records, took = asyncio.run(main())
    a1, a2, a3 = records
    assert took < 1.0, f"cancellation took {took:.2f}s"
    assert a1.state == a2.state == "cancelled"
    assert pids_with("47.25") == []  # the sandboxed tree is gone (sh and its sleep)
    assert a3.state == "succeeded" and a3.last_message == "done"
    outputs = [json.loads(line) for line in a3.rollout_path.read_text().splitlines()]
    assert any("survived" in str(line["payload"].get("output", "")) for line in outputs)
    for record in (a1, a2):
        assert _rollout_closed(record.rollout_path)
        last = json.loads(record.rollout_path.read_text().splitlines()[-1])
        assert last["type"] == "turn_end" and last["payload"]["status"] == "interrupted"


def test_a_full_mailbox_is_an_error_the_sender_sees(model_server: ModelServer, workspace: Path,
                                                    codex_home: Path) -> None:
    model_server.route("[m1]", responses_text("first").stall_after(2, 1.0),
                       responses_text("second"), responses_text("third"))

    async def main() -> tuple[AgentRecord, str]:
        supervisor = Supervisor(base_settings(model_server, workspace, codex_home),
                                Limits(mailbox_size=2))
        record = supervisor.spawn(AgentSpec(prompt="[m1] go"))
        await supervisor.send(record.id, "[m1] more")  # waits: the agent is busy
        await supervisor.send(record.id, "[m1] and more")
        try:
            await supervisor.send(record.id, "[m1] one too many")
            error = ""
        except MailboxFull as exc:
            error = str(exc)
        await supervisor.wait([record.id], 30)
        await supervisor.shutdown()
        return record, error

    record, error = asyncio.run(main())
    assert "mailbox of agent a1 is full (2 messages waiting)" in error
    assert record.state == "succeeded" and record.last_message == "third"
    assert record.model_requests == 3


PATCH = "*** Begin Patch\n*** Update File: notes.txt\n@@\n one\n-two\n+{new}\n*** End Patch"


def _worktree_agents(model_server: ModelServer, workspace: Path, codex_home: Path,
                     ) -> list[AgentRecord]:
    model_server.route("[w1]", _shell(["apply_patch", PATCH.format(new="TWO")], "p1"),
                       responses_text("edited"))
    model_server.route("[w2]", _shell(["apply_patch", PATCH.format(new="deux")], "p2"),
                       responses_text("edited"))
    add = "*** Begin Patch\n*** Add File: docs/new.md\n+hello\n*** End Patch"
    model_server.route("[w3]", _shell(["apply_patch", add], "p3"), responses_text("added"))

    async def main() -> list[AgentRecord]:
        settings = base_settings(model_server, workspace, codex_home,
                                 SecurityProfile.WORKSPACE_WRITE)
        supervisor = Supervisor(settings, Limits(max_parallel=3))
        records = await supervisor.run_all(
            [AgentSpec(prompt=f"[w{n}] edit", workspace="worktree") for n in (1, 2, 3)])
        await supervisor.shutdown()
        return records

    return asyncio.run(main())


def test_worktree_diffs_merge_atomically_and_conflicts_are_reported(
        model_server: ModelServer, workspace: Path, codex_home: Path) -> None:
    a1, a2, a3 = _worktree_agents(model_server, workspace, codex_home)
    assert [r.state for r in (a1, a2, a3)] == ["succeeded"] * 3
    assert (workspace / "notes.txt").read_text() == "one\ntwo\n"  # nobody wrote the checkout
    assert a1.changes is not None and "-two\n+TWO" in a1.changes.diff
    assert a3.changes is not None and "+++ b/docs/new.md" in a3.changes.diff
    assert git(workspace, "worktree", "list").count("\n") == 1  # worktrees removed
    assert "codex-agent/" not in git(workspace, "branch", "--list")

    clash = merge_changes(workspace, [("a1", a1.changes), ("a2", a2.changes)])
    assert not clash.applied
    assert clash.conflicts == ("notes.txt: agents a1 and a2 changed it differently",)
    assert (workspace / "notes.txt").read_text() == "one\ntwo\n"

    (workspace / "app.py").write_text("print('v1')\n")  # untouched file: no conflict
    merged = merge_changes(workspace, [("a1", a1.changes), ("a3", a3.changes)])
    assert merged.applied and merged.files == ("docs/new.md", "notes.txt")
    assert (workspace / "notes.txt").read_text() == "one\nTWO\n"
    assert (workspace / "docs/new.md").read_text() == "hello\n"


def test_a_file_changed_in_the_checkout_blocks_the_whole_merge(
        model_server: ModelServer, workspace: Path, codex_home: Path) -> None:
    a1, _a2, a3 = _worktree_agents(model_server, workspace, codex_home)
    (workspace / "notes.txt").write_text("one\nedited by the user\n")
    outcome = merge_changes(workspace, [("a3", a3.changes), ("a1", a1.changes)])
    assert not outcome.applied
    assert outcome.conflicts[0].startswith("notes.txt: changed in the workspace since agent a1")
    assert not (workspace / "docs").exists()  # a3's file was not written either: all or none
    assert (workspace / "notes.txt").read_text() == "one\nedited by the user\n"
    assert sorted(os.listdir(workspace)) == [".git", "app.py", "notes.txt"]
