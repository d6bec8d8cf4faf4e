"""Run one ABI v1 (`wasi-command-json`) module call in wasmtime, within its limits.

The only module that imports `wasmtime` (its native library is ~30 MB to map): it is loaded
when a plugin runs, never on `codex --version`, `codex sandbox` or a session without plugins.

    run_module(wasm, RunSpec(...)) -> RunResult
        Compiles (cached per wasm SHA-256), checks the module's imports against what the spec
        links (anything else: `LinkRefused`, before any code runs), instantiates with WASI
        (stdin = the arguments, stdout captured up to max_output_bytes, stderr captured), only
        the preopened directories (read-only ones without write rights), only the env given,
        a memory cap (store limiter), fuel (when set) and a wall-clock deadline (epochs).
        Traps and limits end the run with `RunResult.stopped` saying which.

The host functions a module may import live in the `codex` import module; today that is
`codex.fetch`, linked only when the spec carries a fetch callback (a granted host).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex.plugins.wasmtime_lib import load_wasmtime

if TYPE_CHECKING:
    import wasmtime

WASI_MODULE = "wasi_snapshot_preview1"
HOST_MODULE = "codex"
FETCH_IMPORT = "fetch"
# Fuel when the manifest sets none: effectively unlimited, so the timeout is what stops a loop;
# fuel metering stays on so every call can report what it used.
UNLIMITED_FUEL = 2**62
_EPOCH_TICK_S = 0.01
_MAX_LOG_BYTES = 64 * 1024

# (url) -> body bytes, or an error code (< 0) the guest receives
FetchCallback = Callable[[str], "bytes | int"]


class LinkRefused(Exception):
    """The module imports something this plugin was not granted; nothing ran."""


@dataclass(frozen=True)
class Preopen:
    host: Path
    guest: str
    read_only: bool


@dataclass(frozen=True)
class RunSpec:
    argv: tuple[str, ...]
    stdin: bytes
    env: dict[str, str] = field(default_factory=dict)
    preopens: tuple[Preopen, ...] = ()
    memory_mb: int = 64
    timeout_ms: int = 5000
    fuel: int | None = None
    max_output_bytes: int = 1024 * 1024
    fetch: FetchCallback | None = None


@dataclass(frozen=True)
class RunResult:
    """How a run ended. `stopped` is None for a normal exit, else why the host stopped it:
    "timeout", "fuel", "memory", "output_limit" or "trap"."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    stopped: str | None
    detail: str
    fuel_used: int
    memory_bytes: int
    elapsed_ms: float


class _Engine:
    """One engine per process (compiled modules are tied to it) and its epoch ticker.

    Deadlines are counted in epoch ticks; the ticker thread runs only while calls are active."""

    def __init__(self) -> None:
        import wasmtime

        config = wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.modules: dict[str, wasmtime.Module] = {}
        self._lock = threading.Lock()
        self._active = 0
        self._ticker: threading.Thread | None = None

    def module(self, wasm: bytes, digest: str) -> wasmtime.Module:
        import wasmtime

        with self._lock:
            cached = self.modules.get(digest)
        if cached is None:
            cached = wasmtime.Module(self.engine, wasm)
            with self._lock:
                self.modules[digest] = cached
        return cached

    def __enter__(self) -> _Engine:
        with self._lock:
            self._active += 1
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, daemon=True,
                                                name="codex-wasm-epoch")
                self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._active -= 1

    def _tick(self) -> None:
        while True:
            time.sleep(_EPOCH_TICK_S)
            with self._lock:
                if self._active == 0:
                    self._ticker = None
                    return
            self.engine.increment_epoch()


_ENGINE: _Engine | None = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> _Engine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = _Engine()
        return _ENGINE


def check_imports(module: wasmtime.Module, spec: RunSpec) -> None:
    """Refuse any import outside WASI and the granted host functions (fail closed)."""
    import wasmtime

    for imp in module.imports:
        if imp.module == WASI_MODULE and isinstance(imp.type, wasmtime.FuncType):
            continue
        if imp.module == HOST_MODULE and imp.name == FETCH_IMPORT and spec.fetch is not None:
            continue
        what = f"{imp.module}.{imp.name}"
        hint = (" (it is linked only when the plugin holds a host grant: codex plugin grant "
                "ID --host HOST)") if imp.module == HOST_MODULE and imp.name == FETCH_IMPORT \
            else ""
        raise LinkRefused(f"the module imports {what}, which this plugin was not granted{hint}")


def run_module(wasm: bytes, digest: str, spec: RunSpec) -> RunResult:
    """See the module docstring; PluginRuntimeMissing when wasmtime's library is absent."""
    load_wasmtime()
    import wasmtime

    shared = _engine()
    module = shared.module(wasm, digest)
    check_imports(module, spec)
    store = wasmtime.Store(shared.engine)
    store.set_limits(memory_size=spec.memory_mb * 1024 * 1024)
    fuel = spec.fuel if spec.fuel is not None else UNLIMITED_FUEL
    store.set_fuel(fuel)
    with tempfile.TemporaryDirectory(prefix="codex-plugin-") as tmp:
        stdin_path = Path(tmp) / "stdin.json"
        stdin_path.write_bytes(spec.stdin)
        wasi = wasmtime.WasiConfig()
        wasi.argv = list(spec.argv)
        wasi.env = sorted(spec.env.items())
        wasi.stdin_file = str(stdin_path)
        # Files, not wasmtime's custom-output callbacks: those call back into Python from
        # wasmtime's worker threads and can abort the process at interpreter exit.
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        wasi.stdout_file = str(out_path)
        wasi.stderr_file = str(err_path)
        for preopen in spec.preopens:
            wasi.preopen_dir(str(preopen.host), preopen.guest, fs_mutable=not preopen.read_only)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(shared.engine)
        linker.define_wasi()
        if spec.fetch is not None:
            _define_fetch(linker, spec.fetch)
        ticks = max(1, -(-spec.timeout_ms // int(_EPOCH_TICK_S * 1000))) + 1
        started = time.monotonic()
        exit_code: int | None = 0
        stopped: str | None = None
        detail = ""
        instance: wasmtime.Instance | None = None
        with shared:
            store.set_epoch_deadline(ticks)
            try:
                instance = linker.instantiate(store, module)
                start = instance.exports(store).get("_start")
                if not isinstance(start, wasmtime.Func):
                    raise LinkRefused("the module has no _start function (ABI v1 modules are "
                                      "WASI commands)")
                start(store)
            except wasmtime.ExitTrap as exc:
                exit_code = exc.code
            except wasmtime.Trap as exc:
                exit_code = None
                stopped, detail = _why_stopped(exc, store, fuel)
            except wasmtime.WasmtimeError as exc:
                exit_code = None
                detail = _last_line(str(exc))
                stopped = "memory" if "exceeds memory limits" in detail else "trap"
        elapsed = (time.monotonic() - started) * 1000
        memory = 0
        if instance is not None:
            exported = instance.exports(store).get("memory")
            if isinstance(exported, wasmtime.Memory):
                memory = exported.data_len(store)
        stdout = _read_capped(out_path, spec.max_output_bytes)
        stderr = _read_capped(err_path, _MAX_LOG_BYTES)
        if stopped is None and len(stdout) > spec.max_output_bytes:
            stopped, detail = "output_limit", f"output exceeded {spec.max_output_bytes} bytes"
        if stopped == "trap" and memory >= spec.memory_mb * 1024 * 1024 - 65536:
            stopped = "memory"
            detail = f"stopped at the memory limit ({spec.memory_mb} MB): {detail}"
    return RunResult(exit_code, stdout[:spec.max_output_bytes], stderr[:_MAX_LOG_BYTES],
                     stopped, detail,
                     fuel - store.get_fuel(), memory, elapsed)


def _why_stopped(exc: Any, store: wasmtime.Store, fuel: int) -> tuple[str, str]:
    import wasmtime

    code = exc.trap_code
    first = _last_line(str(exc))
    if code == wasmtime.TrapCode.INTERRUPT:
        return "timeout", "stopped at the time limit"
    if code == wasmtime.TrapCode.OUT_OF_FUEL or store.get_fuel() == 0:
        return "fuel", f"stopped after consuming all of its fuel ({fuel})"
    return "trap", first


def _last_line(message: str) -> str:
    """wasmtime puts the cause last, after the backtrace."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else message


def _define_fetch(linker: wasmtime.Linker, fetch: FetchCallback) -> None:
    """`codex.fetch(url_ptr, url_len, buf_ptr, buf_cap) -> i32`: body length, or < 0."""
    import wasmtime

    i32 = wasmtime.ValType.i32()

    def host_fetch(caller: wasmtime.Caller, url_ptr: int, url_len: int, buf_ptr: int,
                   buf_cap: int) -> int:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            return -4
        size = memory.data_len(caller)
        if url_ptr < 0 or url_len < 0 or url_ptr + url_len > size or buf_ptr < 0 \
                or buf_cap < 0 or buf_ptr + buf_cap > size:
            return -4
        url = bytes(memory.read(caller, url_ptr, url_ptr + url_len)).decode("utf-8", "replace")
        body = fetch(url)
        if isinstance(body, int):
            return body
        if len(body) > buf_cap:
            return -3
        memory.write(caller, body, buf_ptr)
        return len(body)

    linker.define_func(HOST_MODULE, FETCH_IMPORT,
                       wasmtime.FuncType([i32, i32, i32, i32], [i32]), host_fetch,
                       access_caller=True)


def _read_capped(path: Path, limit: int) -> bytes:
    """At most limit + 1 bytes of a captured stream (one more tells that it overflowed)."""
    try:
        with path.open("rb") as stream:
            return stream.read(limit + 1)
    except FileNotFoundError:
        return b""
