"""What the native binary imports at start. Stock Nuitka imports `inspect` (with ast, dis,
tokenize, ...) in main() on every start, about half of a `--version`; our build defers that to
the first `import inspect` (npm/scripts/nuitka_patches.py). Seen through PYTHONVERBOSE, which the
binary honours like python does: `import inspect # claimed responsibility (bytecode)`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_helpers import META_VERSION

pytestmark = pytest.mark.timeout(300)

IMPORT_LINE = re.compile(r"^import '?([\w.]+)'? #", re.M)


def run_verbose(binary: Path, home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str],
                                                               set[str]]:
    """Run with PYTHONVERBOSE=1; return the process and the names of the modules it imported."""
    env = {**os.environ, "PYTHONVERBOSE": "1", "CODEX_HOME": str(home)}
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env,
                          timeout=120)
    return proc, set(IMPORT_LINE.findall(proc.stderr))


def test_version_does_not_import_inspect(native_binary: Path, tmp_path: Path) -> None:
    proc, imported = run_verbose(native_binary, tmp_path, "--version")
    assert (proc.returncode, proc.stdout) == (0, f"codex {META_VERSION}\n"), proc.stderr[-2000:]
    assert "codex.__main__" in imported, "PYTHONVERBOSE showed no imports; the oracle is blind"
    assert "inspect" not in imported
    assert "ast" not in imported


def test_a_command_that_imports_inspect_still_works(native_binary: Path, tmp_path: Path) -> None:
    """typer inspects the command's signature, so `profiles` imports inspect (and with it the
    deferred Nuitka patching) and must still print the profile table."""
    proc, imported = run_verbose(native_binary, tmp_path, "profiles")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "workspace-write" in proc.stdout and "offline" in proc.stdout
    assert "inspect" in imported


# Python source for a C string literal: single quotes only.
PROBE = ("import sys; before = 'inspect' in sys.modules; import inspect, types; "
         "print('PROBE', before, type(inspect.getgeneratorstate).__name__, "
         "type(types.coroutine).__name__, file=sys.stderr)")


def test_inspect_is_still_patched_once_imported(native_binary: Path, tmp_path: Path) -> None:
    """Stop `--version` just before the interpreter shuts down and run Python in it (gdb; the
    binary exports the CPython API): inspect is not loaded yet, and importing it installs
    Nuitka's C replacements, as the eager patching did."""
    gdb = shutil.which("gdb")
    if gdb is None:
        pytest.skip("gdb is not installed; it is how this test runs code inside the binary")
    env = {**os.environ, "CODEX_HOME": str(tmp_path)}
    proc = subprocess.run(
        [gdb, "-q", "-batch", "-ex", "set breakpoint pending on", "-ex", "break Py_FinalizeEx",
         "-ex", "run", "-ex", f'call (int)PyRun_SimpleString("{PROBE}")',
         "--args", str(native_binary), "--version"],
        capture_output=True, text=True, env=env, timeout=240)
    if "Breakpoint 1," not in proc.stdout:
        pytest.skip(f"gdb could not run the binary to the breakpoint: {proc.stderr.strip()[-300:]}")
    assert "PROBE False builtin_function_or_method builtin_function_or_method" in proc.stderr, (
        proc.stdout[-1000:] + proc.stderr[-1000:])
