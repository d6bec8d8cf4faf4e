#!/usr/bin/env python3
"""WASM plugin benchmark: what a plugin tool call costs over running the same wasm function
directly in-process, and what the plugin runtime weighs in the npm packages.

The module is the one `codex doctor` self-tests with (stdin copied to stdout through WASI), as
an installed, granted plugin with one tool. In one run:
  direct     wasmtime in this process: a fresh Store + WASI + instantiate + `_start` per call
             (the module compiled once), the floor any isolated call pays;
  warm       `PluginHost.call` in this process: manifest and hash check, grant check, audit
             record, limits, the same run (what a session pays per call after the first);
  cold       `codex plugin run ID TOOL --json ...` as a new process (the native binary when
             built, with the runtime library the npm launcher would pass, else `python -m codex`).
Ratios are against `direct`. Sizes: the platform package and the plugin runtime package as
gzipped tarballs of vendor/<triple>/codex and vendor/<triple>/plugin-runtime (npm pack gzips
the same files), against the 40 MB platform package budget.

Usage: bench/plugins.py [--runs N] [--json] [--smoke]
--smoke (CI): 3 runs of each, to prove the bench still runs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from codex.audit import AuditLog  # noqa: E402
from codex.plugins.host import PluginHost  # noqa: E402
from codex.plugins.selftest import ECHO_WAT  # noqa: E402
from codex.plugins.wasmtime_lib import RUNTIME_ENV, load_wasmtime  # noqa: E402

ARGUMENTS = {"text": "hello from the benchmark"}
BUDGET_BYTES = 40 * 1000 * 1000


def host_triple() -> str:
    sys.path.insert(0, str(REPO / "npm" / "scripts"))
    from build_native import host_triple as triple

    name: str = triple()
    return name


def write_plugin(directory: Path) -> None:
    load_wasmtime()
    import wasmtime

    wasm = bytes(wasmtime.wat2wasm(ECHO_WAT))
    directory.mkdir(parents=True)
    (directory / "echo.wasm").write_bytes(wasm)
    (directory / "plugin.toml").write_text(
        '[plugin]\nid = "echo"\nversion = "1.0.0"\nwasm = "echo.wasm"\n'
        f'sha256 = "{hashlib.sha256(wasm).hexdigest()}"\nabi = "wasi-command-json"\n\n'
        '[[tools]]\nname = "echo"\ndescription = "returns its arguments"\n'
        'annotations = { read_only = true }\n\n[limits]\nmemory_mb = 16\ntimeout_ms = 5000\n')


def direct_calls(runs: int) -> list[float]:
    load_wasmtime()
    import wasmtime

    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, bytes(wasmtime.wat2wasm(ECHO_WAT)))
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    payload = json.dumps(ARGUMENTS).encode()
    samples = []
    with tempfile.TemporaryDirectory() as scratch:
        stdin, stdout = Path(scratch) / "in", Path(scratch) / "out"
        for _ in range(runs):
            start = time.perf_counter()
            stdin.write_bytes(payload)
            wasi = wasmtime.WasiConfig()
            wasi.stdin_file = str(stdin)
            wasi.stdout_file = str(stdout)
            store = wasmtime.Store(engine)
            store.set_wasi(wasi)
            linker.instantiate(store, module).exports(store)["_start"](store)  # type: ignore[operator]
            assert json.loads(stdout.read_bytes()) == ARGUMENTS
            samples.append(time.perf_counter() - start)
    return samples


def warm_calls(home: Path, workspace: Path, runs: int) -> list[float]:
    host = PluginHost(home, workspace, audit=AuditLog(home), session_id="bench")
    samples = []
    for _ in range(runs + 1):  # the first call compiles the module: not warm
        start = time.perf_counter()
        outcome = host.call("echo", "echo", ARGUMENTS)
        samples.append(time.perf_counter() - start)
        assert outcome.ok and outcome.result == ARGUMENTS, outcome.error
    return samples[1:]


def codex_command() -> tuple[list[str], dict[str, str], str]:
    """The native binary with the runtime package's library, else the Python package."""
    triple = host_triple()
    binary = REPO / "vendor" / triple / "codex" / "codex"
    runtime = sorted((REPO / "vendor" / triple / "plugin-runtime").glob("wasmtime/*/*"))
    if binary.exists() and runtime:
        return [str(binary)], {RUNTIME_ENV: str(runtime[0])}, "native"
    return [sys.executable, "-m", "codex"], {"PYTHONPATH": str(REPO / "src")}, "python"


def cold_calls(home: Path, workspace: Path, runs: int) -> tuple[list[float], str]:
    argv, extra, kind = codex_command()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODEX_")},
           "CODEX_HOME": str(home), **extra}
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([*argv, "plugin", "run", "echo", "echo", "--json",
                               json.dumps(ARGUMENTS)], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0 or json.loads(proc.stdout) != ARGUMENTS:
            raise SystemExit(f"bench/plugins.py: codex plugin run failed: {proc.stderr.strip()}")
    return samples, kind


def install(home: Path, workspace: Path, source: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODEX_")},
           "CODEX_HOME": str(home), "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "codex", "plugin", "install", str(source),
                           "--yes"], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench/plugins.py: install failed: {proc.stderr.strip()}")


def gzipped_size(directory: Path) -> int | None:
    if not directory.is_dir():
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as tar:
        tar.add(directory, arcname="package")
    return buffer.tell()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="3 runs of each (CI)")
    args = parser.parse_args()
    runs = 3 if args.smoke else args.runs
    with tempfile.TemporaryDirectory() as scratch:
        home, workspace = Path(scratch) / "home", Path(scratch) / "ws"
        home.mkdir()
        workspace.mkdir()
        write_plugin(Path(scratch) / "echo")
        install(home, workspace, Path(scratch) / "echo")
        direct = statistics.median(direct_calls(runs))
        warm = statistics.median(warm_calls(home, workspace, runs))
        cold_samples, kind = cold_calls(home, workspace, runs)
        cold = statistics.median(cold_samples)
    triple = host_triple()
    platform = gzipped_size(REPO / "vendor" / triple / "codex")
    runtime = gzipped_size(REPO / "vendor" / triple / "plugin-runtime")
    result = {
        "runs": runs, "direct_ms": direct * 1000, "warm_ms": warm * 1000, "cold_ms": cold * 1000,
        "cold_entry": kind, "warm_ratio": warm / direct, "cold_ratio": cold / direct,
        "platform_package_bytes": platform, "plugin_runtime_package_bytes": runtime,
        "platform_with_runtime_bytes": platform + runtime if platform and runtime else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"plugin tool call, median of {runs}")
    print(f"  direct wasmtime call in-process   {direct * 1000:8.2f} ms  x1.0")
    print(f"  warm PluginHost.call              {warm * 1000:8.2f} ms  x{warm / direct:.2f}")
    print(f"  cold codex plugin run ({kind:<6})   {cold * 1000:8.2f} ms  x{cold / direct:.2f}")
    for label, size in (("platform package", platform), ("plugin runtime package", runtime)):
        shown = f"{size / 1e6:.1f} MB" if size else "not built (npm/scripts/build_native.py)"
        print(f"  {label:<24} {shown} gzipped")
    if platform and runtime:
        verdict = "fits" if platform + runtime <= BUDGET_BYTES else "does not fit"
        print(f"  both together {(platform + runtime) / 1e6:.1f} MB: {verdict} the 40 MB "
              f"platform budget, so the runtime ships as its own optional package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
