"""The stdio transport: a server process, one JSON-RPC message per line each way.

The process is started by a `launch` callable (the session starts it inside the sandbox:
`codex.sandbox.runner.start_piped`). Lines on stdout that are not JSON objects (a server that
prints a banner, a library that logs to stdout) are skipped and counted, not fatal; stderr is
drained continuously so a chatty server never blocks, and its last few KB are kept for error
messages. Closing follows the spec: close stdin, give the server a moment to exit, then kill.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import IO, Protocol

from codex.mcp.jsonrpc import ClosedSink, JsonObject, McpError, MessageSink

STDERR_TAIL_BYTES = 8 * 1024
_EXIT_GRACE_S = 2.0


class PipedProcess(Protocol):
    """What the transport needs of a started process (`codex.sandbox.runner.PipedRun`)."""

    @property
    def proc(self) -> _Popen: ...

    def stop(self) -> None: ...


class _Popen(Protocol):
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    def wait(self, timeout: float | None = None) -> int: ...

    def poll(self) -> int | None: ...


class StdioTransport:
    """See the module docstring."""

    def __init__(self, launch: Callable[[], PipedProcess]) -> None:
        self._launch = launch
        self._run: PipedProcess | None = None
        self._write_lock = threading.Lock()
        self._stderr: deque[bytes] = deque()
        self._stderr_size = 0
        self.skipped_lines = 0

    def start(self, on_message: MessageSink, on_closed: ClosedSink) -> None:
        """Launch on the reader thread, which lives as long as the server: the sandbox helper's
        parent-death signal fires when the *thread* that spawned it ends, so a short-lived
        thread (a startup pool) must not be the one that spawns."""
        launched = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._run = self._launch()
            except BaseException as exc:  # handed to the caller of start()
                failure.append(exc)
                return
            finally:
                launched.set()
            stderr = threading.Thread(target=self._read_stderr, args=(self._run,),
                                      name="codex-mcp-stderr", daemon=True)
            stderr.start()
            self._read_stdout(self._run, on_message, on_closed, stderr)

        threading.Thread(target=run, name="codex-mcp-stdout", daemon=True).start()
        launched.wait()
        if failure:
            raise failure[0]

    def send(self, message: JsonObject) -> None:
        run = self._run
        stdin = run.proc.stdin if run is not None else None
        if stdin is None:
            raise McpError("the server is not running")
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        with self._write_lock:
            try:
                stdin.write(line)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as exc:
                raise McpError(f"cannot write to the server: {exc}") from exc

    def close(self) -> None:
        run, self._run = self._run, None
        if run is None:
            return
        with suppress(OSError, ValueError):
            if run.proc.stdin is not None:
                run.proc.stdin.close()
        with suppress(Exception):
            run.proc.wait(timeout=_EXIT_GRACE_S)
        run.stop()

    def diagnostics(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace").strip()

    def set_protocol_version(self, version: str) -> None:
        """stdio carries no version header."""

    def _read_stdout(self, run: PipedProcess, on_message: MessageSink,
                     on_closed: ClosedSink, stderr: threading.Thread) -> None:
        stdout = run.proc.stdout
        assert stdout is not None
        with suppress(OSError, ValueError):
            for raw in stdout:
                for message in self._messages(raw):
                    on_message(message)
        code = None
        with suppress(Exception):
            code = run.proc.wait(timeout=_EXIT_GRACE_S)
        stderr.join(_EXIT_GRACE_S)  # its last words belong in the error that follows
        on_closed("the server exited" + (f" with status {code}" if code is not None else ""))

    def _messages(self, raw: bytes) -> list[JsonObject]:
        line = raw.strip()
        if not line:
            return []
        try:
            value = json.loads(line)
        except ValueError:
            self.skipped_lines += 1
            return []
        items = value if isinstance(value, list) else [value]
        messages = [m for m in items if isinstance(m, dict) and m.get("jsonrpc") == "2.0"]
        self.skipped_lines += len(items) - len(messages)
        return messages

    def _read_stderr(self, run: PipedProcess) -> None:
        stderr = run.proc.stderr
        assert stderr is not None
        with suppress(OSError, ValueError):
            while chunk := stderr.read1(65536) if hasattr(stderr, "read1") else stderr.read(
                    65536):
                self._stderr.append(chunk)
                self._stderr_size += len(chunk)
                while self._stderr_size - len(self._stderr[0]) >= STDERR_TAIL_BYTES:
                    self._stderr_size -= len(self._stderr.popleft())
