"""`codex exec` takes what the TypeScript SDK `@openai/codex-sdk` sends (every flag and variable
of its published `dist/index.js`) and reports what it reads, as the Codex CLI 0.169-0.171 does:
five usage counts, item.started for patches, thread totals after `resume`. The SDK itself runs
against us in tests/sdk; these check the bytes on the wire and on disk."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from agent_helpers import ExecRun, assert_valid_events, exec_env, rollout_files, rollout_lines

from support.model_server import (
    Call,
    ModelServer,
    responses_custom_tool_call,
    responses_reply,
    responses_text,
    usage_json,
)

pytestmark = pytest.mark.timeout(120)
USAGE_FIELDS = ["input_tokens", "cached_input_tokens", "cache_write_input_tokens",
                "output_tokens", "reasoning_output_tokens"]


def _usage(input_tokens: int, output_tokens: int, cached: int, reasoning: int,
           cache_write: int) -> dict[str, object]:
    usage = usage_json(input_tokens, output_tokens, cached, reasoning)
    usage["input_tokens_details"] = {"cached_tokens": cached, "cache_write_tokens": cache_write}
    return usage


def _sdk_style(server: ModelServer, workspace: Path, codex_home: Path, *args: str,
               stdin: str, env: dict[str, str] | None = None) -> ExecRun:
    """`codex exec ARGS` with the openai provider pointed at `server` the way the SDK does it
    (`--config openai_base_url=...`), the prompt on stdin."""
    argv = [sys.executable, "-m", "codex", "exec", "--experimental-json",
            "--config", f'openai_base_url="{server.url}"', *args]
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, cwd=workspace,
                          env=exec_env(codex_home, env), timeout=90)
    return ExecRun(proc.returncode, proc.stdout, proc.stderr)


def test_every_flag_and_variable_the_sdk_sends(model_server: ModelServer, workspace: Path,
                                               codex_home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}},
                                  "required": ["ok"], "additionalProperties": False}))
    image = tmp_path / "dot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake-but-bytes")
    model_server.enqueue(responses_text('{"ok": true}'))
    run = _sdk_style(
        model_server, workspace, codex_home,
        "--config", 'model_reasoning_effort="high"',
        "--config", "sandbox_workspace_write.network_access=false",
        "--config", 'approval_policy="never"',
        "--model", "gpt-sdk", "--thread-source", "user", "--sandbox", "workspace-write",
        "--cd", str(workspace), "--add-dir", str(extra), "--skip-git-repo-check",
        "--output-schema", str(schema), "--cyber-access-program", "standard",
        "--image", str(image),
        stdin="answer as JSON",
        env={"CODEX_API_KEY": "sk-from-sdk", "OPENAI_API_KEY": "sk-not-this-one",
             "CODEX_INTERNAL_ORIGINATOR_OVERRIDE": "codex_sdk_ts"})
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    assert run.items("agent_message")[0]["text"] == '{"ok": true}'
    (request,) = model_server.requests
    assert request.headers["authorization"] == "Bearer sk-from-sdk"
    assert request.headers["originator"] == "codex_sdk_ts"
    body = request.json
    assert body["model"] == "gpt-sdk"
    assert body["reasoning"]["effort"] == "high"
    assert body["text"]["format"]["schema"]["required"] == ["ok"]
    (user,) = [i for i in body["input"] if i.get("role") == "user"]
    assert user["content"][0] == {"type": "input_text", "text": "answer as JSON"}
    assert user["content"][1]["image_url"] == "data:image/png;base64," + base64.b64encode(
        image.read_bytes()).decode()
    meta = rollout_lines(rollout_files(codex_home)[0])[0]["payload"]
    assert meta["originator"] == "codex_sdk_ts" and meta["thread_source"] == "user"
    assert meta["approval_policy"] == "never"


def test_add_dir_lets_workspace_write_write_there(model_server: ModelServer, workspace: Path,
                                                  codex_home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    patch = f"*** Begin Patch\n*** Add File: {extra}/made.txt\n+made\n*** End Patch\n"
    for flags in ([], ["--add-dir", str(extra)]):  # control run first: refused without it
        model_server.enqueue(responses_custom_tool_call("apply_patch", patch, "call_p"),
                             responses_text("done"))
        run = _sdk_style(model_server, workspace, codex_home, "--sandbox", "workspace-write",
                         *flags, stdin="write outside", env={"OPENAI_API_KEY": "sk-x"})
        assert run.returncode == 0, run.stderr
        assert (extra / "made.txt").exists() == bool(flags)


def test_unknown_flag_is_one_line_and_exit_2(model_server: ModelServer, workspace: Path,
                                             codex_home: Path) -> None:
    run = _sdk_style(model_server, workspace, codex_home, "--flag-from-a-newer-sdk", "x",
                     stdin="hi")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "--flag-from-a-newer-sdk" in run.stderr and "codex exec --help" in run.stderr
    assert run.stdout == "" and model_server.requests == []


@pytest.mark.parametrize("flags, problem", [
    (["--cyber-access-program", "purple"], "--cyber-access-program 'purple'"),
    (["--add-dir", "/nonexistent/dir"], "--add-dir /nonexistent/dir: not a directory"),
    (["--image", "/nonexistent/x.png"], "--image /nonexistent/x.png: cannot read it"),
])
def test_bad_sdk_flag_values_are_usage_errors(model_server: ModelServer, workspace: Path,
                                              codex_home: Path, flags: list[str],
                                              problem: str) -> None:
    run = _sdk_style(model_server, workspace, codex_home, *flags, stdin="hi")
    assert run.returncode == 2 and problem in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and model_server.requests == []


def test_usage_has_the_five_codex_counts(model_server: ModelServer, workspace: Path,
                                         codex_home: Path) -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n"
    model_server.enqueue(
        responses_reply(Call("apply_patch", patch, "call_p", custom=True),
                        usage=_usage(100, 20, 30, 7, 4)),
        responses_text("done", usage=_usage(50, 5, 10, 2, 1)))
    run = _sdk_style(model_server, workspace, codex_home, "--sandbox", "workspace-write",
                     stdin="go", env={"OPENAI_API_KEY": "sk-x"})
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    usage = run.events[-1]["usage"]
    assert list(usage) == USAGE_FIELDS
    assert usage == {"input_tokens": 150, "cached_input_tokens": 40,
                     "cache_write_input_tokens": 5, "output_tokens": 25,
                     "reasoning_output_tokens": 9}


def test_patch_is_started_in_progress_then_completed(model_server: ModelServer,
                                                     workspace: Path, codex_home: Path) -> None:
    (workspace / "old.txt").write_text("old\n")
    patch = ("*** Begin Patch\n*** Add File: new.txt\n+new\n*** Update File: old.txt\n@@\n-old\n"
             "+older\n*** End Patch\n")
    model_server.enqueue(responses_custom_tool_call("apply_patch", patch, "call_p"),
                         responses_text("done"))
    run = _sdk_style(model_server, workspace, codex_home, "--sandbox", "workspace-write",
                     stdin="go", env={"OPENAI_API_KEY": "sk-x"})
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    kinds = [(e["type"], e["item"]["type"]) for e in run.events if "item" in e]
    assert kinds[:2] == [("item.started", "file_change"), ("item.completed", "file_change")]
    (started,) = run.items("file_change", "item.started")
    (completed,) = run.items("file_change")
    assert started["status"] == "in_progress" and completed["status"] == "completed"
    assert started["id"] == completed["id"]
    assert started["changes"] == completed["changes"] == [
        {"path": str((workspace / "new.txt").resolve()), "kind": "add"},
        {"path": str((workspace / "old.txt").resolve()), "kind": "update"}]


def test_resumed_thread_reports_usage_of_the_whole_thread(model_server: ModelServer,
                                                          workspace: Path,
                                                          codex_home: Path) -> None:
    model_server.enqueue(responses_text("one", usage=_usage(100, 10, 20, 3, 2)),
                         responses_text("two", usage=_usage(200, 20, 40, 6, 4)))
    env = {"OPENAI_API_KEY": "sk-x"}
    first = _sdk_style(model_server, workspace, codex_home, stdin="first", env=env)
    thread_id = first.events[0]["thread_id"]
    second = _sdk_style(model_server, workspace, codex_home, "resume", thread_id,
                        stdin="second", env=env)
    assert second.returncode == 0, second.stderr
    assert second.events[0] == {"type": "thread.started", "thread_id": thread_id}
    assert first.events[-1]["usage"] == {
        "input_tokens": 100, "cached_input_tokens": 20, "cache_write_input_tokens": 2,
        "output_tokens": 10, "reasoning_output_tokens": 3}
    assert second.events[-1]["usage"] == {
        "input_tokens": 300, "cached_input_tokens": 60, "cache_write_input_tokens": 6,
        "output_tokens": 30, "reasoning_output_tokens": 9}
