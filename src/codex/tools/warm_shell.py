"""Warm confinement: one confined sandbox helper kept ready for a session's next command.

Starting a helper (a second interpreter, then namespaces, mounts, Landlock, seccomp) costs
more than most commands the agent runs. After each sandboxed `shell` call the session
prepares the next helper in the background for the same policy and environment
(`codex.sandbox.runner.prepare(..., warm=True)`); the next call only sends its argv and
working directory, so it pays the command's own fork and exec. The guard chain is
unchanged: the command starts only after exec policy and approvals said yes.

A helper that does not serve the next request (the policy, environment or streams changed)
is abandoned and a fresh one is used. `close` (session end, Ctrl-C) abandons the helper: it
was started from the slot's own long-lived thread, so its parent-death signal also fires if
this process dies. A warm helper holds only its spec and status pipes (closed before the
command starts) and inherits nothing else (subprocess closes every other descriptor).
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace

from codex.sandbox.runner import PreparedRun, SandboxError, SandboxRequest, prepare


class WarmHelper:
    """The session's slot for one prepared helper."""

    def __init__(self) -> None:
        # One long-lived thread starts every helper: PR_SET_PDEATHSIG follows the thread
        # that forked the helper, so a short-lived thread would kill it on exit.
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codex-warm")
        self._lock = threading.Lock()
        self._pending: Future[PreparedRun | None] | None = None
        self._closed = False

    @staticmethod
    def usable(request: SandboxRequest) -> bool:
        """Only confined Linux runs are kept warm (trusted runs start no confinement)."""
        return sys.platform.startswith("linux") and request.policy.confined

    def take(self, request: SandboxRequest) -> PreparedRun | None:
        """The warm helper if it serves `request` (otherwise it is abandoned)."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return None
        try:
            run = pending.result()
        except (OSError, SandboxError):
            return None
        if run is None:
            return None
        if run.serves(request):
            return run
        run.abandon()
        return None

    def refill(self, request: SandboxRequest) -> None:
        """Start confining the next helper for `request`'s policy, in the background."""
        if not self.usable(request):
            return
        template = replace(request, prepared=None, on_network=None)
        with self._lock:
            if self._closed or self._pending is not None:
                return
            self._pending = self._starter.submit(self._start, template)

    def _start(self, request: SandboxRequest) -> PreparedRun | None:
        with self._lock:
            if self._closed:
                return None
        try:
            return prepare(request, warm=True)
        except (OSError, SandboxError):
            return None  # the next command then prepares its own helper, and reports why

    def close(self) -> None:
        """Abandon the warm helper and stop the starter thread; nothing stays behind."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, None
        if pending is not None:
            with suppress(OSError, SandboxError):
                run = pending.result()
                if run is not None:
                    run.abandon()
        self._starter.shutdown(wait=True)
