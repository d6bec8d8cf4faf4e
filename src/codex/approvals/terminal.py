"""The approval prompt on the user's terminal.

It reads whole lines so it works the same on a real terminal, a pty and plain pipes. Answers:
`y` (approve once), `a` (approve this exact command for the session), `A` or `always` (approve
and save an allow rule), `n` (deny), `q` (abort the whole task). Ctrl-C aborts; end of input
denies. The command is shown with control characters escaped so a model cannot forge the prompt
with terminal escape sequences.
"""

from __future__ import annotations

import shlex
from typing import TextIO

from codex.approvals.approver import ApprovalRequest, RequestKind
from codex.policies import ReviewDecision

MAX_ATTEMPTS = 5
TTY_PATH = "/dev/tty"

_ANSWERS = {
    "y": ReviewDecision.APPROVED, "yes": ReviewDecision.APPROVED,
    "a": ReviewDecision.APPROVED_FOR_SESSION, "session": ReviewDecision.APPROVED_FOR_SESSION,
    "A": ReviewDecision.APPROVED_ALWAYS, "always": ReviewDecision.APPROVED_ALWAYS,
    "n": ReviewDecision.DENIED, "no": ReviewDecision.DENIED,
    "q": ReviewDecision.ABORT, "quit": ReviewDecision.ABORT, "abort": ReviewDecision.ABORT,
}


class NoTerminalError(Exception):
    """There is no controlling terminal to ask on."""


def parse_answer(answer: str) -> ReviewDecision | None:
    """The decision for a typed answer; only `a`/`A` differ by case (session vs always)."""
    exact = _ANSWERS.get(answer)
    if exact is not None or answer == "a":
        return exact
    return None if answer.lower() == "a" else _ANSWERS.get(answer.lower())


def printable(text: str) -> str:
    """`text` with every control or non-printable character shown as an escape."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _indented(text: str) -> str:
    """A multi-line reason (a patch diff) keeps its lines, each escaped and indented."""
    lines = text.splitlines() or [""]
    return "\n           ".join(printable(line.replace("\t", "    ")) for line in lines)


class TerminalApprover:
    """Asks on `input`/`output` (by default the controlling terminal, /dev/tty)."""

    def __init__(self, input_stream: TextIO, output_stream: TextIO) -> None:
        self._input = input_stream
        self._output = output_stream

    @classmethod
    def open_tty(cls) -> TerminalApprover:
        """An approver on /dev/tty; raises NoTerminalError when there is none."""
        try:
            reader = open(TTY_PATH, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as exc:
            raise NoTerminalError(f"cannot open {TTY_PATH}: {exc.strerror}") from None
        try:
            writer = open(TTY_PATH, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            reader.close()
            raise NoTerminalError(f"cannot open {TTY_PATH}: {exc.strerror}") from None
        return cls(reader, writer)

    @property
    def interactive(self) -> bool:
        """A human answers."""
        return True

    def request_approval(self, request: ApprovalRequest) -> ReviewDecision:
        """Show the request and read answers until one is valid (deny after MAX_ATTEMPTS)."""
        self._show(request)
        try:
            for _ in range(MAX_ATTEMPTS):
                self._write(self._choices(request))
                line = self._input.readline()
                if not line:
                    self._write("\n(no answer: denied)\n")
                    return ReviewDecision.DENIED
                decision = parse_answer(line.strip())
                if decision is ReviewDecision.APPROVED_ALWAYS and not request.offer_always:
                    decision = None
                if decision is not None:
                    return decision
                self._write(f"please answer {self._keys(request)}\n")
        except KeyboardInterrupt:
            self._write("\n(interrupted: aborting)\n")
            return ReviewDecision.ABORT
        self._write("(no valid answer: denied)\n")
        return ReviewDecision.DENIED

    def _show(self, request: ApprovalRequest) -> None:
        title = ("codex wants to run a command" if request.kind is RequestKind.RUN
                 else "codex wants to run a command OUTSIDE the sandbox")
        self._write(f"\n{title}\n"
                    f"  command: {printable(shlex.join(request.argv))}\n"
                    f"  cwd:     {printable(str(request.cwd))}\n"
                    f"  reason:  {_indented(request.reason)}\n")

    @staticmethod
    def _keys(request: ApprovalRequest) -> str:
        return "y, a, A, n or q" if request.offer_always else "y, a, n or q"

    @staticmethod
    def _choices(request: ApprovalRequest) -> str:
        always = "  [A] always (save a rule)" if request.offer_always else ""
        return f"[y] yes  [a] yes for this session{always}  [n] no  [q] abort > "

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()
