"""A full `codex exec` turn that calls tools of real MCP servers (mcp-server-time from PyPI,
server-everything from npm) through the guards, with the scripted loopback model."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from mcp_tools import everything_server, py_server

from agent.agent_helpers import exec_command, exec_env
from codex.audit import audit_dir, read_entries
from support.model_server import (
    ChatCall,
    ModelServer,
    chat_reply,
    responses_function_call,
    responses_text,
)

pytestmark = pytest.mark.timeout(180)


def _outputs(body: dict) -> dict[str, str]:
    return {i["call_id"]: i["output"] for i in body["input"]
            if i["type"] == "function_call_output"}


def test_exec_calls_time_server_tool_and_uses_result(run_exec, write_config,
                                                     model_server: ModelServer,
                                                     codex_home: Path) -> None:
    write_config(f'[mcp_servers.time]\ncommand = "{py_server("mcp-server-time")}"\n'
                 'args = ["--local-timezone", "UTC"]\n')
    model_server.enqueue(
        responses_function_call("get_current_time", {"timezone": "Asia/Tokyo"}, "call_1",
                                namespace="mcp__time__"),
        responses_text("It is late in Tokyo."))
    run = run_exec("what time is it in Tokyo?")
    assert run.returncode == 0, run.stderr
    # the tools were offered in the server's namespace tool, with the server's schema
    tools = {t["name"]: t for t in model_server.requests[0].json["tools"]}
    space = tools["mcp__time__"]
    assert space["type"] == "namespace" and "mcp__time__get_current_time" not in tools
    members = {t["name"]: t for t in space["tools"]}
    assert set(members) == {"get_current_time", "convert_time"}
    assert "timezone" in members["get_current_time"]["parameters"]["properties"]
    # the call went back in the next request's input with its namespace (the loopback server
    # checks the whole request against the openai types)
    (echoed,) = [i for i in model_server.requests[1].json["input"]
                 if i["type"] == "function_call"]
    assert (echoed["namespace"], echoed["name"]) == ("mcp__time__", "get_current_time")
    # the server really answered: its JSON result went back to the model under the call id
    output = json.loads(_outputs(model_server.requests[1].json)["call_1"])
    assert output["timezone"] == "Asia/Tokyo" and "+09:00" in output["datetime"]
    # exec --json shows the call as the Codex CLI does: started, then completed
    (started,) = run.items("mcp_tool_call", "item.started")
    (done,) = run.items("mcp_tool_call")
    assert started == {"id": done["id"], "type": "mcp_tool_call", "server": "time",
                       "tool": "get_current_time", "arguments": {"timezone": "Asia/Tokyo"},
                       "result": None, "error": None, "status": "in_progress"}
    assert done["status"] == "completed" and done["error"] is None
    assert done["result"]["structured_content"]["timezone"] == "Asia/Tokyo"
    assert done["result"]["content"][0]["type"] == "text"
    # the read-only tool ran without asking, and the audit log says so
    entries = [e for e in read_entries(audit_dir(codex_home)) if e.operation == "mcp_call"]
    assert [e.decision for e in entries] == ["allowed"]
    assert entries[0].target.startswith("time/get_current_time args_sha256=")
    assert "readOnlyHint" in entries[0].reason


@pytest.mark.parametrize("wire_api", ["responses", "chat"])
def test_flat_names_without_namespace_tools(wire_api: str, write_config,
                                            model_server: ModelServer, workspace: Path,
                                            codex_home: Path) -> None:
    """Chat Completions, and a Responses provider with `namespace_tools = false`, get every
    MCP tool as a flat `mcp__<server>__<tool>` function, and its calls reach the server."""
    import subprocess

    write_config(f'[mcp_servers.time]\ncommand = "{py_server("mcp-server-time")}"\n')
    call = {"timezone": "Asia/Tokyo"}
    if wire_api == "chat":
        model_server.enqueue(
            chat_reply(calls=[ChatCall("mcp__time__get_current_time", json.dumps(call), "c1")]),
            chat_reply("ok"))
    else:
        model_server.enqueue(responses_function_call("mcp__time__get_current_time", call, "c1"),
                             responses_text("ok"))
    argv = exec_command(model_server, workspace, ["--json", "time?"], wire_api=wire_api,
                        provider=["-c", "model_providers.loop.namespace_tools=false"])
    done = subprocess.run(argv, capture_output=True, text=True, env=exec_env(codex_home),
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    first, second = (r.json for r in model_server.requests)
    if wire_api == "chat":
        names = {t["function"]["name"] for t in first["tools"]}
        output = next(m["content"] for m in second["messages"] if m["role"] == "tool")
    else:
        names = {t["name"] for t in first["tools"]}
        assert all(t["type"] != "namespace" for t in first["tools"])
        output = _outputs(second)["c1"]
    assert {"mcp__time__get_current_time", "mcp__time__convert_time"} <= names
    assert "+09:00" in json.loads(output)["datetime"]


def test_unannotated_tool_is_refused_without_an_approver(run_exec, write_config,
                                                        model_server: ModelServer,
                                                        codex_home: Path) -> None:
    # server-everything's toggle-simulated-logging is not read-only: exec cannot ask anyone
    write_config(f'[mcp_servers.every]\ncommand = "{everything_server()}"\n'
                 'args = ["stdio"]\n')
    model_server.enqueue(
        responses_function_call("mcp__every__toggle-simulated-logging", {}, "c1"),
        responses_text("ok"))
    run = run_exec("toggle")
    assert run.returncode == 0, run.stderr
    output = _outputs(model_server.requests[1].json)["c1"]
    assert "not made" in output and "nobody can be asked" in output
    (done,) = run.items("mcp_tool_call")
    assert done["status"] == "failed" and "nobody can be asked" in done["error"]["message"]
    decisions = [(e.operation, e.decision) for e in read_entries(audit_dir(codex_home))
                 if e.operation == "mcp_call"]
    assert decisions == [("mcp_call", "requires_approval"), ("mcp_call", "denied")]


def test_optional_server_down_is_one_warning_and_the_turn_goes_on(
        run_exec, write_config, model_server: ModelServer) -> None:
    write_config('[mcp_servers.broken]\ncommand = "/nonexistent/mcp-server"\n'
                 f'[mcp_servers.time]\ncommand = "{py_server("mcp-server-time")}"\n')
    model_server.enqueue(responses_text("fine"))
    run = run_exec("hi")
    assert run.returncode == 0, run.stderr
    (warning,) = [i["message"] for i in run.items("error")]
    assert "'broken' did not start" in warning and "left out" in warning
    names = {t["name"] for t in model_server.requests[0].json["tools"]}
    assert "mcp__time__" in names
    assert not any(n.startswith("mcp__broken") for n in names)


def test_required_server_down_stops_exec_with_its_stderr(run_exec, write_config,
                                                         model_server: ModelServer,
                                                         tmp_path: Path) -> None:
    script = tmp_path / "dies.sh"
    script.write_text("#!/bin/sh\necho 'cannot open the index' >&2\nexit 3\n")
    script.chmod(0o755)
    write_config(f'[mcp_servers.idx]\ncommand = "{script}"\nrequired = true\n')
    run = run_exec("hi")
    assert run.returncode == 1
    assert "'idx'" in run.stderr and "cannot open the index" in run.stderr
    assert "required" in run.stderr
    assert model_server.requests == []  # the model was never asked


def test_interrupt_cancels_a_running_mcp_call(write_config, model_server: ModelServer,
                                              workspace: Path, codex_home: Path) -> None:
    import signal
    import subprocess
    import time

    from mcp_tools import py_python

    odd = Path(__file__).with_name("servers") / "odd_server.py"
    write_config(f'[mcp_servers.odd]\ncommand = "{py_python()}"\nargs = ["{odd}"]\n')
    model_server.enqueue(responses_function_call("slow", {"seconds": 120}, "c1",
                                                 namespace="mcp__odd__"))
    proc = subprocess.Popen(exec_command(model_server, workspace, ["--json", "wait"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=exec_env(codex_home))
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until the call is running
        if '"item.started"' in line and "mcp_tool_call" in line:
            break
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    # cancelled on the server at once: not waited out (the turn's 10 s grace for threads,
    # then the server's 120 s)
    assert time.monotonic() - began < 8
    (failed,) = [json.loads(x) for x in out.splitlines() if '"turn.failed"' in x]
    assert "interrupted" in failed["error"]["message"]


def test_human_output_shows_the_mcp_call(write_config, model_server: ModelServer,
                                         workspace: Path, codex_home: Path) -> None:
    import subprocess

    write_config(f'[mcp_servers.time]\ncommand = "{py_server("mcp-server-time")}"\n')
    model_server.enqueue(
        responses_function_call("mcp__time__get_current_time", {"timezone": "UTC"}, "c1"),
        responses_text("Done."))
    done = subprocess.run(exec_command(model_server, workspace, ["what time"]),
                          capture_output=True, text=True, env=exec_env(codex_home), timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'mcp: time.get_current_time({"timezone": "UTC"})' in done.stderr
    assert "mcp: time.get_current_time done" in done.stderr
    assert done.stdout.strip() == "Done."


def _tiny_image_config(extra: str = "") -> str:
    return (f'[mcp_servers.every]\ncommand = "{everything_server()}"\nargs = ["stdio"]\n{extra}')


def test_image_result_reaches_the_model_as_image_input(run_exec, write_config,
                                                       model_server: ModelServer) -> None:
    """server-everything's get-tiny-image answers text, a PNG, text: the next request carries
    the text and the PNG (a data: URL in an input_image part of the function call output)."""
    write_config(_tiny_image_config())
    model_server.enqueue(
        responses_function_call("get-tiny-image", {}, "c1", namespace="mcp__every__"),
        responses_text("a logo"))
    run = run_exec("show me the image")
    assert run.returncode == 0, run.stderr
    (output,) = [i["output"] for i in model_server.requests[1].json["input"]
                 if i["type"] == "function_call_output"]
    texts = [p["text"] for p in output if p["type"] == "input_text"]
    (image,) = [p for p in output if p["type"] == "input_image"]
    assert "Here's the image you requested:" in texts[0] and "MCP logo" in texts[0]
    prefix = "data:image/png;base64,"
    assert image["image_url"].startswith(prefix)
    png = base64.b64decode(image["image_url"][len(prefix):])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    # exec --json keeps the MCP content as the server sent it
    (done,) = run.items("mcp_tool_call")
    assert base64.b64decode(done["result"]["content"][1]["data"]) == png


def test_image_over_the_output_limit_is_saved_to_a_file(run_exec, write_config,
                                                        model_server: ModelServer,
                                                        codex_home: Path) -> None:
    write_config(_tiny_image_config("output_token_limit = 500\n"))
    model_server.enqueue(
        responses_function_call("get-tiny-image", {}, "c1", namespace="mcp__every__"),
        responses_text("ok"))
    run = run_exec("show me the image")
    assert run.returncode == 0, run.stderr
    output = _outputs(model_server.requests[1].json)["c1"]
    assert isinstance(output, str) and "input_image" not in output  # text only
    assert "over the output limit of 500 tokens" in output
    saved = Path(output.split("it is saved in ")[1].split("]")[0])
    assert saved.is_relative_to(codex_home / "mcp" / "outputs")
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_image_result_on_chat_is_a_clear_note(write_config, model_server: ModelServer,
                                              workspace: Path, codex_home: Path) -> None:
    import subprocess

    write_config(_tiny_image_config())
    model_server.enqueue(chat_reply(calls=[ChatCall("mcp__every__get-tiny-image", "{}", "c1")]),
                         chat_reply("ok"))
    argv = exec_command(model_server, workspace, ["--json", "image?"], wire_api="chat")
    done = subprocess.run(argv, capture_output=True, text=True, env=exec_env(codex_home),
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    (tool,) = [m for m in model_server.requests[1].json["messages"] if m["role"] == "tool"]
    assert "[image: image/png," in tool["content"]
    assert "1 image(s) of this result not shown" in tool["content"]
