"""`codex completion SHELL` scripts are valid and complete through the real mechanism."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

RunCodex = Callable[..., subprocess.CompletedProcess[str]]


def _launcher(tmp_path: Path) -> Path:
    """A `codex` on PATH that runs this interpreter's package, as an installed script would."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    launcher = bindir / "codex"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m codex "$@"\n')
    launcher.chmod(0o755)
    return bindir


def test_bash_script_is_valid_bash(run_codex: RunCodex, tmp_path: Path) -> None:
    result = run_codex("completion", "bash")
    assert result.returncode == 0
    script = tmp_path / "codex.bash"
    script.write_text(result.stdout)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True,
                           timeout=30, check=False)
    assert check.returncode == 0, check.stderr
    assert "complete -o default -F _codex_completion codex" in result.stdout


@pytest.mark.parametrize(
    ("line", "expected"),
    [("codex pro", {"profiles"}), ("codex con", {"config"}), ("codex config s", {"show"}),
     ("codex completion ", {"bash", "zsh", "fish"}),
     ("codex --profile work", {"workspace-write", "workspace-net", "workspace"}),
     ("codex -s d", {"danger-full-access"}),
     ("codex --config-profile f", {"fast", "fun"})],
)
def test_bash_completes_through_the_script(
    run_codex: RunCodex, codex_env: dict[str, str], codex_home: Path, tmp_path: Path,
    line: str, expected: set[str]
) -> None:
    (codex_home / "config.toml").write_text(
        "[profiles.fast]\n[profiles.fun]\n[profiles.slow]\n")
    script = tmp_path / "codex.bash"
    script.write_text(run_codex("completion", "bash").stdout)
    words = line.split(" ")
    driver = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_codex_completion codex\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**codex_env, "PATH": f"{_launcher(tmp_path)}{os.pathsep}{codex_env['PATH']}"}
    result = subprocess.run(["bash", "-c", driver], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    offered = {word for word in result.stdout.split() if word}
    assert expected <= offered, result.stdout + result.stderr
    assert all(word.startswith(words[-1]) for word in offered)


@pytest.mark.parametrize(("shell", "check"), [("zsh", ["zsh", "-n"]),
                                               ("fish", ["fish", "--no-execute"])])
def test_zsh_and_fish_scripts(run_codex: RunCodex, tmp_path: Path, shell: str,
                              check: list[str]) -> None:
    result = run_codex("completion", shell)
    assert result.returncode == 0
    assert "_CODEX_COMPLETE=complete_" + shell in result.stdout
    if shutil.which(check[0]) is None:
        pytest.skip(f"{check[0]} is not installed; syntax not checked")
    script = tmp_path / f"codex.{shell}"
    script.write_text(result.stdout)
    verdict = subprocess.run([*check, str(script)], capture_output=True, text=True,
                             timeout=30, check=False)
    assert verdict.returncode == 0, verdict.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_through_the_script(
    run_codex: RunCodex, codex_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "codex.fish"
    script.write_text(run_codex("completion", "fish").stdout)
    env = {**codex_env, "PATH": f"{_launcher(tmp_path)}{os.pathsep}{codex_env['PATH']}"}
    result = subprocess.run(
        ["fish", "--no-config", "-c", f'source {script}; complete -C "codex pro"'],
        env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["profiles"]
