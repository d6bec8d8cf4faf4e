"""A permission profile's filesystem rules, enforced by the kernel sandbox: "write" opens a
path outside the workspace, "read" keeps a workspace directory read-only, "deny" makes a
file unreadable. Judged by the files' bytes read from outside; each run twice, so the
second one goes through the settings cache (the fast lane) and must behave the same."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from escape_kit import codex_command

pytestmark = pytest.mark.timeout(120)

CONFIG = """\
default_permissions = "team"

[permissions.team]
extends = ":workspace"

[permissions.team.filesystem]
"{extra}" = "write"
":workspace_roots" = {{ "." = "write", "docs" = "read", "**/*.env" = "deny" }}
"""

SCRIPT = """
echo new > "$1/out.txt" && echo extra-written
echo changed > docs/readme.md || echo docs-refused
cat app.env || echo env-refused
echo ok > src.txt && echo ws-written
"""


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    home, ws, extra = tmp_path / "home", tmp_path / "ws", tmp_path / "extra"
    for d in (home, ws / "docs", extra):
        d.mkdir(parents=True)
    os.chmod(tmp_path, 0o755)
    for d in (home, ws, ws / "docs", extra):
        os.chmod(d, 0o777)
    (ws / "docs" / "readme.md").write_text("original\n")
    (ws / "app.env").write_text("SECRET=hunter2\n")
    (home / "config.toml").write_text(CONFIG.format(extra=extra))
    env = {**os.environ, "CODEX_HOME": str(home), "HOME": str(tmp_path)}
    return home, ws, extra, env


def test_rules_are_enforced_on_both_lanes(setup: tuple[Path, Path, Path, dict[str, str]]
                                          ) -> None:
    home, ws, extra, env = setup
    for attempt in range(2):
        (extra / "out.txt").unlink(missing_ok=True)
        (ws / "src.txt").unlink(missing_ok=True)
        proc = subprocess.run([*codex_command(), "sandbox", "--", "sh", "-c", SCRIPT, "sh",
                               str(extra)], cwd=ws, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        out = proc.stdout
        assert "extra-written" in out and (extra / "out.txt").read_text() == "new\n", \
            (attempt, proc.stdout, proc.stderr)
        assert "ws-written" in out and (ws / "src.txt").exists()
        assert "docs-refused" in out and (ws / "docs/readme.md").read_text() == "original\n"
        assert "env-refused" in out and "hunter2" not in out + proc.stderr
        assert (ws / "app.env").read_text() == "SECRET=hunter2\n"
    cache = home / "cache" / "sandbox-settings.json"
    assert '"team"' in cache.read_text()  # the second run could use the cached profile


def test_editing_the_profile_takes_effect_on_the_next_run(
        setup: tuple[Path, Path, Path, dict[str, str]]) -> None:
    """The settings cache is keyed by config.toml's bytes: a changed rule is never served
    from a stale entry."""
    home, ws, _extra, env = setup

    def attempt() -> str:
        return subprocess.run([*codex_command(), "sandbox", "--", "sh", "-c",
                               "echo edited > docs/readme.md && echo docs-written"], cwd=ws,
                              env=env, capture_output=True, text=True, timeout=60,
                              check=False).stdout

    assert "docs-written" not in attempt()
    assert "docs-written" not in attempt()  # cached
    config = home / "config.toml"
    config.write_text(config.read_text().replace('"docs" = "read"', '"docs" = "write"'))
    assert "docs-written" in attempt()
    assert (ws / "docs" / "readme.md").read_text() == "edited\n"
