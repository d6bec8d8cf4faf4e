"""The environment allow-list: unit rules, then what a confined command really sees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sbx_support import codex, needs_sandbox

from codex.sandbox.env import DEFAULT_PATH, looks_like_credential, scrub

PLANTED = {
    "OPENAI_API_KEY": "sk-planted", "AWS_SECRET_ACCESS_KEY": "aws-planted",
    "GITHUB_TOKEN": "ghp-planted", "MY_DB_PASSWORD": "pw", "LC_SECRET_THING": "x",
    "SSH_AUTH_SOCK": "/tmp/agent.sock", "EDITOR": "vim", "LC_ALL": "C.UTF-8",
}


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "GH_TOKEN",
                                  "my_service_secret", "DB_PASSWORD", "NPM_CONFIG_TOKEN",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "PGPASSWORD",
                                  "SSH_AUTH_SOCK", "CODEX_HOME_TOKEN", "KUBECONFIG"])
def test_credential_names_are_recognised(name: str) -> None:
    assert looks_like_credential(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "USER"])
def test_allow_listed_names_are_not_credentials(name: str) -> None:
    assert not looks_like_credential(name)


def test_scrub_keeps_only_the_allow_list() -> None:
    env = scrub({"PATH": "/bin", "HOME": "/h", "EDITOR": "vim", "OPENAI_API_KEY": "k",
                 "LC_ALL": "C", "LC_TOKEN": "t"})
    assert env == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C"}


def test_config_names_pass_unless_they_look_like_credentials() -> None:
    env = scrub({"EDITOR": "vim", "API_KEY": "k"}, extra_names=["EDITOR", "API_KEY"])
    assert env == {"EDITOR": "vim", "PATH": DEFAULT_PATH}


def test_explicit_names_always_pass() -> None:
    env = scrub({"PATH": "/bin"}, explicit={"OPENAI_API_KEY": "chosen"})
    assert env["OPENAI_API_KEY"] == "chosen"


def _env_of(profile: str, ws: Path, *extra: str) -> dict[str, str]:
    environ = {**os.environ, **PLANTED}
    proc = codex("sandbox", "--profile", profile, "-C", str(ws), *extra, "--", "env",
                 cwd=ws, env=environ)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in proc.stdout.decode().splitlines() if "=" in line)


@needs_sandbox
@pytest.mark.parametrize("profile", ["offline", "workspace-write", "trusted"])
def test_confined_command_sees_no_planted_credential(profile: str, workspace: Path) -> None:
    seen = _env_of(profile, workspace)
    assert not set(seen) & (set(PLANTED) - {"LC_ALL"})
    assert seen.get("LC_ALL") == "C.UTF-8"
    assert seen.get("PATH")


@needs_sandbox
def test_write_profiles_get_a_private_tmpdir(workspace: Path) -> None:
    seen = _env_of("workspace-write", workspace)
    assert seen["TMPDIR"].startswith("/tmp/codex-sandbox-") or "codex-sandbox-" in seen["TMPDIR"]
    assert not Path(seen["TMPDIR"]).exists(), "the private TMPDIR must be removed after the run"


@needs_sandbox
def test_env_flag_passes_a_named_variable(workspace: Path) -> None:
    seen = _env_of("offline", workspace, "--env", "GITHUB_TOKEN", "--env", "EXTRA=1")
    assert seen["GITHUB_TOKEN"] == "ghp-planted"
    assert seen["EXTRA"] == "1"
    assert "OPENAI_API_KEY" not in seen
