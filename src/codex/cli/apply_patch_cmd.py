"""`codex apply-patch [FILE|-]`: apply a Codex-format patch in the working directory.

The patch is checked against the path policy of the effective security profile, exactly as
when the agent applies it, and lands atomically. The default profile (`offline`) writes
nothing, so a user who runs the command without choosing one gets a one-line explanation
naming the flag (`--profile workspace-write`) instead of a list of refused paths. Applied
and refused patches are recorded in the audit log (actor `user`) unless `[audit] enabled =
false`; a patch that cannot be recorded is not applied.
Exit codes: 0 applied, 1 not applied (nothing changed), 2 usage error.
"""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, NoReturn

import typer

HELP = """Apply a patch in the apply_patch format (*** Begin Patch ... *** End Patch).

Reads the patch from FILE, or from standard input when FILE is '-' or omitted. Paths in
the patch are relative to the working directory (-C). The patch is all-or-nothing: if any
file cannot be changed, no file changes.

Writes follow the security profile: the default profile, offline, writes nothing, so pass
the global option --profile workspace-write (codex --profile workspace-write apply-patch
fix.patch) or set security_profile in config.toml. Protected paths (.git/hooks, .git/config,
.gitmodules, .envrc, .vscode, .idea, .codex) and paths outside the writable roots are
always refused.

Exit status: 0 applied, 1 not applied (nothing changed), 2 usage error.
"""


def register(app: typer.Typer) -> None:
    app.command("apply-patch", help=HELP, no_args_is_help=False)(apply_patch_command)


def apply_patch_command(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(metavar="[FILE|-]", help="Patch file; '-' or omitted reads stdin.",
                       show_default=False),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result as one JSON object.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the patch and print the diff; write "
                           "nothing.")
    ] = False,
) -> None:
    from codex.audit import AuditError
    from codex.cli.audit_cmd import open_audit_log
    from codex.cli.common import load_effective_config
    from codex.patch import (
        CommitFailed,
        PatchFailed,
        PatchParseError,
        PathPolicy,
        commit_patch,
        prepare_patch,
        preview_of,
    )

    text = _read_patch(file, json_output)
    config = load_effective_config(ctx)
    policy = PathPolicy.from_sandbox_policy(config.sandbox_policy(), config.cwd)
    if not policy.unrestricted and not policy.writable_roots and not dry_run:
        _fail(
            f"the '{config.security_profile.value}' security profile does not allow writing "
            "files; run 'codex --profile workspace-write apply-patch ...' (or set "
            "security_profile in config.toml) to apply patches in the workspace",
            json_output, code=1,
        )
    audit = None if dry_run else open_audit_log(config)
    session = f"cli-{uuid.uuid4().hex[:12]}"

    def record(targets: list[str], decision: str, reason: str) -> None:
        if audit is not None:
            audit.record("patch_apply", ", ".join(targets), decision, reason,
                         policy.profile, session, "user")

    try:
        plan = prepare_patch(text, policy)
    except PatchParseError as exc:
        _fail(f"{exc}", json_output, code=1)
    except PatchFailed as exc:
        if exc.refused:
            with contextlib.suppress(AuditError):
                record([str(config.cwd)], "denied", "; ".join(exc.problems))
        _fail(str(exc), json_output, code=1, problems=exc.problems, refused=exc.refused)
    result = preview_of(plan)
    if not dry_run:
        targets = [str(p) for c in result.changes for p in (c.path, c.move_path) if p]
        try:
            record(targets, "allowed", ", ".join(f"{c.kind} {c.display_path}"
                                                 for c in result.changes))
        except AuditError as exc:
            _fail(f"patch not applied: cannot record it in the audit log ({exc})", json_output,
                  code=1)
        try:
            result = commit_patch(plan)
        except CommitFailed as exc:
            _fail(str(exc), json_output, code=1)
    if json_output:
        typer.echo(json.dumps({"ok": True, "dry_run": dry_run, **result.to_json()}))
        return
    if dry_run:
        for change in result.changes:
            typer.echo(change.diff, nl=False)
    typer.echo(result.summary())


def _read_patch(file: str | None, json_output: bool) -> str:
    if file is None or file == "-":
        if file is None and sys.stdin.isatty():
            _fail("no patch given: pass a patch FILE, or pipe the patch on standard input "
                  "(codex apply-patch - < fix.patch)", json_output, code=2)
        return sys.stdin.read()
    path = Path(file)
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        _fail(f"patch file not found: {file}", json_output, code=2)
    except IsADirectoryError:
        _fail(f"patch file is a directory: {file}", json_output, code=2)
    except OSError as exc:
        _fail(f"cannot read patch file {file}: {exc.strerror or exc}", json_output, code=2)


def _fail(message: str, json_output: bool, *, code: int, problems: list[str] | None = None,
          refused: bool = False) -> NoReturn:
    if json_output:
        typer.echo(json.dumps({"ok": False, "error": message, "refused": refused,
                               "problems": problems or [message]}))
    else:
        typer.echo(f"codex: error: {message}", err=True)
    raise typer.Exit(code)
