"""Signed checkpoints: every way to cut or rewrite the tail, with and without the lock, with and
without a checkpoint; forged and foreign checkpoints; periodic and session-end signing.

The adversary here can write anything in the audit directory, including a head record forged
to match the tail they left (that is what the head alone cannot catch), but not the key
directory or an exported checkpoint.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_helpers import PYTHON, child_env, fill
from test_audit_tail import ENTRIES, TAMPERING, _cut, _rewrite_tail

from codex.audit import AuditLog, verify_log
from codex.audit.anchor_paths import (
    CHECKPOINT_EVERY,
    KEY_DIR_ENV,
    PRIVATE_KEY,
    PUBLIC_KEY,
    local_checkpoints,
)
from codex.audit.checkpoint import (
    ForgedCheckpoint,
    anchors,
    check_signature,
    load_private_key,
    sign,
    trusted_public_key,
)
from codex.audit.head import LOCK_NAME, Head
from codex.audit.store import day_files

pytestmark = pytest.mark.timeout(180)
LogFactory = Callable[..., AuditLog]


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "keys-outside-codex-home"
    monkeypatch.setenv(KEY_DIR_ENV, str(directory))
    return directory


def _forge_head(directory: Path) -> None:
    """Rewrite audit.lock so its head matches whatever tail the log now has (none for an
    emptied log: a log that was never written has no head)."""
    report = verify_log(directory, allow_missing_head=True)
    if report.entries == 0:
        (directory / LOCK_NAME).unlink()
        return
    (directory / LOCK_NAME).write_bytes(Head(report.last_seq, report.last_hash).to_bytes())


def _apply_lock(directory: Path, how: str) -> None:
    if how == "deleted":
        (directory / LOCK_NAME).unlink()
    elif how == "forged":
        _forge_head(directory)
    else:
        assert how == "kept"


WHOLE_LOG: dict[str, Callable[[Path], None]] = {
    "delete the day file": lambda f: f.unlink(),
    "empty the day file": lambda f: f.write_bytes(b""),
    "rewrite every entry": lambda f: _rewrite_tail(f, ENTRIES),
}
ALL_TAMPERING = {**TAMPERING, **WHOLE_LOG}


def _signed_log(make_log: LogFactory, codex_home: Path, keys: Path) -> tuple[Path, dict[int, str]]:
    fill(make_log(), ENTRIES)
    directory = codex_home / "audit"
    key, _ = load_private_key(keys, create=True)
    report = verify_log(directory)
    checkpoint = sign(key, directory, report.last_seq, report.last_hash)
    return day_files(directory)[0], anchors([checkpoint])


@pytest.mark.parametrize("lock", ["kept", "deleted", "forged"])
@pytest.mark.parametrize("tamper", sorted(ALL_TAMPERING))
def test_a_checkpoint_catches_every_cut_and_rewrite(
    make_log: LogFactory, codex_home: Path, keys: Path, tamper: str, lock: str
) -> None:
    day_file, signed = _signed_log(make_log, codex_home, keys)
    directory = day_file.parent
    ALL_TAMPERING[tamper](day_file)
    _apply_lock(directory, lock)
    for allow in (False, True):  # --allow-missing-head must not weaken the checkpoint
        report = verify_log(directory, anchors=signed, allow_missing_head=allow)
        assert report.error is not None, f"{tamper}, lock {lock}: {report.to_dict()}"
        assert report.error.kind in {"checkpoint_truncated", "checkpoint_mismatch"}


@pytest.mark.parametrize("tamper", sorted(ALL_TAMPERING))
def test_without_a_checkpoint_a_forged_head_goes_unnoticed(
    make_log: LogFactory, codex_home: Path, tamper: str
) -> None:
    """The documented limit of the head record: an adversary who rewrites audit.lock too
    (or wipes the whole directory) is only caught by a checkpoint."""
    fill(make_log(), ENTRIES)
    directory = codex_home / "audit"
    ALL_TAMPERING[tamper](day_files(directory)[0])
    _forge_head(directory)
    assert verify_log(directory).ok


def test_untampered_log_matches_its_checkpoint_and_grows_past_it(
    make_log: LogFactory, codex_home: Path, keys: Path
) -> None:
    _, signed = _signed_log(make_log, codex_home, keys)
    fill(make_log(), 3)
    report = verify_log(codex_home / "audit", anchors=signed)
    assert report.ok and report.entries == ENTRIES + 3


def test_entries_after_the_checkpoint_are_only_as_safe_as_the_head(
    make_log: LogFactory, codex_home: Path, keys: Path
) -> None:
    """What a checkpoint does not prove: a cut after it, with a forged head."""
    day_file, signed = _signed_log(make_log, codex_home, keys)
    fill(make_log(), 3)
    _cut(day_file, ENTRIES + 1)
    assert not verify_log(day_file.parent, anchors=signed).ok  # the head still catches it
    _forge_head(day_file.parent)
    assert verify_log(day_file.parent, anchors=signed).ok


def test_writers_sign_every_nth_entry_and_at_session_end(
    make_log: LogFactory, codex_home: Path, keys: Path
) -> None:
    log = make_log()
    fill(log, CHECKPOINT_EVERY + 1)
    directory = codex_home / "audit"
    stored = local_checkpoints(keys, directory)
    assert not stored.exists()  # no key, no checkpoint (and no PyNaCl import)
    load_private_key(keys, create=True)
    fill(log, CHECKPOINT_EVERY * 2 - (CHECKPOINT_EVERY + 1) + 5)
    assert [json.loads(line)["seq"] for line in stored.read_text().splitlines()] == [
        CHECKPOINT_EVERY * 2]
    log.checkpoint_newest()
    seqs = [json.loads(line)["seq"] for line in stored.read_text().splitlines()]
    assert seqs == [CHECKPOINT_EVERY * 2, CHECKPOINT_EVERY * 2 + 5]


def _codex(codex_home: Path, keys: Path, *args: str,
           stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "codex", *args], input=stdin,
                          env=child_env(codex_home, **{KEY_DIR_ENV: str(keys)}),
                          capture_output=True, text=True, timeout=100, check=False)


def test_cli_export_then_cut_and_forge(make_log: LogFactory, codex_home: Path, keys: Path,
                                       tmp_path: Path) -> None:
    fill(make_log(), ENTRIES)
    exported = tmp_path / "elsewhere" / "audit.checkpoint"
    exported.parent.mkdir()
    made = _codex(codex_home, keys, "audit", "checkpoint", "--export", str(exported))
    assert made.returncode == 0, made.stderr
    assert f"checkpoint: seq {ENTRIES}," in made.stdout and "created the audit" in made.stderr
    assert (keys / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    intact = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(exported))
    assert intact.returncode == 0, intact.stderr
    assert f"signed checkpoint(s) match, up to seq {ENTRIES}" in intact.stdout

    # The adversary cuts three entries, forges the head, and deletes the checkpoints kept in
    # the key directory too (they can delete, not forge): only the exported file remains.
    directory = codex_home / "audit"
    _cut(day_files(directory)[0], 3)
    _forge_head(directory)
    local_checkpoints(keys, directory).unlink()
    fooled = _codex(codex_home, keys, "audit", "verify")
    assert fooled.returncode == 0  # the documented limit without a checkpoint
    caught = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(exported))
    assert caught.returncode == 1, caught.stdout
    (line,) = caught.stderr.splitlines()
    assert "truncated: a signed checkpoint vouches for seq 6 but the log ends at seq 3" in line


def test_cli_stored_checkpoints_are_checked_without_being_asked(
    make_log: LogFactory, codex_home: Path, keys: Path
) -> None:
    fill(make_log(), ENTRIES)
    assert _codex(codex_home, keys, "audit", "checkpoint").returncode == 0
    directory = codex_home / "audit"
    _rewrite_tail(day_files(directory)[0], 2)
    _forge_head(directory)
    broken = _codex(codex_home, keys, "audit", "verify")
    assert broken.returncode == 1
    assert "rewritten: seq 6 is not the entry a signed checkpoint vouches for" in broken.stderr


def test_cli_export_to_stdout_and_verify_from_stdin(make_log: LogFactory, codex_home: Path,
                                                    keys: Path) -> None:
    fill(make_log(), ENTRIES)
    made = _codex(codex_home, keys, "audit", "checkpoint", "--export", "-")
    assert made.returncode == 0
    assert json.loads(made.stdout)["seq"] == ENTRIES  # stdout holds the checkpoint only
    ok = _codex(codex_home, keys, "audit", "verify", "--checkpoint", "-", stdin=made.stdout)
    assert ok.returncode == 0, ok.stderr


def test_cli_forged_and_foreign_checkpoints_fail(make_log: LogFactory, codex_home: Path,
                                                 keys: Path, tmp_path: Path) -> None:
    fill(make_log(), ENTRIES)
    made = _codex(codex_home, keys, "audit", "checkpoint", "--export", "-")
    forged = json.loads(made.stdout)
    forged["seq"] = 2  # points the checkpoint at an earlier entry, to excuse a cut
    forged_file = tmp_path / "forged.checkpoint"
    forged_file.write_text(json.dumps(forged))
    bad = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(forged_file))
    assert bad.returncode == 1 and "signature does not match" in bad.stderr

    other_keys = tmp_path / "other-keys"  # a checkpoint signed by a key nobody trusts
    foreign = _codex(codex_home, other_keys, "audit", "checkpoint", "--export", "-")
    foreign_file = tmp_path / "foreign.checkpoint"
    foreign_file.write_text(foreign.stdout)
    rejected = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(foreign_file))
    assert rejected.returncode == 1 and "signed by another key" in rejected.stderr
    trusted = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(foreign_file),
                     "--public-key", str(other_keys / "audit-signing.pub"))
    assert trusted.returncode == 0, trusted.stderr  # and the stored ones still check out
    missing = _codex(codex_home, keys, "audit", "verify", "--checkpoint", str(tmp_path / "no"))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1


def test_cli_refuses_to_sign_a_broken_log(make_log: LogFactory, codex_home: Path,
                                          keys: Path) -> None:
    fill(make_log(), ENTRIES)
    (codex_home / "audit" / LOCK_NAME).unlink()
    refused = _codex(codex_home, keys, "audit", "checkpoint")
    assert refused.returncode == 1 and "refusing to sign" in refused.stderr
    assert not keys.exists()


def test_cli_key_inside_codex_home_is_refused(make_log: LogFactory, codex_home: Path) -> None:
    fill(make_log(), 1)
    inside = codex_home / "keys"
    refused = _codex(codex_home, inside, "audit", "checkpoint")
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert "inside CODEX_HOME" in line and KEY_DIR_ENV in line
    assert not inside.exists()


PROBE = """
import json, sys
from codex.__main__ import main
try:
    main({args!r})
except SystemExit:
    pass
print(json.dumps("nacl" in sys.modules), file=sys.stderr)
"""


def test_plain_verify_does_not_load_nacl(make_log: LogFactory, codex_home: Path,
                                                 keys: Path, tmp_path: Path) -> None:
    fill(make_log(), ENTRIES)

    def loads_crypto(*args: str) -> bool:
        probe = subprocess.run([PYTHON, "-c", PROBE.format(args=list(args))],
                               env=child_env(codex_home, **{KEY_DIR_ENV: str(keys)}),
                               capture_output=True, text=True, timeout=100, check=False)
        return bool(json.loads(probe.stderr.strip().splitlines()[-1]))

    assert not loads_crypto("audit", "verify")
    exported = tmp_path / "cp"
    assert loads_crypto("audit", "checkpoint", "--export", str(exported))  # control
    assert loads_crypto("audit", "verify", "--checkpoint", str(exported))


def test_keys_are_standard_pem_that_openssl_reads_and_makes(keys: Path, tmp_path: Path) -> None:
    """Interop with a program nobody here wrote: openssl reads our key pair and checks our
    signature; a key openssl generated signs checkpoints we verify."""
    key, created = load_private_key(keys, create=True)
    assert created
    public = keys / PUBLIC_KEY
    derived = subprocess.run(["openssl", "pkey", "-in", str(keys / PRIVATE_KEY),
                              "-pubout"], capture_output=True, text=True, check=True).stdout
    assert derived == public.read_text()
    checkpoint = sign(key, tmp_path, 7, "ab" * 32)
    (tmp_path / "msg").write_bytes(checkpoint.statement())
    (tmp_path / "sig").write_bytes(base64.b64decode(checkpoint.signature))
    checked = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public),
                              "-rawin", "-in", str(tmp_path / "msg"), "-sigfile",
                              str(tmp_path / "sig")], capture_output=True, text=True)
    assert checked.returncode == 0 and "Signature Verified Successfully" in checked.stdout
    (tmp_path / "msg").write_bytes(checkpoint.statement() + b" ")  # control: a changed byte
    tampered = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                               str(public), "-rawin", "-in", str(tmp_path / "msg"),
                               "-sigfile", str(tmp_path / "sig")], capture_output=True)
    assert tampered.returncode != 0

    theirs = tmp_path / "openssl-keys"
    theirs.mkdir()
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    str(theirs / PRIVATE_KEY)], check=True, capture_output=True)
    foreign, created = load_private_key(theirs, create=False)
    assert not created
    signed = sign(foreign, tmp_path, 1, "cd" * 32)
    check_signature(signed, trusted_public_key(theirs), "openssl key")
    with pytest.raises(ForgedCheckpoint):
        check_signature(signed, key.verify_key, "our key")  # control: the wrong key fails
