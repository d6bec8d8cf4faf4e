"""`codex audit checkpoint` and the checkpoint side of `codex audit verify`.

Kept out of audit_cmd so the plain commands never load PyNaCl: this module is imported
only when a checkpoint is made, passed with --checkpoint, or already stored for the log.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from codex.audit import verify_log
from codex.audit.anchor_paths import KeyDirError, key_dir, local_checkpoints
from codex.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    ForgedCheckpoint,
    anchors,
    load_private_key,
    read_checkpoints,
    sign,
    store_locally,
    trusted_public_key,
)
from codex.fsutil import write_atomic

EXIT_BROKEN, EXIT_USAGE = 1, 2


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"codex: error: {message}", err=True)
    return typer.Exit(code)


def _keys(codex_home: Path) -> Path:
    try:
        return key_dir(codex_home)
    except KeyDirError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


@dataclass(frozen=True)
class Anchors:
    """Verified checkpoints for a log: seq -> hash, and how many vouched for it."""

    by_seq: dict[int, str]
    count: int


def load_anchors(codex_home: Path, directory: Path, given: str | None,
                 public_key: Path | None) -> Anchors:
    """The signed checkpoints `verify` must hold the log to: the file given with --checkpoint
    ('-' = stdin, signed with `public_key` when given) plus those stored for this log in the
    key directory. Exit 2 for an unreadable --checkpoint file, exit 1 for a signature that
    does not match."""
    keys = _keys(codex_home)
    found: list[Checkpoint] = []
    try:
        if given is not None:
            try:
                text = (sys.stdin.read() if given == "-"
                        else Path(given).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise _fail(f"cannot read --checkpoint {given}: {exc}", EXIT_USAGE) from None
            found += read_checkpoints(text, "stdin" if given == "-" else given,
                                      trusted_public_key(keys, public_key))
        stored = local_checkpoints(keys, directory)
        if stored.exists():  # always signed with the key of the key directory
            try:
                text = stored.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _fail(f"cannot read the stored checkpoints {stored}: {exc}",
                            EXIT_BROKEN) from None
            found += read_checkpoints(text, str(stored), trusted_public_key(keys))
        return Anchors(anchors(found), len(found))
    except ForgedCheckpoint as exc:
        typer.echo(f"audit log BROKEN: {exc}", err=True)
        raise typer.Exit(EXIT_BROKEN) from None
    except CheckpointError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def make_checkpoint(codex_home: Path, directory: Path, export: str | None) -> None:
    """Verify the log, sign a checkpoint of its newest entry, store it with the key and export
    it to `export` (a file, '-' for stdout)."""
    report = verify_log(directory)
    if report.error is not None:
        raise _fail(f"refusing to sign a checkpoint of a broken log: {report.error.message} "
                    "(see `codex audit verify`)", EXIT_BROKEN)
    keys = _keys(codex_home)
    try:
        key, created = load_private_key(keys, create=True)
        checkpoint = sign(key, directory, report.last_seq, report.last_hash)
        stored = store_locally(keys, directory, checkpoint)
    except (CheckpointError, OSError) as exc:
        raise _fail(f"cannot make a checkpoint: {exc}", EXIT_BROKEN) from None
    if created:
        typer.echo(f"created the audit checkpoint key {keys}/ (keep a copy of its .pub where "
                   "checkpoints are verified)", err=True)
    if export == "-":
        sys.stdout.write(checkpoint.to_line())
        sys.stdout.flush()
    elif export is not None:
        try:
            write_atomic(Path(export), checkpoint.to_line(), mode=0o644)
        except OSError as exc:
            raise _fail(f"cannot write {export}: {exc.strerror or exc}", EXIT_USAGE) from None
    where = f"; exported to {export}" if export not in (None, "-") else ""
    typer.echo(f"checkpoint: seq {checkpoint.seq}, hash {checkpoint.hash[:16]}, key "
               f"{checkpoint.key_id}; stored in {stored}{where}", err=export == "-")
