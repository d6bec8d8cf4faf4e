"""Instructions: base text, CODEX_HOME/AGENTS.md, project docs root → cwd, environment
context, the byte cap, and secrets kept out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from agent_helpers import rollout_files

from codex.agent.instructions import (
    BASE_INSTRUCTIONS,
    EnvironmentContext,
    build_instructions,
    discover_project_docs,
    project_root,
    read_user_doc,
)
from codex.audit import Scrubber
from support.model_server import ModelServer, responses_function_call, responses_text


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg" / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_docs_from_repository_root_down_to_cwd(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("root rules")
    (repo / "pkg" / "AGENTS.md").write_text("pkg rules")
    (repo / "pkg" / "sub" / "AGENTS.md").write_text("sub rules")
    docs = discover_project_docs(repo / "pkg" / "sub")
    assert [d.text for d in docs] == ["root rules", "pkg rules", "sub rules"]
    assert project_root(repo / "pkg" / "sub") == repo


def test_fallback_names_only_where_agents_md_is_missing(repo: Path) -> None:
    (repo / "CLAUDE.md").write_text("fallback at root")
    (repo / "pkg" / "AGENTS.md").write_text("agents in pkg")
    (repo / "pkg" / "CLAUDE.md").write_text("ignored: AGENTS.md wins")
    docs = discover_project_docs(repo / "pkg", fallback_names=["CLAUDE.md"])
    assert [d.text for d in docs] == ["fallback at root", "agents in pkg"]
    assert discover_project_docs(repo / "pkg", fallback_names=[])[0].text == "agents in pkg"


def test_byte_cap_applies_across_all_project_docs(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("a" * 30)
    (repo / "pkg" / "AGENTS.md").write_text("b" * 30)
    (repo / "pkg" / "sub" / "AGENTS.md").write_text("c" * 30)
    docs = discover_project_docs(repo / "pkg" / "sub", max_bytes=45)
    assert [(d.text, d.truncated) for d in docs] == [("a" * 30, False), ("b" * 15, True)]
    assert discover_project_docs(repo / "pkg" / "sub", max_bytes=0) == []


def test_outside_git_only_the_working_directory_counts(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("parent, not a repo")
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "AGENTS.md").write_text("here")
    assert [d.text for d in discover_project_docs(tmp_path / "here")] == ["here"]


def test_order_and_environment_block(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "AGENTS.md").write_text("user rules")
    (repo / "AGENTS.md").write_text("project rules")
    text = build_instructions(
        user_doc=read_user_doc(home), project_docs=discover_project_docs(repo),
        environment=EnvironmentContext(repo, "workspace-write", "never", False, "bash"),
        scrubber=Scrubber.secrets_only({}))
    assert text.startswith(BASE_INSTRUCTIONS)
    assert text.index("user rules") < text.index("project rules") < text.index(
        "<environment_context>")
    assert text.endswith("<approval_policy>never</approval_policy>\n"
                         "  <network_access>restricted</network_access>\n  <shell>bash</shell>\n"
                         "</environment_context>")


def test_secrets_never_reach_the_model_or_the_rollout(run_exec, model_server: ModelServer,
                                                      workspace: Path,
                                                      codex_home: Path) -> None:
    secret = "tok-Zq81-very-secret-value"
    (codex_home / "AGENTS.md").write_text(f"my token is {secret}\n")
    (workspace / "AGENTS.md").write_text("project: run the tests")
    (workspace / "creds.txt").write_text(f"SERVICE_TOKEN={secret}\n")
    model_server.enqueue(
        responses_function_call("shell", {"command": ["cat", "creds.txt"]}, "call_1"),
        responses_text("done"))
    run = run_exec("--json", f"use {secret} carefully", env={"MY_SERVICE_TOKEN": secret})
    assert run.returncode == 0, run.stderr
    bodies = [r.body.decode() for r in model_server.requests]
    assert all(secret not in body for body in bodies)
    assert "[REDACTED]" in model_server.requests[0].json["instructions"]
    assert "project: run the tests" in model_server.requests[0].json["instructions"]
    (path,) = rollout_files(codex_home)
    assert secret not in path.read_text()
