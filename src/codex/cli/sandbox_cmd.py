"""`codex sandbox [OPTIONS] -- CMD [ARGS...]`: run one command under a security profile.

Thin on purpose: options become a `SandboxRequest` for `codex.sandbox.run_sandboxed`, and the
result becomes an exit code (the command's own; 126 not executable, 127 not found, 124
timeout, 128+n signal n; 1 when the profile cannot be enforced here; 2 for usage errors)
and, with --json, one result object on stdout.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from codex.cli.common import global_options, load_effective_config

EXIT_REFUSED = 1
EXIT_USAGE = 2

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


def _parse_env(items: list[str]) -> dict[str, str]:
    """`--env NAME` passes NAME from our environment; `--env NAME=VALUE` sets it."""
    named: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(
                c.isalnum() or c == "_" for c in name):
            raise _usage(f"--env {item!r}: expected NAME or NAME=VALUE")
        if sep:
            named[name] = value
        elif name in os.environ:
            named[name] = os.environ[name]
    return named


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
                                    "degraded, hardlinks, stdout, stderr, ...)."),
    ] = False,
) -> None:
    """Run CMD confined by a security profile (Linux: namespaces, Landlock, seccomp).

    The command's exit code is ours: 126 not executable, 127 not found, 124 timeout, 128+n
    killed by signal n. A profile whose required layers are missing on this machine is
    refused (exit 1) unless --allow-degraded is given. Write profiles warn about files with
    several hard links in the writable roots (writes through them reach the other links).
    """
    argv = list(command or [])
    if not argv:
        raise _usage("no command given; usage: codex sandbox [OPTIONS] -- CMD [ARGS]...")
    if timeout is not None and timeout <= 0:
        raise _usage(f"--timeout {timeout:g}: must be a positive number of seconds")
    named_env = _parse_env(env or [])
    root = ctx.find_root()
    options = global_options(ctx)
    root.obj = dataclasses.replace(
        options,
        security_profile=profile if profile is not None else options.security_profile,
        cd=cd if cd is not None else options.cd,
    )
    config = load_effective_config(ctx)
    workspace = Path(config.cwd)
    if not workspace.is_dir():
        raise _usage(f"-C {workspace}: not a directory")
    try:
        cwd = Path.cwd()
    except FileNotFoundError:
        raise _usage("the current directory no longer exists") from None
    policy = config.sandbox_policy()
    extra = [p.expanduser() for p in writable_roots or []]
    if extra:
        if not config.security_profile.writes_workspace:
            raise _usage(f"--writable-root needs a write profile (workspace-write or "
                         f"workspace-net), not {config.security_profile.value}")
        for path in extra:
            if not path.is_dir():
                raise _usage(f"--writable-root {path}: not a directory")
        roots = tuple(dict.fromkeys(
            [*policy.writable_roots, *((workspace / p).resolve() for p in extra)]))
        policy = policy.model_copy(update={"writable_roots": roots})
    shell_env = config.shell_environment_policy
    sys.exit(run(policy, argv, cwd, workspace, timeout, allow_degraded,
                 {**shell_env.set, **named_env}, shell_env.include_only, as_json))


def run(policy: Any, argv: list[str], cwd: Path, workspace: Path, timeout: float | None,
        allow_degraded: bool, named_env: dict[str, str], passthrough: list[str],
        as_json: bool) -> int:
    """Run the request and turn the result into output and an exit code."""
    from codex.sandbox import SandboxRequest, SandboxUnavailable, run_sandboxed
    from codex.sandbox.runner import SandboxError

    request = SandboxRequest(
        policy=policy, argv=argv, cwd=cwd, workspace=workspace, timeout_s=timeout,
        allow_degraded=allow_degraded, env=named_env, env_passthrough=passthrough,
        capture=as_json)
    try:
        result = run_sandboxed(request)
    except SandboxUnavailable as exc:
        _fail(as_json, str(exc), {"refused": {"layer": exc.layer, "reason": exc.reason},
                                   "profile": exc.profile})
        return EXIT_REFUSED
    except SandboxError as exc:
        _fail(as_json, str(exc), {"profile": policy.profile})
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    if as_json:
        data = result.to_json()
        data["stdout"] = (result.stdout or b"").decode(errors="replace")
        data["stderr"] = (result.stderr or b"").decode(errors="replace")
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        _warn(result)
    return result.exit_code


def _fail(as_json: bool, message: str, extra: dict[str, Any]) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"error": message, **extra}) + "\n")
    else:
        sys.stderr.write(f"codex sandbox: {message}\n")


def _warn(result: Any) -> None:
    """Human warnings on stderr, after the command's own output."""
    out = sys.stderr
    if result.timed_out:
        out.write("codex sandbox: timed out; the command and everything it started were "
                  "killed\n")
    for entry in result.degraded:
        out.write(f"codex sandbox: warning: ran without {entry['layer']} ({entry['reason']}) "
                  "because --allow-degraded was given\n")
    if result.hardlinks:
        more = " (scan stopped early; there may be more)" if result.hardlinks_truncated else ""
        out.write(f"codex sandbox: warning: {len(result.hardlinks)} file(s) in the writable "
                  f"roots have other hard links; writes through them change the other "
                  f"links too{more}:\n")
        for path in result.hardlinks[:20]:
            out.write(f"  {path}\n")
        if len(result.hardlinks) > 20:
            out.write(f"  ... and {len(result.hardlinks) - 20} more (see --json)\n")
    for path, moved_to in result.quarantined.items():
        out.write(f"codex sandbox: warning: the command created {path}, which could run code "
                  f"outside the sandbox later; moved it to {moved_to}\n")
