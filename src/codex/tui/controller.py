"""The TUI's side of a conversation: opens the session, runs turns, answers slash commands.

It owns no agent logic: prompts go to `codex.agent.run_task` exactly as `codex exec` sends
them, events come back through `Transcript`, approvals through `ApprovalBroker` into the
session's own guard chain, and switching model or policy calls `Session.reconfigure`.
Interrupting cancels the turn's task (the core closes the stream and kills the commands it
started) after releasing any approval the turn is blocked on. Prompts typed while a turn
runs are queued and sent, in order, when it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from codex.agent import LoadedRollout, Session, SessionSettings, load_rollout, run_task
from codex.approvals import ApprovalRequest
from codex.policies import ApprovalPolicy, ReviewDecision
from codex.protocol import AgentEvent, TurnCompleted, TurnFailed, UserInput
from codex.security.profiles import SecurityProfile, UnknownProfileError, parse_profile
from codex.tui import slash
from codex.tui.approval import ApprovalBroker
from codex.tui.cells import approval_result, header_cell, note, user_cell
from codex.tui.diffs import patch_cell, split_git_diff
from codex.tui.history import PromptHistory
from codex.tui.replay import replay_lines
from codex.tui.scrollback import Scrollback
from codex.tui.transcript import Transcript

INIT_PROMPT = (
    "Write an AGENTS.md file at the root of this repository for coding agents: how the "
    "project is laid out, how to build, test and lint it, and the conventions its code "
    "follows. Look at the repository first; keep it short and specific."
)
PICK_SESSION = Callable[[Path], Awaitable[Path | None]]


class Controller:
    """See the module docstring."""

    def __init__(self, settings: SessionSettings, broker: ApprovalBroker,
                 scrollback: Scrollback, *, context_window: int | None = None,
                 notifications: bool = False, extra_roots: tuple[Path, ...] = (),
                 history: PromptHistory | None = None) -> None:
        self.settings = settings
        self.extra_roots = extra_roots
        self.history = history
        self.broker = broker
        self.scrollback = scrollback
        self.context_window = context_window
        self.notifications = notifications
        self.transcript = Transcript(self._commit, settings.cwd)
        self.session: Session | None = None
        self._session_cm: AbstractAsyncContextManager[Session] | None = None
        self.turn: asyncio.Task[None] | None = None
        self.turn_started = 0.0
        self.queued: list[str] = []
        self._tasks: set[asyncio.Future[None]] = set()
        self.invalidate: Callable[[], None] = lambda: None
        self.exit: Callable[[], None] = lambda: None
        self.pick_session: PICK_SESSION | None = None
        self.insert_text: Callable[[str], None] = lambda text: None
        # Images (data: URLs) sent with the next prompt: `codex -i FILE`.
        self.attachments: tuple[str, ...] = ()

    # -- session lifetime ----------------------------------------------------------------

    async def open(self, resume: LoadedRollout | None = None) -> None:
        """Open a session (new, or continuing `resume`) and print its header."""
        cm = Session.open(self.settings, resume=resume)
        self.session = await cm.__aenter__()
        self._session_cm = cm
        self.transcript = Transcript(self._commit, self.settings.cwd)
        self._commit(header_cell(self._header_fields(resume is not None)))
        if resume is not None:
            self._commit(replay_lines(resume))
        self._commit([[]])
        if self.history is not None:
            self.history.session_id = self.session.id
        self._next_queued()

    async def close(self) -> None:
        """Stop the turn (if one runs) and close the session."""
        await self.stop_turn()
        cm, self._session_cm, self.session = self._session_cm, None, None
        if cm is not None:
            await cm.__aexit__(None, None, None)

    def _header_fields(self, resumed: bool) -> list[tuple[str, str]]:
        assert self.session is not None
        settings = self.session.settings
        return [("session", self.session.id + (" (resumed)" if resumed else "")),
                ("model", f"{settings.model} ({settings.provider_id})"),
                ("workdir", str(settings.cwd)),
                ("profile", settings.sandbox_policy.profile),
                ("approvals", settings.approval_policy.value)]

    # -- turns ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.turn is not None and not self.turn.done()

    def submit(self, text: str) -> None:
        """A prompt or slash command from the composer."""
        command = slash.parse(text)
        if command is not None:
            self._slash(*command)
            return
        if self.running or self.session is None:  # a turn runs, or the session is opening
            self.queued.append(text)
            self.invalidate()
            return
        self._start_turn(text)

    def _start_turn(self, text: str) -> None:
        if self.session is None:
            return
        images, self.attachments = self.attachments, ()
        self._commit([*user_cell(text)])
        if images:
            self._commit(note(f"with {len(images)} image{'s' if len(images) > 1 else ''}"))
        self.turn_started = time.monotonic()
        self.turn = asyncio.ensure_future(self._run_turn(self.session, text, images))
        self.invalidate()

    async def _run_turn(self, session: Session, text: str, images: tuple[str, ...]) -> None:
        try:
            await run_task(session, UserInput(text=text, images=images), self._emit)
        finally:
            self.broker.abort_all()
            self.invalidate()
            asyncio.get_running_loop().call_soon(self._next_queued)

    def _next_queued(self) -> None:
        if self.queued and not self.running and self.session is not None:
            self._start_turn(self.queued.pop(0))

    def _emit(self, event: AgentEvent) -> None:
        self.transcript.handle(event)
        if isinstance(event, TurnCompleted | TurnFailed):
            self.notify("codex: turn finished" if isinstance(event, TurnCompleted)
                        else "codex: turn stopped")
        self.invalidate()

    def interrupt(self) -> bool:
        """Stop the running turn (True when one was running)."""
        if not self.running:
            return False
        assert self.turn is not None
        self.broker.abort_all()
        self.turn.cancel()
        return True

    async def stop_turn(self) -> None:
        if self.turn is not None and self.interrupt():
            await asyncio.gather(self.turn, return_exceptions=True)

    # -- approvals -----------------------------------------------------------------------

    def answer(self, decision: ReviewDecision) -> None:
        """The user's key on the approval overlay."""
        pending = self.broker.answer(decision)
        if pending is not None:
            self._commit(approval_result(pending.subject, pending.answer.result().value))
        if decision is ReviewDecision.ABORT:  # Ctrl-C on a request: stop the whole turn
            self.interrupt()

    def approval_requested(self) -> None:
        if self.broker.current is not None:
            self.notify("codex: approval needed")
        self.invalidate()

    def notify(self, message: str) -> None:
        """An OSC 9 desktop notification, when enabled (`[tui] notifications = true`)."""
        if self.notifications:
            self.scrollback.write_raw(f"\x1b]9;{message}\x07")

    # -- status --------------------------------------------------------------------------

    def status_fields(self) -> list[str]:
        settings = self.session.settings if self.session else self.settings
        fields = [settings.model, f"profile {settings.sandbox_policy.profile}",
                  f"approvals {settings.approval_policy.value}"]
        usage = self.transcript.usage
        used = usage.input_tokens + usage.output_tokens
        if used:
            fields.append(f"{_compact(used)} tokens used")
        if self.context_window:
            left = max(0, 100 - round(100 * self.transcript.context_tokens
                                      / self.context_window))
            fields.append(f"{left}% context left")
        return fields

    # -- slash commands ------------------------------------------------------------------

    def _slash(self, name: str, argument: str) -> None:
        handler = getattr(self, "_cmd_" + name)
        result = handler(argument)
        if asyncio.iscoroutine(result):
            self._tasks.add(task := asyncio.ensure_future(result))
            task.add_done_callback(self._tasks.discard)

    def _busy(self, name: str) -> bool:
        if self.running:
            self._commit(note(f"/{name} is not available while a turn runs (esc to "
                              "interrupt it first)", "class:warning", "⚠ "))
        return self.running

    def _cmd_quit(self, argument: str) -> None:
        self.exit()

    _cmd_exit = _cmd_quit

    def _cmd_mention(self, argument: str) -> None:
        self.insert_text("@")

    def _cmd_status(self, argument: str) -> None:
        if self.session is None:
            return
        settings = self.session.settings
        usage = self.transcript.usage
        rows = [("session", self.session.id), ("model", f"{settings.model} "
                                                         f"({settings.provider_id})"),
                ("workdir", str(settings.cwd)), ("profile", settings.sandbox_policy.profile),
                ("approvals", settings.approval_policy.value),
                ("tokens", f"{usage.input_tokens} input ({usage.cached_input_tokens} "
                           f"cached), {usage.output_tokens} output")]
        if self.context_window:
            rows.append(("context", self.status_fields()[-1]))
        self._commit(note("\n".join(f"{k}: {v}" for k, v in rows), "", "• "))

    def _cmd_model(self, argument: str) -> None:
        if self.session is None or self._busy("model"):
            return
        if not argument:
            self._commit(note(f"model: {self.session.settings.model}; switch with /model "
                              "NAME"))
            return
        self.session.reconfigure(model=argument)
        self._commit(note(f"model set to {argument}"))

    def _cmd_approvals(self, argument: str) -> None:
        if self.session is None or self._busy("approvals"):
            return
        names = ", ".join(p.value for p in ApprovalPolicy)
        try:
            policy = ApprovalPolicy(argument)
        except ValueError:
            current = self.session.settings.approval_policy.value
            self._commit(note(f"approvals: {current}; choose one of {names} "
                              "(/approvals POLICY)"))
            return
        self.session.reconfigure(approval_policy=policy)
        self._commit(note(f"approval policy set to {policy.value}"))

    async def _cmd_profile(self, argument: str) -> None:
        if self.session is None or self._busy("profile"):
            return
        from codex.audit import Decision, Operation
        from codex.security.profiles import resolve_policy

        current = parse_profile(self.session.settings.sandbox_policy.profile)
        try:
            wanted = parse_profile(argument)
        except UnknownProfileError as exc:
            self._commit(note(f"profile: {current.value}; {exc}" if argument else
                              f"profile: {current.value}; switch with /profile NAME"))
            return
        order = list(SecurityProfile)
        if order.index(wanted) > order.index(current):
            request = ApprovalRequest(("codex", "--profile", wanted.value), self.settings.cwd,
                                      f"widens the security profile from {current.value} to "
                                      f"{wanted.value}", offer_always=False)
            decision = await self.broker.ask(request)
            self._commit(approval_result(f"profile {wanted.value}", decision.value))
            if decision not in (ReviewDecision.APPROVED, ReviewDecision.APPROVED_FOR_SESSION):
                return
        session = self.session
        audit = session.settings.audit
        if audit is not None:
            audit.record(Operation.POLICY_CHANGE, f"security profile {current.value} -> "
                         f"{wanted.value}", Decision.ALLOWED, "changed with /profile",
                         wanted.value, session.id, "user")
        session.reconfigure(sandbox_policy=resolve_policy(
            wanted, session.settings.cwd, self.extra_roots))
        self._commit(note(f"security profile set to {wanted.value}"))
        self.invalidate()

    async def _cmd_new(self, argument: str) -> None:
        if self._busy("new"):
            return
        if self.session is not None:
            self.settings = dataclasses.replace(
                self.settings, model=self.session.settings.model,
                sandbox_policy=self.session.settings.sandbox_policy,
                approval_policy=self.session.settings.approval_policy)
        await self.close()
        await self.open()
        self.invalidate()

    def _cmd_compact(self, argument: str) -> None:
        if self.session is None or self._busy("compact"):
            return
        self._commit(note("compacting the conversation (esc to stop)"))
        self.turn_started = time.monotonic()
        self.turn = asyncio.ensure_future(self._run_compact(self.session))
        self.invalidate()

    async def _run_compact(self, session: Session) -> None:
        """Compaction runs in the turn's place: Esc stops it, prompts typed meanwhile wait."""
        from codex.agent.compact import CompactionError, compact
        from codex.agent.turn import token_usage
        from codex.model import ModelError

        try:
            done = await compact(session)
        except (CompactionError, ModelError) as exc:
            self._commit(note(f"/compact: {exc}", "class:error", "✗ "))
        except asyncio.CancelledError:
            self._commit(note("/compact stopped; the conversation is unchanged",
                              "class:warning", "⚠ "))
        else:
            self.transcript.usage = self.transcript.usage.plus(token_usage(done.usage))
            self.transcript.context_tokens = done.usage.output_tokens  # the summary's size
            self._commit(note(f"conversation compacted: {done.items_before} items replaced by "
                              f"{done.items_after} (your recent prompts and a "
                              f"{len(done.summary.split())}-word summary)"))
        finally:
            self.invalidate()
            asyncio.get_running_loop().call_soon(self._next_queued)

    def _cmd_init(self, argument: str) -> None:
        if (self.settings.cwd / "AGENTS.md").exists():
            self._commit(note("AGENTS.md already exists here; /init does not overwrite it",
                              "class:warning", "⚠ "))
            return
        self.submit(INIT_PROMPT)

    def _cmd_diff(self, argument: str) -> None:
        cwd = self.settings.cwd
        try:
            done = subprocess.run(["git", "-C", str(cwd), "diff", "--no-color", "--no-ext-diff"],
                                  capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._commit(note(f"/diff: git diff failed: {exc}", "class:error", "✗ "))
            return
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or "not a git repository"
            self._commit(note(f"/diff: {message}", "class:error", "✗ "))
            return
        files = split_git_diff(done.stdout.decode("utf-8", "replace"), cwd)
        self._commit(patch_cell(files) if files else note("no changes in the workspace"))

    async def _cmd_resume(self, argument: str) -> None:
        if self._busy("resume") or self.pick_session is None:
            return
        path = await self.pick_session(self.settings.codex_home)
        if path is None:
            return
        loaded = load_rollout(path)
        await self.close()
        await self.open(loaded)
        self.invalidate()

    def _commit(self, lines: list[list[tuple[str, str]]]) -> None:
        self.scrollback.commit(lines)


def _compact(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 10000 else str(count)

