"""`codex audit show | verify | checkpoint | path`: read, check, anchor and locate the audit log.

Also home of `open_audit_log(config)`, the one place that turns the `[audit]` config into an
`AuditLog`, so every command that records decisions writes to the same directory.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from codex.audit import AuditEntry, AuditLog, BadSince, parse_since, read_entries, verify_log
from codex.audit.store import audit_dir
from codex.cli.common import load_effective_config
from codex.config import EffectiveConfig

HELP = """Read, check and locate the audit log.

Every decision the guards take (a command allowed, refused or sent for approval, an approval
answer) is appended to a hash-chained JSON-lines log under $CODEX_HOME/audit, one file per UTC
day, with secrets, the home directory and the user name scrubbed out before writing.

Examples: codex audit show --since 2h | codex audit show --session 3f2a --json |
codex audit verify | codex audit checkpoint --export ci/audit.checkpoint |
codex audit verify --checkpoint ci/audit.checkpoint | codex audit path
"""


def audit_directory(config: EffectiveConfig) -> Path:
    """The configured audit directory (`[audit] dir`, relative to CODEX_HOME), else the default."""
    return audit_dir(config.codex_home, config.audit.dir)


def open_audit_log(config: EffectiveConfig) -> AuditLog | None:
    """The log decisions are recorded in, or None when `[audit] enabled = false`."""
    if not config.audit.enabled:
        return None
    return AuditLog(config.codex_home, directory=audit_directory(config))


def _has_checkpoints(config: EffectiveConfig) -> bool:
    from codex.audit.anchor_paths import KeyDirError, key_dir, local_checkpoints

    try:
        return local_checkpoints(key_dir(config.codex_home), audit_directory(config)).exists()
    except KeyDirError:
        return False


def _printable(text: str) -> str:
    # Entries hold text the model chose; never let it drive the terminal (escape sequences).
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def _render_table(entries: list[AuditEntry]) -> None:
    headers = ("TIME (UTC)", "SEQ", "SESSION", "ACTOR", "OPERATION", "DECISION", "PROFILE")
    rows = [
        (e.ts[:19].replace("T", " "), str(e.seq), _printable(e.session_id[:12]),
         _printable(e.actor), e.operation, e.decision, _printable(e.profile))
        for e in entries
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    details = [
        _printable(e.target) + (f"  ({_printable(e.reason)})" if e.reason else "")
        for e in entries
    ]
    prefix_width = sum(widths) + 2 * len(widths)
    columns = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 0
    room = columns - prefix_width if columns else 0

    def line(cells: tuple[str, ...], detail: str) -> str:
        if room > 10 and len(detail) > room:
            detail = detail[: room - 1] + "…"
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + detail

    typer.echo(line(headers, "TARGET  (REASON)"))
    for row, detail in zip(rows, details, strict=True):
        typer.echo(line(row, detail).rstrip())


def register(app: typer.Typer) -> None:
    """Add `codex audit` and its subcommands to the app."""
    audit_app = typer.Typer(name="audit", help=HELP, no_args_is_help=True)

    @audit_app.command("show")
    def show(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option(
            "--since", metavar="DURATION",
            help="Only entries newer than this: 10m, 2h, 7d, 1h30m, or a date/time such as "
                 "2026-11-20 or 2026-11-20T08:00Z.")] = None,
        session: Annotated[str | None, typer.Option(
            "--session", metavar="ID", help="Only this session (a unique prefix is enough).")]
            = None,
        limit: Annotated[int | None, typer.Option(
            "--limit", "-n", min=1, metavar="N", help="Only the newest N matching entries.")]
            = None,
        as_json: Annotated[bool, typer.Option(
            "--json", help="One JSON object per line, exactly as stored.")] = False,
    ) -> None:
        """Show audit entries, oldest first."""
        config = load_effective_config(ctx)
        try:
            cutoff = parse_since(since) if since is not None else None
        except BadSince as exc:
            typer.echo(f"codex: error: {exc}", err=True)
            raise typer.Exit(2) from None
        entries = list(read_entries(audit_directory(config), since=cutoff, session=session))
        if limit is not None:
            entries = entries[-limit:]
        if as_json:
            out = sys.stdout.buffer
            for entry in entries:
                out.write(entry.to_line())
            out.flush()
            return
        if not entries:
            typer.echo("no matching audit entries", err=True)
            return
        _render_table(entries)

    @audit_app.command("verify")
    def verify(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the report as one JSON object.")] = False,
        allow_missing_head: Annotated[bool, typer.Option(
            "--allow-missing-head",
            help="Only for a log written before codex kept a head record in audit.lock: "
                 "accept it without one (a cut-off tail then cannot be detected).")] = False,
        checkpoint: Annotated[str | None, typer.Option(
            "--checkpoint", metavar="FILE",
            help="Also hold the log to the signed checkpoint(s) in FILE ('-' = stdin), made "
                 "by `codex audit checkpoint --export`: a log cut or rewritten up to a "
                 "checkpoint fails.")] = None,
        public_key: Annotated[Path | None, typer.Option(
            "--public-key", metavar="FILE",
            help="The PEM public key checkpoints must be signed with (default: "
                 "audit-signing.pub in the key directory).")] = None,
    ) -> None:
        """Check every entry's hash and chain link, the head record and any signed
        checkpoints; exit 1 naming the first problem (a broken entry, a cut-off or rewritten
        tail, a missing head).

        Checkpoints stored for this log in the key directory ($CODEX_AUDIT_KEY_DIR, else
        $XDG_CONFIG_HOME/codex-audit) are always checked."""
        config = load_effective_config(ctx)
        directory = audit_directory(config)
        by_seq: dict[int, str] = {}
        vouched = 0
        if checkpoint is not None or public_key is not None or _has_checkpoints(config):
            from codex.cli.audit_anchor import load_anchors

            loaded = load_anchors(config.codex_home, directory, checkpoint, public_key)
            by_seq, vouched = loaded.by_seq, loaded.count
        report = verify_log(directory, allow_missing_head=allow_missing_head, anchors=by_seq)
        if as_json:
            typer.echo(json.dumps({**report.to_dict(), "checkpoints": vouched,
                                   "checkpoint_seq": max(by_seq, default=0)}))
            raise typer.Exit(0 if report.ok else 1)
        for warning in report.warnings:
            where = f"{warning.location}: " if warning.location else ""
            typer.echo(f"codex: warning: {where}{warning.message}", err=True)
        error = report.error
        if error is not None:
            where = f" at {error.location}" if error.location else ""
            seq = f" (seq {error.seq})" if error.seq is not None else ""
            typer.echo(f"audit log BROKEN{where}{seq}: {error.message}", err=True)
            raise typer.Exit(1)
        if report.entries == 0:
            typer.echo(f"audit log empty: no entries in {report.directory}")
            return
        anchored = (f"; {vouched} signed checkpoint(s) match, up to seq {max(by_seq)}"
                    if by_seq else "")
        typer.echo(f"audit log intact: {report.entries} entries in {report.files} file(s), "
                   f"seq 1..{report.last_seq}, head {report.last_hash[:16]}{anchored}")

    @audit_app.command("checkpoint")
    def checkpoint_cmd(
        ctx: typer.Context,
        export: Annotated[str | None, typer.Option(
            "--export", metavar="FILE|-",
            help="Also write the checkpoint to FILE ('-' = stdout) to keep it somewhere the "
                 "writer of the log cannot reach (a CI artifact, another machine).")] = None,
    ) -> None:
        """Verify the log and sign a checkpoint of its newest entry with the ed25519 key in
        $CODEX_AUDIT_KEY_DIR (else $XDG_CONFIG_HOME/codex-audit), creating the key on first
        use. Once the key exists, codex also signs one every 64 entries and when a session
        ends. `codex audit verify --checkpoint FILE` then fails for a log cut or rewritten up
        to that checkpoint."""
        from codex.cli.audit_anchor import make_checkpoint

        config = load_effective_config(ctx)
        make_checkpoint(config.codex_home, audit_directory(config), export)

    @audit_app.command("path")
    def path(ctx: typer.Context) -> None:
        """Print the audit log directory."""
        typer.echo(str(audit_directory(load_effective_config(ctx))))

    app.add_typer(audit_app)
