"""The turn loop: one user prompt, worked on until the model ends the turn.

    result = await run_task(session, UserInput(text=...), emit)

Each step sends the whole history, streams the answer (text and reasoning deltas go to `emit`
as live events), records the response's items once it completed, and runs the tool calls it
asked for: all of them at once (worker threads, since the guard chain is synchronous), each
output recorded under its call id as soon as it is ready. The loop ends when a response asks
for no tool, after `max_turns` model requests (turn.failed saying how to raise the cap), on a
model error (turn.failed with its one-line message), or when the task is cancelled (Ctrl-C):
the stream is closed, running commands are killed, every call without an output gets an
'aborted' one, and the result says `interrupted`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal

from codex.agent.cancel import kill_running_commands
from codex.agent.items import diff_events, finished_item, started_item
from codex.agent.session import Session
from codex.model import (
    Completed,
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
    Message,
    MessageItem,
    ModelError,
    Prompt,
    Reasoning,
    ReasoningDelta,
    ReasoningItem,
    ReasoningOptions,
    Retrying,
    TextDelta,
    ToolCall,
    Usage,
)
from codex.protocol import (
    AgentEvent,
    AgentMessageItem,
    ErrorInfo,
    ErrorItem,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    LiveCommandOutput,
    LiveRequestUsage,
    LiveRetry,
    LiveTextDelta,
    TodoListItem,
    TokenUsage,
    TurnCompleted,
    TurnFailed,
    TurnStarted,
    UserInput,
)
from codex.protocol import ReasoningItem as ReasoningThreadItem
from codex.tools.base import ToolContext, ToolOutput

Emit = Callable[[AgentEvent], None]
INTERRUPTED_MESSAGE = "interrupted: the turn was cancelled (Ctrl-C) and its commands killed"
_THREAD_GRACE_S = 10.0
_KILL_SWEEP_S = 0.05
# Tools that change nothing outside the session and return at once: no need to wait for the
# disk before them, and they run on the event loop instead of a worker thread.
_NO_SIDE_EFFECTS = frozenset({"update_plan"})


@dataclass
class TaskResult:
    """How a task ended, what it cost, and the last thing the assistant said."""

    status: Literal["completed", "failed", "interrupted"]
    usage: TokenUsage = field(default_factory=TokenUsage)
    last_message: str | None = None
    error: str | None = None
    model_requests: int = 0


@dataclass
class _Turn:
    session: Session
    emit: Emit
    usage: TokenUsage = field(default_factory=TokenUsage)
    last_message: str | None = None
    requests: int = 0
    plan_item: TodoListItem | None = None
    running: list[Future[ToolOutput]] = field(default_factory=list)
    tool_threads: set[int] = field(default_factory=set)  # native ids of our tool threads


async def run_task(session: Session, user_input: UserInput, emit: Emit) -> TaskResult:
    """Work on one prompt until the model ends the turn; see the module docstring."""
    turn = _Turn(session, emit)
    settings = session.settings
    session.record_event("turn_context", {
        "cwd": str(settings.cwd), "model": settings.model,
        "security_profile": settings.sandbox_policy.profile,
        "approval_policy": settings.approval_policy.value})
    session.record(Message("user", user_input.text, user_input.images))
    emit(TurnStarted())
    while session.startup_warnings:
        emit(ItemCompleted(item=ErrorItem(id=session.next_item_id(),
                                          message=session.startup_warnings.pop(0))))
    try:
        while turn.requests < settings.max_turns:
            calls = await _request(turn, user_input)
            if not calls:
                return _finish(turn, "completed")
            await _run_tools(turn, calls)
        return _finish(turn, "failed", (
            f"turn cap reached: the model made {settings.max_turns} requests without "
            "finishing; raise the cap with --max-turns N (or -c agent_max_turns=N)"))
    except ModelError as exc:
        return _finish(turn, "failed", str(exc))
    except asyncio.CancelledError:
        await _stop_running(turn)
        session.answer_unanswered_calls()
        return _finish(turn, "interrupted", INTERRUPTED_MESSAGE)


async def _request(turn: _Turn, user_input: UserInput) -> list[ToolCall]:
    """One model request; records its items and returns the tool calls it made."""
    session = turn.session
    prompt = Prompt(model=session.settings.model, instructions=session.instructions,
                    input=tuple(session.history), tools=session.tools,
                    output_schema=user_input.output_schema, prompt_cache_key=session.id,
                    reasoning=ReasoningOptions(effort=session.settings.reasoning_effort)
                    if session.settings.reasoning_effort else None)
    turn.requests += 1
    calls: list[ToolCall] = []
    emit = turn.emit
    async with aclosing(session.client.stream(prompt)) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                emit(LiveTextDelta(text=event.text))
            elif isinstance(event, ReasoningDelta):
                emit(LiveTextDelta(text=event.text, reasoning=True))
            elif isinstance(event, Retrying):
                emit(LiveRetry(message=f"retrying the model request ({event.attempt}/"
                                       f"{event.max_retries}) in {event.delay_s:.1f}s: "
                                       f"{event.reason}",
                               discard_partial=event.discard_partial))
            elif isinstance(event, MessageItem):
                session.record(Message("assistant", event.text))
                turn.last_message = event.text
                emit(ItemCompleted(item=AgentMessageItem(id=session.next_item_id(),
                                                         text=event.text)))
            elif isinstance(event, ReasoningItem):
                session.record(Reasoning(event.id, event.summary, event.encrypted_content))
                text = "\n\n".join(event.summary or event.content)
                if text:
                    emit(ItemCompleted(item=ReasoningThreadItem(id=session.next_item_id(),
                                                                text=text)))
            elif isinstance(event, ToolCall):
                session.record(CustomToolCall(event.call_id, event.name, event.arguments)
                               if event.kind == "custom"
                               else FunctionCall(event.call_id, event.name, event.arguments))
                calls.append(event)
            elif isinstance(event, Completed):
                _add_usage(turn, event)
    return calls


def token_usage(usage: Usage) -> TokenUsage:
    """One response's token counts as the protocol reports them."""
    return TokenUsage(
        input_tokens=usage.input_tokens, cached_input_tokens=usage.cached_input_tokens,
        cache_write_input_tokens=usage.cache_write_input_tokens,
        output_tokens=usage.output_tokens, reasoning_output_tokens=usage.reasoning_output_tokens)


def _add_usage(turn: _Turn, completed: Completed) -> None:
    if completed.usage is not None:
        added = token_usage(completed.usage)
        turn.emit(LiveRequestUsage(usage=added))
        turn.usage = turn.usage.plus(added)
    if completed.status == "incomplete":
        turn.emit(ItemCompleted(item=ErrorItem(
            id=turn.session.next_item_id(),
            message=f"the model stopped early: {completed.incomplete_reason or 'incomplete'}")))


async def _run_tools(turn: _Turn, calls: list[ToolCall]) -> None:
    """Run every call of one response concurrently; record each output as it finishes.

    What the model asked for is on disk before anything it asked for changes the world."""
    if any(call.name not in _NO_SIDE_EFFECTS for call in calls):
        await asyncio.to_thread(turn.session.rollout.sync)
    await asyncio.gather(*(_run_call(turn, call) for call in calls))


async def _run_call(turn: _Turn, call: ToolCall) -> None:
    session, emit = turn.session, turn.emit
    loop = asyncio.get_running_loop()
    item_id = session.next_item_id() if call.name != "update_plan" or turn.plan_item is None \
        else turn.plan_item.id
    started = started_item(call, item_id, session.tool_context, session.mcp_tools)
    if started is not None:
        emit(ItemStarted(item=started))

    def on_output(stream: str, chunk: bytes) -> None:
        loop.call_soon_threadsafe(emit, LiveCommandOutput(
            item_id=item_id, stream=stream, text=chunk.decode("utf-8", "replace")))

    context = dataclasses.replace(session.tool_context, on_output=on_output)
    if call.name in _NO_SIDE_EFFECTS:  # instant and pure: no thread hand-off needed
        output = session.registry.dispatch(call.name, call.arguments, context, kind=call.kind)
    else:
        future = session.executor.submit(_dispatch_in_thread, turn, call, context)
        turn.running.append(future)
        output = await asyncio.wrap_future(future)  # cancelled: stays in `running` for the kill
        turn.running.remove(future)
    session.record(CustomToolCallOutput(call.call_id, output.text) if call.kind == "custom"
                   else FunctionCallOutput(call.call_id, output.text, output.images))
    for event in diff_events(item_id, output):
        emit(event)
    item = finished_item(call, item_id, output, started)
    if isinstance(item, TodoListItem):
        emit(ItemStarted(item=item) if turn.plan_item is None else ItemUpdated(item=item))
        turn.plan_item = item
    else:
        emit(ItemCompleted(item=item))


def _dispatch_in_thread(turn: _Turn, call: ToolCall, context: ToolContext) -> ToolOutput:
    """Run one call in a worker thread, noting the thread: the commands it starts are its
    children, which lets a cancelled turn kill its own commands and no other session's."""
    turn.tool_threads.add(threading.get_native_id())
    return turn.session.registry.dispatch(call.name, call.arguments, context, kind=call.kind)


async def _stop_running(turn: _Turn) -> None:
    """Kill the commands of cancelled calls and wait (bounded) for their threads to end.

    Killing is repeated while waiting: a call cancelled before its sandbox was spawned starts
    its command after the first sweep. Cancel hooks (sub-agents) run first."""
    for hook in turn.session.cancel_hooks:
        hook()
    pending = {asyncio.wrap_future(f) for f in turn.running}
    deadline = asyncio.get_running_loop().time() + _THREAD_GRACE_S
    while pending and asyncio.get_running_loop().time() < deadline:
        kill_running_commands(turn.tool_threads)
        for hook in turn.session.interrupt_hooks:  # e.g. cancel running MCP calls
            hook()
        _done, pending = await asyncio.wait(pending, timeout=_KILL_SWEEP_S)


def _finish(turn: _Turn, status: Literal["completed", "failed", "interrupted"],
            error: str | None = None) -> TaskResult:
    if turn.plan_item is not None:
        turn.emit(ItemCompleted(item=turn.plan_item))
    payload: dict[str, object] = {"status": status, "usage": turn.usage.model_dump(),
                                  "model_requests": turn.requests}
    if error is not None:
        payload["error"] = error
    turn.session.record_event("turn_end", payload)
    if status == "completed":
        turn.emit(TurnCompleted(usage=turn.session.prior_usage.plus(turn.usage)))
    else:
        turn.emit(TurnFailed(error=ErrorInfo(message=error or status)))
    return TaskResult(status, turn.usage, turn.last_message, error, turn.requests)

