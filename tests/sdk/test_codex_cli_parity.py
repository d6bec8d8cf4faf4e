"""Field for field against the OpenAI Codex CLI itself (0.171, the native binary from the npm
registry): the same scripted model replies go to `codex exec --json` of both, and the event
streams must have the same shape: event and item types, statuses, field names in order, and the
same usage numbers. Each side gets its own tool call name (the Codex CLI calls commands
`exec_command`; codex keeps `shell`), since that is the model's side, not the stream's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.model_server import Call, ModelServer, Text, responses_reply, usage_json

pytestmark = pytest.mark.timeout(240)
PATCH = ("*** Begin Patch\n*** Add File: new.txt\n+new\n*** Add File: old.txt\n+replaced\n"
         "*** End Patch\n")


def _openai_codex(sdk_dir: Path) -> Path:
    found = sorted((sdk_dir / "node_modules").glob("@openai/codex-*/vendor/*/bin/codex"))
    assert found, f"no OpenAI Codex CLI binary under {sdk_dir}"
    return found[0]


def _shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must match: types, statuses, field names (in order), usage; not ids or paths.
    Warnings the Codex CLI reports as error items about our test model are left out."""
    shape: list[tuple[Any, ...]] = []
    for event in events:
        item = event.get("item")
        if item is not None and item["type"] == "error":
            continue
        if item is None:
            shape.append((event["type"], tuple(event), event.get("usage")))
        else:
            shape.append((event["type"], item["type"], item.get("status"), tuple(item),
                          sorted((tuple(c), c["kind"]) for c in item.get("changes", ()))))
    return shape


def _run(argv: list[str], workspace: Path, home: Path) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update(CODEX_HOME=str(home), OPENAI_API_KEY="sk-parity", NO_COLOR="1")
    (workspace / "old.txt").write_text("old\n")
    proc = subprocess.run(argv, input="", capture_output=True, text=True, env=env,
                          cwd=workspace, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (workspace / "old.txt").read_text() == "replaced\n"  # both overwrite (Add File)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_exec_json_stream_has_the_codex_cli_shape(sdk_dir: Path, model_server: ModelServer,
                                                  tmp_path: Path) -> None:
    streams = []
    heredoc = "apply_patch <<'EOF'\n" + PATCH + "EOF\n"
    sides = {
        "openai": ([Call("exec_command", json.dumps({"cmd": "echo hi"}), "c1")],
                   [Call("exec_command", json.dumps({"cmd": heredoc}), "c2")]),
        "ours": ([Call("shell", json.dumps({"command": ["bash", "-lc", "echo hi"]}), "c1")],
                 [Call("apply_patch", PATCH, "c2", custom=True)]),
    }
    for side, (command, patch) in sides.items():
        model_server.enqueue(responses_reply(*command, usage=usage_json(100, 20, 30, 7)),
                             responses_reply(*patch, usage=usage_json(60, 8, 5, 1)),
                             responses_reply(Text("done"), usage=usage_json(50, 5, 10, 2)))
        workspace, home = tmp_path / side / "ws", tmp_path / side / "home"
        workspace.mkdir(parents=True)
        home.mkdir()
        subprocess.run(["git", "init", "-q", str(workspace)], check=True)
        provider = ["-c", "model_provider=loop",
                    "-c", f'model_providers.loop.base_url="{model_server.url}"',
                    "-c", 'model_providers.loop.name="loop"',
                    "-c", 'model_providers.loop.wire_api="responses"']
        program = [str(_openai_codex(sdk_dir))] if side == "openai" else \
            [sys.executable, "-m", "codex"]
        streams.append(_run([*program, "exec", "--json", "-s", "workspace-write", "-C",
                             str(workspace), *provider, "-m", "gpt-5.1-codex", "go"],
                            workspace, home))
        if side == "openai":
            # The Codex CLI's own requests are not under test (0.171 sends an `id` on input
            # messages, which the openai package's request types do not declare); ours are.
            model_server.violations.clear()
    theirs, ours = streams
    assert _shape(ours) == _shape(theirs)
    assert ours[-1]["usage"] == {"input_tokens": 210, "cached_input_tokens": 45,
                                 "cache_write_input_tokens": 0, "output_tokens": 33,
                                 "reasoning_output_tokens": 10}
