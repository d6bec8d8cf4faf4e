"""`codex exec [OPTIONS] [PROMPT | -]`: run the agent non-interactively on one prompt.

    codex exec "fix the failing test"            # prompt as an argument
    git diff | codex exec "review this diff" -   # `-` (or piped stdin with no prompt) reads stdin
    codex exec --json "..."                      # one JSON event per line (Codex CLI shapes)
    codex exec resume --last "continue"          # continue the most recent session
    codex exec resume 0199a213 "and now the docs"

Nobody can answer an approval prompt here, so a command the approval policy would ask about is
refused with the reason (the model is told). Exit codes: 0 done, 1 model or tool failure (the
turn failed), 2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). The session
is recorded under CODEX_HOME/sessions and can be resumed after any of them.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from codex.cli.agent_args import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    merge_command_options,
    read_prompt,
    require_git_repo,
)
from codex.cli.common import load_effective_config
from codex.cli.exec_sdk import (
    CYBER_ACCESS_PROGRAMS,
    OneLineUsageErrors,
    SdkFlagError,
    SessionExtras,
    originator,
    read_images,
    with_added_dirs,
    with_originator,
)
from codex.fsutil import write_atomic

if TYPE_CHECKING:
    import asyncio

    from codex.agent import LoadedRollout, SessionSettings, TaskResult
    from codex.config import EffectiveConfig
    from codex.protocol import UserInput
    from codex.supervisor.subagents import SubAgents

OSS_DEFAULT_MODEL = "gpt-oss:20b"

EPILOG = (
    "Examples: codex exec \"explain this repo\" | codex exec --json -s workspace-write "
    "\"fix the tests\" | git diff | codex exec \"review\" - | codex exec resume --last "
    "\"continue\". Exit codes: 0 done, 1 failed, 2 usage, 130 interrupted."
)


def register(app: typer.Typer) -> None:
    """Add the `exec` command."""
    app.command("exec", epilog=EPILOG, cls=OneLineUsageErrors)(exec_command)


def exec_command(
    ctx: typer.Context,
    args: Annotated[
        list[str] | None,
        typer.Argument(metavar="[PROMPT | -] | resume [--last | ID] [PROMPT | -]",
                       help="The task. `-` reads it from stdin (so does piped stdin with no "
                            "prompt). `resume` continues a recorded session."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", "--experimental-json",
                           help="Print one JSON event per line on stdout (thread.started, "
                                "turn.*, item.*). --experimental-json: the same (the "
                                "TypeScript SDK's name).")] = False,
    output_last_message: Annotated[
        Path | None, typer.Option("-o", "--output-last-message", metavar="FILE",
                                  help="Also write the assistant's last message to FILE.")
    ] = None,
    output_schema: Annotated[
        Path | None, typer.Option("--output-schema", metavar="FILE",
                                  help="A JSON Schema the final answer must follow.")] = None,
    skip_git_repo_check: Annotated[
        bool, typer.Option("--skip-git-repo-check",
                           help="Allow running outside a git repository.")] = False,
    model: Annotated[str | None, typer.Option("-m", "--model", metavar="MODEL",
                                              help="The model to use.")] = None,
    oss: Annotated[bool, typer.Option("--oss", help="Use a local open-source model "
                                                    "provider (Ollama).")] = False,
    last: Annotated[bool, typer.Option("--last", help="With `resume`: the most recent "
                                                      "session.")] = False,
    max_turns: Annotated[
        int | None, typer.Option("--max-turns", metavar="N", min=1,
                                 help="Stop after N model requests for this task "
                                      "(default: agent_max_turns, 100).")] = None,
    full_auto: Annotated[
        bool, typer.Option("--full-auto", help="Shortcut for -s workspace-write (writes in "
                                               "the workspace, no network).")] = False,
    config: Annotated[
        list[str] | None, typer.Option("-c", "--config", metavar="KEY=VALUE",
                                       help="Override a config value (as the global -c).")
    ] = None,
    config_profile: Annotated[
        str | None, typer.Option("--config-profile", metavar="NAME",
                                 help="Use [profiles.NAME] from config.toml.")] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="PROFILE",
                                 help="Security profile (as the global --profile).")] = None,
    sandbox: Annotated[
        str | None, typer.Option("-s", "--sandbox", metavar="MODE",
                                 help="read-only, workspace-write, danger-full-access.")] = None,
    cd: Annotated[
        Path | None, typer.Option("-C", "--cd", metavar="DIR",
                                  help="Work in DIR instead of the current directory.")] = None,
    add_dir: Annotated[
        list[Path] | None, typer.Option("--add-dir", metavar="DIR",
                                        help="Also let workspace-write write in DIR "
                                             "(repeatable).")] = None,
    image: Annotated[
        list[Path] | None, typer.Option("-i", "--image", metavar="FILE",
                                        help="Attach an image to the prompt (repeatable).")
    ] = None,
    thread_source: Annotated[
        str | None, typer.Option("--thread-source", metavar="SOURCE",
                                 help="Label recorded in a new session's metadata (who "
                                      "started it).")] = None,
    cyber_access_program: Annotated[
        str | None, typer.Option("--cyber-access-program", metavar="PROGRAM",
                                 help="standard, daybreak_blue or daybreak_red: an OpenAI "
                                      "service program; accepted for the SDK, codex sends "
                                      "nothing for it.")] = None,
) -> None:
    """Run codex non-interactively on one prompt (or continue a session with `resume`)."""
    merge_command_options(ctx, config, config_profile, profile, sandbox or (
        "workspace-write" if full_auto and not profile else None), cd)
    try:
        words = list(args or [])
        resume_id, prompt_arg = _parse_words(words, last)
        schema = _read_schema(output_schema) if output_schema else None
        _check_cyber_access_program(cyber_access_program)
        cfg = with_added_dirs(load_effective_config(ctx), add_dir or [])
        if not skip_git_repo_check:
            require_git_repo(cfg.cwd)
        images = read_images(image or [], cfg.cwd)
        prompt = read_prompt(prompt_arg)
    except (UsageError, SdkFlagError) as exc:
        typer.echo(f"codex exec: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    code = _run(cfg, prompt=prompt, schema=schema, resume_id=resume_id,
                resume=bool(words) and words[0] == "resume", model=model, oss=oss,
                max_turns=max_turns or cfg.agent_max_turns, json_output=json_output,
                last_message_file=output_last_message,
                extras=SessionExtras(images=images, thread_source=thread_source))
    raise typer.Exit(code)


def _check_cyber_access_program(program: str | None) -> None:
    if program is not None and program not in CYBER_ACCESS_PROGRAMS:
        raise UsageError(f"--cyber-access-program {program!r}: expected one of "
                     f"{', '.join(CYBER_ACCESS_PROGRAMS)}")


def _parse_words(words: list[str], last: bool) -> tuple[str | None, str | None]:
    """(session id to resume or None, prompt word) from the positional words."""
    if words and words[0] == "resume":
        rest = words[1:]
        if last:
            if len(rest) > 1:
                raise UsageError("resume --last takes at most one PROMPT")
            return None, rest[0] if rest else None
        if not rest:
            raise UsageError("resume needs a session: `resume --last` or `resume ID`")
        if len(rest) > 2:
            raise UsageError("resume takes ID and at most one PROMPT (quote the prompt)")
        return rest[0], rest[1] if len(rest) > 1 else None
    if last:
        raise UsageError("--last only goes with `resume` (codex exec resume --last PROMPT)")
    if len(words) > 1:
        raise UsageError(f"expected one PROMPT, got {len(words)} words; quote the prompt")
    return None, words[0] if words else None


def _read_schema(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--output-schema {path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise UsageError(f"--output-schema {path}: not valid JSON ({exc}); give a JSON Schema "
                     "file") from None
    if not isinstance(data, dict):
        raise UsageError(f"--output-schema {path}: a JSON Schema must be a JSON object")
    return data


def _run(cfg: EffectiveConfig, *, prompt: str, schema: dict[str, Any] | None,
         resume_id: str | None, resume: bool, model: str | None, oss: bool, max_turns: int,
         json_output: bool, last_message_file: Path | None,
         extras: SessionExtras = SessionExtras()) -> int:
    import asyncio

    from codex.agent import (
        RolloutError,
        SessionSettings,
        SessionStartError,
        find_rollout,
        load_rollout,
    )
    from codex.approvals import NonInteractiveApprover
    from codex.cli.audit_cmd import open_audit_log
    from codex.execpolicy import RuleLoadError
    from codex.model import MissingApiKeyError, ProviderConfigError, resolve_provider
    from codex.protocol import UserInput

    def fail(exc: BaseException | str, code: int) -> int:
        return _report_failure(str(exc), code, json_output)

    try:
        provider = resolve_provider(cfg.model_provider, cfg.model_providers, oss=oss,
                                    openai_base_url=cfg.openai_base_url)
    except MissingApiKeyError as exc:  # before its base class: not a usage error
        return fail(exc, EXIT_FAILED)
    except ProviderConfigError as exc:
        return fail(exc, EXIT_USAGE)
    try:
        loaded = load_rollout(find_rollout(cfg.codex_home, resume_id)) if resume else None
    except RolloutError as exc:
        return fail(exc, EXIT_FAILED)
    chosen_model = model or (str(loaded.meta.get("model")) if loaded else None) or \
        (OSS_DEFAULT_MODEL if oss else cfg.model)
    caller = originator()
    settings = dataclasses.replace(SessionSettings.from_config(
        cfg, provider=with_originator(provider, caller), provider_id=provider.id,
        approver=NonInteractiveApprover(), audit=open_audit_log(cfg), model=chosen_model,
        max_turns=max_turns), originator=caller, thread_source=extras.thread_source)
    user_input = UserInput(text=prompt, output_schema=schema, images=extras.images)
    try:
        return asyncio.run(_session_main(settings, loaded, user_input, json_output,
                                         last_message_file, subagents_of(cfg)))
    except RuleLoadError as exc:
        return fail(exc, EXIT_USAGE)
    except (RolloutError, SessionStartError) as exc:
        return fail(exc, EXIT_FAILED)
    except KeyboardInterrupt:  # Ctrl-C before the turn started (or a second Ctrl-C)
        return fail("interrupted", EXIT_INTERRUPTED)


def _report_failure(message: str, code: int, json_output: bool) -> int:
    """One line on stderr; with --json also a top-level `error` event on stdout, so a reader
    of the event stream learns why no thread started."""
    typer.echo(f"codex exec: {message}", err=True)
    if json_output:
        from codex.protocol import ThreadError

        typer.echo(ThreadError(message=message).model_dump_json())
    return code


def subagents_of(cfg: EffectiveConfig) -> SubAgents | None:
    """The sub-agent tools when `[agents] enabled`, limited by the rest of `[agents]`."""
    if not cfg.agents.enabled:
        return None
    from codex.supervisor import Limits
    from codex.supervisor.subagents import SubAgents

    agents = cfg.agents
    return SubAgents(Limits(max_threads=agents.max_threads, max_depth=agents.max_depth,
                            job_max_runtime_s=float(agents.job_max_runtime_seconds),
                            max_parallel=agents.max_threads))


async def _session_main(settings: SessionSettings, loaded: LoadedRollout | None,
                        user_input: UserInput, json_output: bool,
                        last_message_file: Path | None, subagents: SubAgents | None) -> int:
    import asyncio
    import dataclasses

    from codex.agent import Session, run_task
    from codex.cli.exec_render import HumanRenderer, JsonRenderer
    from codex.protocol import ThreadStarted

    renderer: JsonRenderer | HumanRenderer = JsonRenderer() if json_output else HumanRenderer()
    if subagents is not None:
        settings = dataclasses.replace(settings, tool_hooks=(subagents.hook,))
    async with Session.open(settings, resume=loaded) as session:
        if isinstance(renderer, HumanRenderer):
            renderer.header(_header(session.id, settings, loaded))
        renderer(ThreadStarted(thread_id=session.id))
        task = asyncio.ensure_future(run_task(session, user_input, renderer))
        stopped_by = _cancel_on_signals(task)
        try:
            result = await task
        finally:
            _restore_signals()
            if subagents is not None:  # children still open end with their parent
                await subagents.shutdown()
    if last_message_file is not None and result.last_message is not None:
        _write_atomically(last_message_file, result.last_message)
    return _exit_code(result, stopped_by)


def _header(session_id: str, settings: SessionSettings,
            loaded: LoadedRollout | None) -> list[tuple[str, str]]:
    return [
        ("session", session_id + (" (resumed)" if loaded else "")),
        ("model", f"{settings.model} ({settings.provider_id})"),
        ("workdir", str(settings.cwd)),
        ("profile", settings.sandbox_policy.profile),
        ("approval", f"{settings.approval_policy.value} (non-interactive: asking means no)"),
    ]


def _cancel_on_signals(task: asyncio.Future[TaskResult]) -> list[int]:
    """Ctrl-C / SIGTERM cancel the task (once; a second Ctrl-C is the default again)."""
    import asyncio

    loop = asyncio.get_running_loop()
    stopped_by: list[int] = []

    def stop(signum: int) -> None:
        stopped_by.append(signum)
        loop.remove_signal_handler(signum)
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    return stopped_by


def _restore_signals() -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(signum)


def _exit_code(result: TaskResult, stopped_by: list[int]) -> int:
    if result.status == "completed":
        return EXIT_OK
    if result.status == "interrupted":
        return 128 + stopped_by[0] if stopped_by else EXIT_INTERRUPTED
    return EXIT_FAILED


def _write_atomically(path: Path, text: str) -> None:
    """The last message, newline-terminated, replaced atomically: never a half-written FILE."""
    write_atomic(path, text if text.endswith("\n") else text + "\n")
