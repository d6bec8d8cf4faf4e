"""A real terminal for end-to-end tests: one private tmux server per test (its own socket),
one window running the command under test, keys sent and the pane (with its scrollback)
captured through the tmux CLI."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

STTY_DONE = "STTY-DONE"  # printed after `stty -a` has shown the modes the program left


class Tmux:
    def __init__(self, socket: Path, columns: int = 80, rows: int = 24) -> None:
        self.socket = socket
        self.columns = columns
        self.rows = rows

    def _run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                              text=True, timeout=30, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        """Run `argv` in a shell (so the pane outlives it: `stty -a` afterwards shows how
        the program left the terminal)."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        script = (f"cd {shlex.quote(str(cwd))}; env -i {exports} {shlex.join(argv)}; "
                  f"echo EXITED=$?; stty -a; echo {STTY_DONE}; sleep 600")
        self._run("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(self.columns),
                  "-y", str(self.rows), "bash", "--norc", "--noprofile", "-c", script)
        self._run("set-option", "-t", "t", "history-limit", "10000")

    def shell(self, env: dict[str, str], cwd: Path) -> None:
        """An interactive shell with job control (for Ctrl-Z / fg)."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self._run("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(self.columns),
                  "-y", str(self.rows), "-c", str(cwd),
                  f"env -i {exports} PS1='$ ' bash --norc --noprofile -i")

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, Escape, C-c, ...)."""
        self._run("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        self._run("send-keys", "-t", "t", "-l", text)

    def paste(self, text: str) -> None:
        """A bracketed paste (what a terminal sends when the user pastes)."""
        self._run("set-buffer", "-b", "p", text)
        self._run("paste-buffer", "-p", "-b", "p", "-t", "t")

    def pane_tty(self) -> str:
        """The path of the pane's terminal (its termios modes can be read from outside)."""
        return self._run("display-message", "-p", "-t", "t", "#{pane_tty}").strip()

    def resize(self, columns: int, rows: int) -> None:
        self._run("resize-window", "-t", "t", "-x", str(columns), "-y", str(rows))

    def capture(self, *, history: bool = True, escapes: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", "t"]
        if history:
            args += ["-S", "-", "-E", "-"]
        if escapes:
            args.append("-e")
        return self._run(*args)

    def screen(self) -> str:
        return self.capture(history=False)

    def wait(self, predicate: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.capture()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{text}")
            time.sleep(0.1)

    def wait_text(self, needle: str, timeout: float = 60.0) -> str:
        return self.wait(lambda text: needle in text, repr(needle), timeout)

    def wait_exit(self, timeout: float = 60.0) -> str:
        """The pane from the program's last `EXITED=<status>` line on, once `stty -a` has
        finished printing the terminal's modes below it (EXITED= alone comes first)."""
        text = self.wait(lambda t: STTY_DONE in t.split("EXITED=")[-1], "stty after the exit",
                         timeout)
        return "EXITED=" + text.split("EXITED=")[-1]

    def kill(self) -> None:
        self._run("kill-server", check=False)
