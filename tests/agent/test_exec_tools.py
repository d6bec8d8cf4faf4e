"""Tool calls through `codex exec`: commands really run in the sandbox, patches really change
files, several calls in one response run together, and every call gets its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_helpers import assert_valid_events, rollout_files, rollout_lines

from codex.audit import audit_dir, read_entries
from support.model_server import (
    Call,
    ModelServer,
    Text,
    responses_custom_tool_call,
    responses_function_call,
    responses_reply,
    responses_text,
)

pytestmark = pytest.mark.timeout(180)

WRITE = ["--profile", "workspace-write"]


def _outputs(body: dict) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in body["input"]
            if i["type"] in ("function_call_output", "custom_tool_call_output")}


def test_shell_call_runs_in_sandbox_then_answer(run_exec, model_server: ModelServer,
                                                workspace: Path, tmp_path: Path,
                                                codex_home: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "control").write_text("the test itself can write here\n")  # control
    script = f"echo inside > made.txt && cat made.txt; touch {outside}/escaped; echo rc=$?"
    model_server.enqueue(
        responses_function_call("shell", {"command": ["bash", "-c", script]}, "call_1"),
        responses_text("Made the file."))
    run = run_exec("--json", "make a file", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    # the command ran: the workspace file exists; the sandbox stopped the write outside it
    assert (workspace / "made.txt").read_text() == "inside\n"
    assert not (outside / "escaped").exists()
    (started,) = run.items("command_execution", "item.started")
    (done,) = run.items("command_execution")
    assert started["status"] == "in_progress" and started["exit_code"] is None
    assert done["id"] == started["id"]
    assert done["command"] == f"bash -c '{script}'"
    assert done["exit_code"] == 0 and done["status"] == "completed"
    assert "inside" in done["aggregated_output"] and "rc=1" in done["aggregated_output"]
    # the output went back to the model under the call's id
    output = _outputs(model_server.requests[1].json)["call_1"]
    assert "Exit code: 0" in output and "inside" in output
    assert run.items("agent_message")[0]["text"] == "Made the file."
    # the decision is in the audit log under this session, by the agent
    entries = list(read_entries(audit_dir(codex_home), session=run.events[0]["thread_id"]))
    assert [(e.operation, e.decision, e.actor) for e in entries] == [
        ("command_exec", "allowed", "agent")]
    assert "made.txt" in entries[0].target


def test_offline_profile_cannot_write_the_workspace(run_exec, model_server: ModelServer,
                                                    workspace: Path) -> None:
    model_server.enqueue(
        responses_function_call("shell", {"command": ["touch", "nope.txt"]}, "call_1"),
        responses_text("Could not write."))
    run = run_exec("--json", "try to write")  # default profile: offline
    assert run.returncode == 0, run.stderr
    (done,) = run.items("command_execution")
    assert done["status"] == "failed" and done["exit_code"] != 0
    assert not (workspace / "nope.txt").exists()


PATCH = "*** Begin Patch\n*** Update File: app.py\n-greeting = 'hi'\n+greeting = 'hello'\n" \
        "*** Add File: notes.md\n+# Notes\n*** End Patch\n"


@pytest.mark.parametrize("form", ["freeform", "json"])
def test_apply_patch_both_forms(run_exec, model_server: ModelServer, workspace: Path,
                                form: str) -> None:
    (workspace / "app.py").write_text("greeting = 'hi'\n")
    call = (responses_custom_tool_call("apply_patch", PATCH, "call_p") if form == "freeform"
            else responses_function_call("apply_patch", {"input": PATCH}, "call_p"))
    model_server.enqueue(call, responses_text("Patched."))
    run = run_exec("--json", "patch it", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    assert (workspace / "app.py").read_text() == "greeting = 'hello'\n"
    assert (workspace / "notes.md").read_text() == "# Notes\n"
    (change,) = run.items("file_change")
    assert change["status"] == "completed"
    assert sorted((Path(c["path"]).name, c["kind"]) for c in change["changes"]) == [
        ("app.py", "update"), ("notes.md", "add")]
    answer = model_server.requests[1].json["input"]
    kind = "custom_tool_call_output" if form == "freeform" else "function_call_output"
    (output,) = [i for i in answer if i["type"] == kind]
    assert output["call_id"] == "call_p" and "app.py" in output["output"]


def test_failed_patch_changes_nothing_and_is_reported(run_exec, model_server: ModelServer,
                                                      workspace: Path) -> None:
    (workspace / "app.py").write_text("greeting = 'other'\n")
    model_server.enqueue(responses_custom_tool_call("apply_patch", PATCH, "call_p"),
                         responses_text("It failed."))
    run = run_exec("--json", "patch it", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    assert (workspace / "app.py").read_text() == "greeting = 'other'\n"
    assert not (workspace / "notes.md").exists()
    (change,) = run.items("file_change")
    assert change["status"] == "failed"
    assert "no file was changed" in _outputs(model_server.requests[1].json)["call_p"].lower()


def test_several_calls_in_one_response_run_concurrently(run_exec, model_server: ModelServer,
                                                        workspace: Path) -> None:
    # The first command waits for a file the second creates: run one after the other, the
    # first would give up after 20 s and exit 1.
    waiter = "for i in $(seq 200); do [ -e flag ] && echo saw-flag && exit 0; sleep 0.1; done; " \
             "exit 1"
    plan = {"plan": [{"step": "wait", "status": "in_progress"},
                     {"step": "signal", "status": "pending"}]}
    model_server.enqueue(
        responses_reply(
            Call("shell", json.dumps({"command": ["bash", "-c", waiter]}), "call_wait"),
            Call("shell", json.dumps({"command": ["touch", "flag"]}), "call_flag"),
            Call("update_plan", json.dumps(plan), "call_plan"),
        ),
        responses_text("Both ran."))
    run = run_exec("--json", "coordinate", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    commands = {i["command"]: i for i in run.items("command_execution")}
    assert commands["touch flag"]["exit_code"] == 0
    waited = commands[f"bash -c '{waiter}'"]
    assert waited["exit_code"] == 0 and "saw-flag" in waited["aggregated_output"]
    outputs = _outputs(model_server.requests[1].json)
    assert set(outputs) == {"call_wait", "call_flag", "call_plan"}
    assert outputs["call_plan"] == "Plan updated"
    (todo,) = run.items("todo_list")
    assert todo["items"] == [{"text": "wait", "completed": False},
                             {"text": "signal", "completed": False}]


def test_escalation_request_is_declined_without_a_user(run_exec, model_server: ModelServer,
                                                       workspace: Path) -> None:
    args = {"command": ["touch", "escalated.txt"], "sandbox_permissions": "require_escalated",
            "justification": "needs to write"}
    model_server.enqueue(responses_function_call("shell", args, "call_1"),
                         responses_text("Refused, fine."))
    run = run_exec("--json", "escalate", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    (done,) = run.items("command_execution")
    assert done["status"] == "declined" and done["aggregated_output"]
    assert not (workspace / "escalated.txt").exists()
    assert "not run" in _outputs(model_server.requests[1].json)["call_1"].lower()


def test_turn_cap_fails_the_turn(run_exec, model_server: ModelServer,
                                 codex_home: Path) -> None:
    model_server.enqueue(
        responses_function_call("shell", {"command": ["true"]}, "call_1"),
        responses_function_call("shell", {"command": ["true"]}, "call_2"))
    run = run_exec("--json", "--max-turns", "2", "loop forever")
    assert run.returncode == 1
    assert_valid_events(run.events)
    assert run.events[-1]["type"] == "turn.failed"
    assert "--max-turns" in run.events[-1]["error"]["message"]
    assert len(model_server.requests) == 2
    end = rollout_lines(rollout_files(codex_home)[0])[-1]
    assert end["type"] == "turn_end" and end["payload"]["status"] == "failed"


def test_must_show_multi_turn_task_with_sandboxed_command_and_patch(
        run_exec, model_server: ModelServer, workspace: Path) -> None:
    """`codex exec --json` completes a multi-turn task: a plan, a command in the sandbox,
    an edit with apply_patch, and an answer; every line matches the event schema."""
    (workspace / "app.py").write_text("def greet():\n    greeting = 'hi'\n    return greeting\n")
    patch = ("*** Begin Patch\n*** Update File: app.py\n@@ def greet():\n"
             "-    greeting = 'hi'\n+    greeting = 'hello'\n*** End Patch\n")
    plan = [{"step": "find the greeting", "status": "in_progress"},
            {"step": "change it", "status": "pending"}]
    done_plan = [{"step": "find the greeting", "status": "completed"},
                 {"step": "change it", "status": "completed"}]
    model_server.enqueue(
        responses_reply(
            Call("update_plan", json.dumps({"plan": plan}), "call_plan1"),
            Call("shell", json.dumps({"command": ["grep", "-n", "greeting =", "app.py"]}),
                 "call_grep")),
        responses_reply(Text("Found it on line 2; patching."),
                        Call("apply_patch", patch, "call_patch", custom=True)),
        responses_reply(
            Call("update_plan", json.dumps({"plan": done_plan}), "call_plan2"),
            Call("shell", json.dumps({"command": ["python3", "-c",
                                                  "import app; print(app.greet())"]}),
                 "call_check")),
        responses_text("The greeting is now 'hello'."))
    run = run_exec("--json", "make the greeting say hello", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    assert [e["type"] for e in run.events][:2] == ["thread.started", "turn.started"]
    assert run.events[-1]["type"] == "turn.completed"
    assert run.events[-1]["usage"]["input_tokens"] == 40  # 4 requests x 10
    assert (workspace / "app.py").read_text() == \
        "def greet():\n    greeting = 'hello'\n    return greeting\n"
    grep, check = run.items("command_execution")
    assert grep["exit_code"] == 0 and "2:    greeting = 'hi'" in grep["aggregated_output"]
    assert check["exit_code"] == 0 and "hello" in check["aggregated_output"]
    (change,) = run.items("file_change")
    assert change["status"] == "completed" and change["changes"][0]["kind"] == "update"
    (started,) = run.items("todo_list", "item.started")
    (updated,) = run.items("todo_list", "item.updated")
    (final,) = run.items("todo_list")
    assert started["id"] == updated["id"] == final["id"]
    assert all(entry["completed"] for entry in final["items"])
    assert [m["text"] for m in run.items("agent_message")] == [
        "Found it on line 2; patching.", "The greeting is now 'hello'."]
    ids = [e["item"]["id"] for e in run.events if e["type"] == "item.completed"]
    assert len(ids) == len(set(ids))
    assert len(model_server.requests) == 4  # every request's calls answered: see fixture


def test_exec_policy_forbids_a_command(run_exec, model_server: ModelServer, workspace: Path,
                                       codex_home: Path) -> None:
    (codex_home / "rules").mkdir()
    (codex_home / "rules" / "default.toml").write_text(
        '[[rule]]\nid = "no-rm"\npattern = ["rm"]\ndecision = "forbidden"\n'
        'justification = "deleting files is not allowed here"\n')
    (workspace / "keep.txt").write_text("precious\n")
    model_server.enqueue(responses_function_call("shell", {"command": ["rm", "keep.txt"]}, "c1"),
                         responses_text("Could not delete."))
    run = run_exec("--json", "delete it", global_args=WRITE)
    assert run.returncode == 0, run.stderr
    (done,) = run.items("command_execution")
    assert done["status"] == "declined"
    assert "deleting files is not allowed here" in done["aggregated_output"]
    assert (workspace / "keep.txt").read_text() == "precious\n"
    assert "deleting files is not allowed here" in _outputs(model_server.requests[1].json)["c1"]


def test_bad_rule_file_is_a_usage_error_before_any_session(run_exec, model_server: ModelServer,
                                                           codex_home: Path) -> None:
    (codex_home / "rules").mkdir()
    bad = codex_home / "rules" / "default.toml"
    bad.write_text('[[rule]]\npattern = ["rm"]\ndecision = "maybe"\n')
    run = run_exec("--json", "hi")
    assert run.returncode == 2
    assert str(bad) in run.stderr
    assert_valid_events(run.events)
    assert [e["type"] for e in run.events] == ["error"] and str(bad) in run.events[0]["message"]
    assert model_server.requests == []
    assert not (codex_home / "sessions").exists()
