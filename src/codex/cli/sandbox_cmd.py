"""`codex sandbox [OPTIONS] -- CMD [ARGS...]`: run one command under a security profile.

The typer face of the command: it teaches `--help`, reports parse errors, and loads the full
config; `codex.cli.sandbox_run` does the rest (the guard chain, output, exit code), shared with
the stdlib-only fast lane (`codex.cli.sandbox_fast`). After a full config load the settings the
command uses are cached, so the next identical invocation can take the fast lane.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from codex.cli.common import global_options, load_effective_config
from codex.cli.sandbox_run import (
    EXIT_USAGE,
    SandboxArgs,
    UsageError,
    check_args,
    execute,
    exit_without_teardown,
)
from codex.config.home import codex_home
from codex.config.sandbox_settings import SandboxSettings, cache_key, store

EPILOG = (
    "Examples: codex sandbox -- git status | codex sandbox --profile workspace-write -C ws "
    "-- make test | codex sandbox --profile net-read-only --json -- curl -sI https://example.com"
)


def register(app: typer.Typer) -> None:
    """Add the `sandbox` command."""
    app.command(
        "sandbox",
        epilog=EPILOG,
        context_settings={"allow_interspersed_args": False},
    )(sandbox)


def _usage(message: str) -> typer.Exit:
    typer.echo(f"codex sandbox: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def sandbox(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="-- CMD [ARGS]...", help="The command to run, after `--`."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", metavar="PROFILE",
                     help="offline (default), net-read-only, workspace-write, workspace-net, "
                          "trusted; aliases read-only, workspace, full-access. Overrides the "
                          "global --profile and config."),
    ] = None,
    cd: Annotated[
        Path | None,
        typer.Option("-C", "--cd", metavar="DIR",
                     help="The workspace: what write profiles may write (default: the current "
                          "directory). CMD itself runs in the current directory."),
    ] = None,
    writable_roots: Annotated[
        list[Path] | None,
        typer.Option("--writable-root", metavar="DIR",
                     help="Another directory write profiles may write (repeatable)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS",
                     help="Kill the command and everything it started after SECONDS "
                          "(exit 124)."),
    ] = None,
    allow_degraded: Annotated[
        bool,
        typer.Option("--allow-degraded",
                     help="Run even when a layer the profile needs is unavailable here; the "
                          "missing layers are recorded in the result."),
    ] = False,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", metavar="NAME[=VALUE]",
                     help="Pass NAME (from this environment, or set to VALUE) although the "
                          "allow-list or the credential filter would drop it (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Capture the command's output and print one JSON result "
                                    "object (exit_code, signal, duration_ms, profile, layers, "
                                    "degraded, hardlinks, stdout, stderr, guard, ...)."),
    ] = False,
    approval_policy: Annotated[
        str | None,
        typer.Option("--approval-policy", metavar="POLICY",
                     help="When to ask before running: untrusted, on-failure, on-request, "
                          "never (default: config approval_policy). Nobody can answer with "
                          "--json or without a terminal on stdin: a command that needs "
                          "approval is then refused."),
    ] = None,
) -> None:
    """Run CMD confined by a security profile (Linux: namespaces, Landlock, seccomp).

    The command's exit code is ours: 126 not executable, 127 not found, 124 timeout, 128+n
    killed by signal n. A profile whose required layers are missing on this machine is
    refused (exit 1) unless --allow-degraded is given. Write profiles warn about files with
    several hard links in the writable roots (writes through them reach the other links).

    Every command first passes the exec policy (forbidden: refused, exit 1) and the approval
    policy; each decision is written to the audit log (`codex audit show`).
    """
    try:
        checked = check_args(SandboxArgs(
            command=list(command or []), writable_roots=list(writable_roots or []),
            timeout=timeout, allow_degraded=allow_degraded, env=list(env or []),
            as_json=as_json, approval_policy=approval_policy))
    except UsageError as exc:
        raise _usage(str(exc)) from None
    root = ctx.find_root()
    options = global_options(ctx)
    root.obj = dataclasses.replace(
        options,
        security_profile=profile if profile is not None else options.security_profile,
        cd=cd if cd is not None else options.cd,
    )
    home = codex_home()
    key = cache_key(root.obj, home)
    config = load_effective_config(ctx)
    settings = SandboxSettings.from_config(config)
    # Keyed by the inputs seen before and after the load: a config.toml edited in between
    # is not cached under the wrong digest.
    if key is not None and key == cache_key(root.obj, home):
        store(home, key, settings)
    try:
        code = execute(settings, config.cwd, checked)
    except UsageError as exc:
        raise _usage(str(exc)) from None
    exit_without_teardown(code)
