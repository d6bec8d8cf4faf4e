"""A tiny embedded module that proves the plugin runtime works in this build.

`codex doctor` runs it: on a native binary whose wasmtime library was left out, or a platform
whose wheel is broken, it reports the failure instead of the first plugin call failing later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

# Copies stdin to stdout through WASI, like a real ABI v1 tool.
ECHO_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 1024))
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))))
"""


@dataclass(frozen=True)
class SelfTest:
    ok: bool
    runtime: str
    detail: str


def run_self_test() -> SelfTest:
    """Load wasmtime, compile the embedded module, run it under limits, compare the echo."""
    try:
        from codex.plugins.wasmtime_lib import load_wasmtime

        load_wasmtime()
        import wasmtime

        from codex.plugins.runtime import RunSpec, run_module

        version = f"wasmtime {_version()}"
        wasm = bytes(wasmtime.wat2wasm(ECHO_WAT))
        payload = json.dumps({"self_test": True}).encode()
        result = run_module(wasm, hashlib.sha256(wasm).hexdigest(),
                            RunSpec(argv=("self-test",), stdin=payload, memory_mb=1,
                                    timeout_ms=10_000, fuel=1_000_000))
    except Exception as exc:  # any failure to load or run is what this test reports
        return SelfTest(False, "unavailable", f"{type(exc).__name__}: {exc}")
    if result.stdout != payload or result.exit_code != 0:
        return SelfTest(False, version, f"echo module returned {result.stdout!r} "
                                        f"(exit {result.exit_code}, {result.detail})")
    return SelfTest(True, version, f"echo module ran in {result.elapsed_ms:.1f} ms, "
                                   f"{result.fuel_used} fuel")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:  # a native build carries no dist-info
        return "bundled"
