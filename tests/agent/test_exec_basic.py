"""`codex exec` as a user runs it: prompts, output modes, files it writes, usage errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from agent_helpers import ExecRun, assert_valid_events, rollout_files, rollout_lines

from support.model_server import (
    ModelServer,
    Text,
    Thought,
    chat_reply,
    responses_reply,
    responses_text,
)

pytestmark = pytest.mark.timeout(120)


def test_plain_answer_json(run_exec, model_server: ModelServer, codex_home: Path,
                           workspace: Path) -> None:
    model_server.enqueue(responses_text("Hello from the model."))
    run: ExecRun = run_exec("--json", "say hello")
    assert run.returncode == 0, run.stderr
    assert_valid_events(run.events)
    types = [e["type"] for e in run.events]
    assert types == ["thread.started", "turn.started", "item.completed", "turn.completed"]
    assert run.items("agent_message") == [
        {"id": "item_0", "type": "agent_message", "text": "Hello from the model."}]
    usage = run.events[-1]["usage"]
    assert usage == {"input_tokens": 10, "cached_input_tokens": 0,
                     "cache_write_input_tokens": 0, "output_tokens": 5,
                     "reasoning_output_tokens": 0}
    assert list(usage) == ["input_tokens", "cached_input_tokens", "cache_write_input_tokens",
                           "output_tokens", "reasoning_output_tokens"]  # the Codex CLI's order
    # the request: our instructions, the prompt as a user message, the tools
    body = model_server.requests[0].json
    assert body["input"] == [{"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": "say hello"}]}]
    assert "You are codex" in body["instructions"]
    assert f"<cwd>{workspace}</cwd>" in body["instructions"]
    assert {t["name"] for t in body["tools"]} == {"shell", "apply_patch", "update_plan"}
    assert body["prompt_cache_key"] == run.events[0]["thread_id"]
    # the rollout: private file and directories, meta first, then the conversation
    (path,) = rollout_files(codex_home)
    assert path.name.endswith(f"-{run.events[0]['thread_id']}.jsonl")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (path.parent, path.parent.parent, path.parent.parent.parent,
                      codex_home / "sessions"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    lines = rollout_lines(path)
    meta = lines[0]["payload"]
    assert lines[0]["type"] == "session_meta"
    assert meta["id"] == run.events[0]["thread_id"]
    assert meta["cwd"] == str(workspace)
    assert meta["model_provider"] == "loop"
    assert meta["security_profile"] == "offline"
    assert meta["instructions_hash"].startswith("sha256:")
    assert meta["cli_version"]
    items = [line["payload"] for line in lines if line["type"] == "response_item"]
    assert items == [body["input"][0],
                     {"type": "message", "role": "assistant", "content": "Hello from the model."}]
    assert lines[-1]["type"] == "turn_end" and lines[-1]["payload"]["status"] == "completed"


def test_human_output_answer_on_stdout_progress_on_stderr(run_exec,
                                                          model_server: ModelServer) -> None:
    model_server.enqueue(responses_reply(Thought(("Thinking about greetings",)),
                                         Text("Hi there, friend.")))
    run = run_exec("greet me")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Hi there, friend.\n"
    assert "Thinking about greetings" in run.stderr
    assert "tokens used: 10 input (0 cached), 5 output" in run.stderr


def test_prompt_from_stdin_dash_and_piped(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("one"), responses_text("two"))
    assert run_exec("--json", "-", stdin="from a dash\n").returncode == 0
    assert run_exec("--json", stdin="piped, no prompt").returncode == 0
    texts = [r.json["input"][0]["content"][0]["text"] for r in model_server.requests]
    assert texts == ["from a dash\n", "piped, no prompt"]


def test_output_last_message_file_and_schema(run_exec, model_server: ModelServer,
                                             tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"], "additionalProperties": False}
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema))
    model_server.enqueue(responses_text('{"answer": "42"}'))
    out = tmp_path / "last.txt"
    run = run_exec("--json", "--output-schema", str(schema_file), "-o", str(out), "answer")
    assert run.returncode == 0, run.stderr
    assert out.read_text() == '{"answer": "42"}\n'
    text_format = model_server.requests[0].json["text"]["format"]
    assert text_format["type"] == "json_schema"
    assert text_format["schema"] == schema


@pytest.mark.parametrize("content, problem", [("{not json", "not valid JSON"),
                                              ("[1, 2]", "must be a JSON object")])
def test_bad_output_schema_is_a_usage_error(run_exec, model_server: ModelServer,
                                            tmp_path: Path, content: str, problem: str) -> None:
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(content)
    run = run_exec("--output-schema", str(schema_file), "hi")
    assert run.returncode == 2
    assert problem in run.stderr and str(schema_file) in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert model_server.requests == []


def test_refuses_outside_git_repository_without_flag(run_exec, model_server: ModelServer,
                                                     tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    run = run_exec("hi", global_args=["-C", str(outside)])
    assert run.returncode == 2
    assert "--skip-git-repo-check" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert model_server.requests == []
    model_server.enqueue(responses_text("ok"))
    run = run_exec("--skip-git-repo-check", "hi", global_args=["-C", str(outside)])
    assert run.returncode == 0, run.stderr
    assert run.stdout == "ok\n"


@pytest.mark.parametrize("args, problem", [
    (["one", "two"], "quote the prompt"),
    (["--last", "hi"], "--last only goes with `resume`"),
    (["resume"], "resume needs a session"),
])
def test_usage_errors(run_exec, model_server: ModelServer, args: list[str],
                      problem: str) -> None:
    run = run_exec(*args)
    assert run.returncode == 2
    assert problem in run.stderr
    assert model_server.requests == []


def test_empty_stdin_prompt_is_a_usage_error(run_exec, model_server: ModelServer) -> None:
    run = run_exec("-", stdin="  \n")
    assert run.returncode == 2
    assert "empty" in run.stderr


def test_model_flag_and_exec_level_profile(run_exec, model_server: ModelServer,
                                           codex_home: Path) -> None:
    model_server.enqueue(responses_text("ok"))
    run = run_exec("-m", "my-model", "-s", "workspace-write", "--json", "hi")
    assert run.returncode == 0, run.stderr
    body = model_server.requests[0].json
    assert body["model"] == "my-model"
    assert "<security_profile>workspace-write</security_profile>" in body["instructions"]
    meta = rollout_lines(rollout_files(codex_home)[0])[0]["payload"]
    assert (meta["model"], meta["security_profile"]) == ("my-model", "workspace-write")


def test_oss_uses_the_local_chat_provider(run_exec, model_server: ModelServer,
                                          codex_home: Path) -> None:
    model_server.enqueue(chat_reply("local model here"))
    run = run_exec("--oss", "--json", "hi", env={"CODEX_OSS_BASE_URL": model_server.url})
    assert run.returncode == 0, run.stderr
    request = model_server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.json["model"] == "gpt-oss:20b"
    assert run.items("agent_message")[0]["text"] == "local model here"
    meta = rollout_lines(rollout_files(codex_home)[0])[0]["payload"]
    assert meta["model_provider"] == "oss"


def test_model_text_cannot_drive_the_terminal(run_exec, model_server: ModelServer) -> None:
    model_server.enqueue(responses_text("red \x1b[31malert\x1b[0m and a bell\x07"))
    run = run_exec("hi")
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert run.stdout == "red \\x1b[31malert\\x1b[0m and a bell\\x07\n"


def test_missing_api_key_is_one_clear_line(workspace: Path, codex_home: Path) -> None:
    import subprocess
    import sys

    from agent_helpers import exec_env

    proc = subprocess.run([sys.executable, "-m", "codex", "-C", str(workspace), "exec", "hi"],
                          capture_output=True, text=True, env=exec_env(codex_home), timeout=60)
    assert proc.returncode == 1
    assert "OPENAI_API_KEY" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert rollout_files(codex_home) == []


def test_output_schema_on_chat_completions(run_exec, model_server: ModelServer,
                                           tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema))
    model_server.enqueue(chat_reply('{"ok": true}'))
    run = run_exec("--json", "--output-schema", str(schema_file), "check", wire_api="chat")
    assert run.returncode == 0, run.stderr
    response_format = model_server.requests[0].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == schema
    assert run.items("agent_message")[0]["text"] == '{"ok": true}'
