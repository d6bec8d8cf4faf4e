"""`codex fanout`: run N agents on one prompt (or one agent per task of a tasks.toml) and merge
what they produce.

    codex fanout -n 5 --strategy voting --min-ratio 0.6 "what does parse() return for ''?"
    codex fanout --tasks tasks.toml --strategy highest-score --threshold 10 --workspace worktree
    codex fanout -n 3 --strategy first-success --timeout 300 --json "fix the flaky test"

Every agent is a real session (guard chain, sandbox, rollout, audit log under its agent id;
`codex exec resume ID` opens any of them). With `--workspace worktree` each agent works in
its own git worktree and the chosen diff(s) are merged into the checkout all at once, or not
at all when they conflict (`--no-apply` keeps the checkout untouched). Exit codes: 0 a result
was chosen (and merged), 1 no result, no consensus or a merge conflict, 2 usage error, 130
interrupted (Ctrl-C cancels every agent and prints what finished).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from codex.cli.agent_args import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    merge_command_options,
    read_prompt,
    require_git_repo,
)
from codex.cli.common import load_effective_config

if TYPE_CHECKING:
    from codex.agent import SessionSettings
    from codex.cli.fanout_render import JsonFanoutRenderer, ProgressView
    from codex.config import EffectiveConfig
    from codex.supervisor import AgentRecord, AgentSpec, MergeOutcome, MergeResult, Strategy
    from codex.supervisor.spec import WorkspaceMode

EPILOG = ("Examples: codex fanout -n 5 --strategy voting \"...\" | codex fanout --tasks "
          "tasks.toml --strategy highest-score --workspace worktree. Exit codes: 0 chosen "
          "result, 1 no result / no consensus / conflict, 2 usage, 130 interrupted.")


def register(app: typer.Typer) -> None:
    """Add the `fanout` command."""
    app.command("fanout", epilog=EPILOG)(fanout_command)


def fanout_command(
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Argument(
        metavar="[PROMPT | -]", help="The task every agent gets (`-` reads stdin). Leave it "
                                     "out with --tasks.")] = None,
    count: Annotated[int, typer.Option("-n", "--agents", min=1, max=64, metavar="N",
                                       help="Agents to run on PROMPT.")] = 3,
    tasks: Annotated[Path | None, typer.Option(
        "--tasks", metavar="FILE", help="A tasks.toml: one table per task (its name is the "
                                        "agent id).")] = None,
    max_parallel: Annotated[int | None, typer.Option(
        "--max-parallel", min=1, metavar="N",
        help="Agents running at once (default: [agents] max_threads).")] = None,
    strategy: Annotated[str, typer.Option(
        "--strategy", metavar="NAME",
        help="concatenate, voting, first-success or highest-score.")] = "concatenate",
    min_ratio: Annotated[float, typer.Option(
        "--min-ratio", min=0.0, max=1.0, metavar="R",
        help="voting: share of the successful agents that must agree.")] = 0.5,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", metavar="SCORE",
        help="highest-score: the lowest score that can be chosen.")] = None,
    score_command: Annotated[str | None, typer.Option(
        "--score-command", metavar="CMD",
        help="highest-score: a shell command run in each agent's sandbox; its score is the "
             "first number on its last line (e.g. \"pytest -q | tail -1\").")] = None,
    score_field: Annotated[str | None, typer.Option(
        "--score-field", metavar="KEY",
        help="highest-score: read the score from this field of the JSON answer.")] = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.001, metavar="SECONDS",
        help="Per agent (default: [agents] job_max_runtime_seconds).")] = None,
    deadline: Annotated[float | None, typer.Option(
        "--deadline", min=0.001, metavar="SECONDS", help="For the whole run.")] = None,
    workspace: Annotated[str, typer.Option(
        "--workspace", metavar="MODE",
        help="shared (one checkout) or worktree (a git worktree per agent).")] = "shared",
    apply: Annotated[bool, typer.Option(
        "--apply/--no-apply", help="worktree: merge the chosen diff(s) into the checkout.")
    ] = True,
    json_output: Annotated[bool, typer.Option(
        "--json", help="One JSON event per line, each with its agent_id; a final "
                       "fanout.completed line.")] = False,
    model: Annotated[str | None, typer.Option("-m", "--model", metavar="MODEL",
                                              help="The model of every agent.")] = None,
    max_turns: Annotated[int | None, typer.Option(
        "--max-turns", min=1, metavar="N", help="Model requests per agent task.")] = None,
    skip_git_repo_check: Annotated[bool, typer.Option(
        "--skip-git-repo-check", help="Allow a shared run outside a git repository.")] = False,
    config: Annotated[list[str] | None, typer.Option(
        "-c", "--config", metavar="KEY=VALUE", help="Override a config value.")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", metavar="PROFILE", help="Security profile of every agent.")] = None,
    sandbox: Annotated[str | None, typer.Option(
        "-s", "--sandbox", metavar="MODE",
        help="read-only, workspace-write, danger-full-access.")] = None,
    cd: Annotated[Path | None, typer.Option(
        "-C", "--cd", metavar="DIR", help="Work in DIR instead of the current directory.")
    ] = None,
) -> None:
    """Run several agents at once (one prompt or a tasks.toml) and merge their results."""
    from codex.config import ConfigError
    from codex.supervisor import STRATEGIES

    merge_command_options(ctx, config, None, profile, sandbox, cd)
    try:
        if strategy not in STRATEGIES:
            raise UsageError(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
        if workspace not in ("shared", "worktree"):
            raise UsageError("--workspace: choose shared or worktree")
        if tasks is not None and prompt is not None:
            raise UsageError("give PROMPT or --tasks FILE, not both")
        cfg = load_effective_config(ctx)
        if not skip_git_repo_check or workspace == "worktree":
            require_git_repo(cfg.cwd)
        scorer = ("sh", "-c", score_command) if score_command else None
        specs = _specs(tasks, prompt, count, workspace, timeout, max_turns, model, scorer,
                       score_field)
        if strategy == "highest-score" and not all(s.score_command or s.score_field
                                                   for s in specs):
            raise UsageError("highest-score needs --score-command or --score-field (or "
                         "score_command / score_field in every task)")
    except UsageError as exc:
        typer.echo(f"codex fanout: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except ConfigError as exc:
        typer.echo(f"codex fanout: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    code = _run(cfg, specs, strategy=strategy, min_ratio=min_ratio,
                threshold=threshold, max_parallel=max_parallel, deadline=deadline, apply=apply,
                json_output=json_output, model=model, max_turns=max_turns)
    raise typer.Exit(code)


def _specs(tasks: Path | None, prompt: str | None, count: int, workspace: str,
           timeout: float | None, max_turns: int | None, model: str | None,
           scorer: tuple[str, ...] | None, score_field: str | None) -> list[AgentSpec]:
    import dataclasses

    from codex.supervisor import AgentSpec
    from codex.supervisor.taskfile import load_tasks

    mode = cast("WorkspaceMode", workspace)
    if tasks is not None:
        return [dataclasses.replace(
            spec, workspace=spec.workspace if spec.workspace != "shared" else mode,
            timeout_s=spec.timeout_s or timeout, max_turns=spec.max_turns or max_turns,
            score_command=spec.score_command or scorer,
            score_field=spec.score_field or score_field) for spec in load_tasks(tasks)]
    text = read_prompt(prompt)
    return [AgentSpec(prompt=text, model=model, workspace=mode,
                      timeout_s=timeout, max_turns=max_turns, score_command=scorer,
                      score_field=score_field) for _ in range(count)]


def _run(cfg: EffectiveConfig, specs: list[AgentSpec], *, strategy: Strategy, min_ratio: float,
         threshold: float | None, max_parallel: int | None, deadline: float | None,
         apply: bool, json_output: bool, model: str | None, max_turns: int | None) -> int:
    import asyncio
    import dataclasses

    from codex.agent import SessionSettings
    from codex.approvals import NonInteractiveApprover
    from codex.cli.audit_cmd import open_audit_log
    from codex.execpolicy import RuleLoadError
    from codex.model import MissingApiKeyError, ProviderConfigError, resolve_provider
    from codex.supervisor import Limits

    try:
        provider = resolve_provider(cfg.model_provider, cfg.model_providers)
    except MissingApiKeyError as exc:
        typer.echo(f"codex fanout: {exc}", err=True)
        return EXIT_FAILED
    except ProviderConfigError as exc:
        typer.echo(f"codex fanout: {exc}", err=True)
        return EXIT_USAGE
    settings = dataclasses.replace(SessionSettings.from_config(
        cfg, provider=provider, provider_id=provider.id, approver=NonInteractiveApprover(),
        audit=open_audit_log(cfg), model=model, max_turns=max_turns or cfg.agent_max_turns),
        originator="codex_fanout")
    agents = cfg.agents
    limits = Limits(max_parallel=max_parallel or agents.max_threads,
                    max_threads=agents.max_threads, max_depth=agents.max_depth,
                    job_max_runtime_s=float(agents.job_max_runtime_seconds),
                    deadline_s=deadline, max_agents=max(64, len(specs)))
    try:
        return asyncio.run(_main(settings, cfg, specs, limits, strategy, min_ratio, threshold,
                                 apply, json_output))
    except RuleLoadError as exc:
        typer.echo(f"codex fanout: {exc}", err=True)
        return EXIT_USAGE


async def _main(settings: SessionSettings, cfg: EffectiveConfig, specs: list[AgentSpec],
                limits: Any, strategy: Strategy, min_ratio: float, threshold: float | None,
                apply: bool, json_output: bool) -> int:
    import asyncio

    from codex.cli.fanout_render import JsonFanoutRenderer, ProgressView
    from codex.model import resolve_provider
    from codex.supervisor import Supervisor, merge_results

    renderer: JsonFanoutRenderer | ProgressView
    if json_output:
        renderer = JsonFanoutRenderer()
    else:
        supervisor_ref: list[Supervisor] = []
        renderer = ProgressView(lambda: supervisor_ref[0].records.values()
                                if supervisor_ref else ())
    supervisor = Supervisor(settings, limits, emit=renderer,
                            providers=lambda name: resolve_provider(name, cfg.model_providers))
    if not json_output:
        supervisor_ref.append(supervisor)
    interrupted: list[int] = []
    loop = asyncio.get_running_loop()

    def stop(signum: int) -> None:
        interrupted.append(signum)
        loop.remove_signal_handler(signum)
        supervisor.cancel_all("interrupted (Ctrl-C)")

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        if isinstance(renderer, ProgressView):
            with renderer:
                records = await supervisor.run_all(
                    specs, stop_on_success=strategy == "first-success")
        else:
            records = await supervisor.run_all(specs,
                                               stop_on_success=strategy == "first-success")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await supervisor.shutdown()
    result = merge_results(strategy, records, min_ratio=min_ratio, threshold=threshold)
    outcome = None
    if result.ok and not interrupted and apply:
        outcome = _merge_worktrees(settings, result, records)
    if isinstance(renderer, JsonFanoutRenderer):
        renderer.line(_completed(result, records, outcome, bool(interrupted)))
    else:
        _print_summary(result, records, outcome, bool(interrupted), apply)
    if interrupted:  # 130 for Ctrl-C, 143 for SIGTERM, as `codex exec`
        return 128 + interrupted[0]
    if not result.ok or (outcome is not None and not outcome.applied):
        return EXIT_FAILED
    return EXIT_OK


def _merge_worktrees(settings: SessionSettings, result: MergeResult,
                     records: list[AgentRecord]) -> MergeOutcome | None:
    """Merge the chosen worktree agents' changes (all or none), recorded in the audit log."""
    from codex.audit import AuditError, Decision, Operation
    from codex.supervisor import merge_changes

    chosen = [(r, r.changes, r.worktree) for r in records if r.id in result.chosen
              and r.changes is not None and not r.changes.empty and r.worktree is not None]
    if not chosen:
        return None
    root = chosen[0][2].repo_root
    outcome = merge_changes(root, [(r.id, changes) for r, changes, _tree in chosen])
    if settings.audit is not None:
        reason = (f"merged the worktree diffs of {', '.join(outcome.agents)}" if outcome.applied
                  else "not merged: " + "; ".join(outcome.conflicts or (outcome.error or "",)))
        try:
            settings.audit.record(Operation.PATCH_APPLY, ", ".join(outcome.files) or str(root),
                                  Decision.ALLOWED if outcome.applied else Decision.DENIED,
                                  reason, settings.sandbox_policy.profile,
                                  chosen[0][0].session_id or "", "fanout")
        except AuditError as exc:
            typer.echo(f"codex fanout: warning: the merge was not recorded: {exc}", err=True)
    return outcome


def _agent_json(record: AgentRecord) -> dict[str, Any]:
    return {"agent_id": record.id, "state": record.state, "session_id": record.session_id,
            "elapsed_s": round(record.elapsed_s, 3), "usage": record.usage.model_dump(),
            "error": record.error, "last_message": record.last_message, "score": record.score,
            "diff": record.changes.diff if record.changes is not None else None}


def _completed(result: MergeResult, records: list[AgentRecord], outcome: MergeOutcome | None,
               interrupted: bool) -> dict[str, Any]:
    merged = None if outcome is None else {
        "applied": outcome.applied, "files": list(outcome.files), "agents": list(outcome.agents),
        "conflicts": list(outcome.conflicts), "error": outcome.error}
    return {"type": "fanout.completed", **result.to_json(), "interrupted": interrupted,
            "agents": [_agent_json(r) for r in records], "merge": merged}


def _print_summary(result: MergeResult, records: list[AgentRecord],
                   outcome: MergeOutcome | None, interrupted: bool, apply: bool) -> None:
    from codex.cli.exec_render import printable
    from codex.cli.fanout_render import agent_line

    err = sys.stderr
    if interrupted:
        err.write("interrupted: every agent was cancelled; what finished:\n")
    for record in records:
        err.write(agent_line(record, 160) + "\n")
    err.write(f"{result.strategy}: {result.reason}\n")
    if outcome is not None:
        if outcome.applied:
            err.write(f"merged {len(outcome.files)} file(s) from {', '.join(outcome.agents)}: "
                      f"{', '.join(outcome.files)}\n")
        else:
            err.write("not merged, nothing was changed:\n")
            for line in outcome.conflicts or (outcome.error or "",):
                err.write(f"  {line}\n")
    elif not apply and any(r.changes is not None and not r.changes.empty for r in records):
        err.write("--no-apply: the checkout was left as it was\n")
    if result.answer is not None and not interrupted and (outcome is None or outcome.applied):
        sys.stdout.write(printable(result.answer).rstrip("\n") + "\n")
