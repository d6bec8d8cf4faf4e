"""The fast lane of `codex sandbox`: the same command without typer and pydantic.

Importing typer and pydantic and loading the config through its models costs several times
what confining a command costs, on every sandboxed command. This lane takes a plain
`codex [GLOBAL OPTIONS] sandbox [OPTIONS] [--] CMD [ARGS]...` whose config settings are in the
cache (`codex.config.sandbox_settings`) and runs it through the same code as the typer
command (`codex.cli.sandbox_run`). Anything else returns None, and the typer command takes
over: --help, shell completion, an option or value it does not recognise (typer then reports
it), a cache miss (the full load then refreshes the cache). So both lanes give the same
result; this one only starts sooner.

The option tables mirror the typer definitions in `codex.cli.app` and `codex.cli.sandbox_cmd`;
tests/cli/test_sandbox_fast_lane.py checks them against the click parameters.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from codex.cli.sandbox_run import (
    SandboxArgs,
    UsageError,
    check_args,
    execute,
    exit_without_teardown,
)
from codex.cli.state import GlobalOptions

# option spelling -> (field, takes a value, repeatable)
GLOBAL_OPTIONS: dict[str, tuple[str, bool, bool]] = {
    "-c": ("overrides", True, True),
    "--config": ("overrides", True, True),
    "--config-profile": ("config_profile", True, False),
    "--profile": ("security_profile", True, False),
    "-s": ("sandbox_mode", True, False),
    "--sandbox": ("sandbox_mode", True, False),
    "-C": ("cd", True, False),
    "--cd": ("cd", True, False),
    # The interactive UI's root options: rare before `sandbox`, so typer handles them there.
    "-m": ("model", True, False),
    "--model": ("model", True, False),
    "-a": ("ask_for_approval", True, False),
    "--ask-for-approval": ("ask_for_approval", True, False),
    "--full-auto": ("full_auto", False, False),
    "-i": ("image", True, True),
    "--image": ("image", True, True),
}
_TYPER_ONLY = frozenset({"model", "ask_for_approval", "full_auto", "image"})
SANDBOX_OPTIONS: dict[str, tuple[str, bool, bool]] = {
    "--profile": ("profile", True, False),
    "-p": ("profile", True, False),
    "-C": ("cd", True, False),
    "--cd": ("cd", True, False),
    "--writable-root": ("writable_roots", True, True),
    "--timeout": ("timeout", True, False),
    "--allow-degraded": ("allow_degraded", False, False),
    "--env": ("env", True, True),
    "-e": ("env", True, True),
    "--json": ("as_json", False, False),
    "--approval-policy": ("approval_policy", True, False),
}
COMMAND = "sandbox"
COMPLETE_VAR = "_CODEX_COMPLETE"  # codex.cli.completion.COMPLETE_VAR (that module imports typer)


@dataclass
class FastInvocation:
    """A command line the fast lane understood completely."""

    options: GlobalOptions
    args: SandboxArgs


@dataclass
class _Parsed:
    values: dict[str, object] = field(default_factory=dict)
    rest: list[str] = field(default_factory=list)


def parse(argv: list[str]) -> FastInvocation | None:
    """Split `argv` (after the program name) or return None when typer must see it."""
    if os.environ.get(COMPLETE_VAR):
        return None
    head = _parse_options(argv, GLOBAL_OPTIONS)
    if head is None or not head.rest or head.rest[0] != COMMAND or _TYPER_ONLY & head.values.keys():
        return None
    tail = _parse_options(head.rest[1:], SANDBOX_OPTIONS)
    if tail is None:
        return None
    glob, own = head.values, tail.values
    try:
        timeout = float(str(own["timeout"])) if "timeout" in own else None
    except ValueError:
        return None
    cd = own.get("cd", glob.get("cd"))
    options = GlobalOptions(
        overrides=tuple(_strings(glob.get("overrides"))),
        config_profile=_optional(glob.get("config_profile")),
        security_profile=_optional(own.get("profile", glob.get("security_profile"))),
        sandbox_mode=_optional(glob.get("sandbox_mode")),
        cd=None if cd is None else Path(str(cd)),
    )
    args = SandboxArgs(
        command=tail.rest,
        writable_roots=[Path(p) for p in _strings(own.get("writable_roots"))],
        timeout=timeout,
        allow_degraded=bool(own.get("allow_degraded", False)),
        env=_strings(own.get("env")),
        as_json=bool(own.get("as_json", False)),
        approval_policy=_optional(own.get("approval_policy")),
    )
    return FastInvocation(options, args)


def _parse_options(argv: list[str], table: dict[str, tuple[str, bool, bool]]) -> _Parsed | None:
    """click's grammar for the spellings in `table`: `--name value`, `--name=value`, flags,
    `--` ending the options; the first positional ends them too. None for anything else."""
    parsed = _Parsed()
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            parsed.rest = argv[index + 1:]
            return parsed
        if not token.startswith("-") or token == "-":
            parsed.rest = argv[index:]
            return parsed
        name, has_inline, inline = token.partition("=") if token.startswith("--") else (
            token, "", "")
        spec = table.get(name)
        if spec is None:
            return None  # --help, -V, combined short flags, typos: typer's to handle
        key, takes_value, repeatable = spec
        if not takes_value:
            if has_inline:
                return None
            parsed.values[key] = True
            index += 1
            continue
        if has_inline:
            value = inline
            index += 1
        elif index + 1 < len(argv) and not argv[index + 1].startswith("-"):
            value = argv[index + 1]
            index += 2
        else:
            return None
        if repeatable:
            current = parsed.values.setdefault(key, [])
            assert isinstance(current, list)
            current.append(value)
        else:
            parsed.values[key] = value
    parsed.rest = []
    return parsed


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def run(argv: list[str]) -> int | None:
    """Run `codex sandbox` from the fast lane; None hands the command line to typer."""
    invocation = parse(argv)
    if invocation is None:
        return None
    from codex.config.home import codex_home
    from codex.config.sandbox_settings import cache_key, lookup
    from codex.config.workdir import resolve_workdir

    try:
        checked = check_args(invocation.args)
    except UsageError as exc:
        return _usage(exc)
    home = codex_home()
    key = cache_key(invocation.options, home)
    settings = lookup(home, key) if key is not None else None
    if settings is None:
        return None
    try:
        workspace = resolve_workdir(invocation.options.cd, Path.cwd())
    except FileNotFoundError:
        return None  # the current directory is gone: typer reports it
    if not workspace.is_dir():
        return None  # `-C` names no directory: the full load reports it
    for warning in settings.warnings:
        sys.stderr.write(f"codex: warning: {warning}\n")
    try:
        code = execute(settings, workspace, checked)
    except UsageError as exc:
        code = _usage(exc)
    exit_without_teardown(code)


def _usage(exc: UsageError) -> int:
    sys.stderr.write(f"codex sandbox: {exc}\n")
    return 2
