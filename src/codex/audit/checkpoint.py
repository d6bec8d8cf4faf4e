"""Signed checkpoints: an ed25519 signature over (log, seq, hash) that anchors the chain.

The head record sits next to the log, so whoever can cut the log can rewrite the head too. A
checkpoint is signed with a key kept outside CODEX_HOME (codex.audit.anchor_paths): forging one
needs that key, and an exported checkpoint stored elsewhere (a CI artifact, another machine)
cannot be deleted by the writer at all. Since every entry's hash covers the one before it, a
matching hash at the checkpoint's seq proves that seq 1..N are exactly what was signed; a log
that ends before N, or holds a different entry at N, was cut or rewritten.

Imported only by the commands that sign or check checkpoints (it loads PyNaCl).

The signatures come from PyNaCl (libsodium), not `cryptography`: measured in the native build,
cryptography's Rust extension is 14.5 MB (4.6 MB gzipped) for this one algorithm, PyNaCl's
3.7 MB (1.3 MB). Keys stay in the standard PEM forms (PKCS#8 private, SubjectPublicKeyInfo
public, RFC 8410), so `openssl pkey` reads them and keys made by earlier versions still load;
for ed25519 both DER bodies are a fixed prefix followed by the 32 raw key bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from codex.audit.anchor_paths import PRIVATE_KEY, PUBLIC_KEY, local_checkpoints
from codex.audit.entry import GENESIS_HASH
from codex.fsutil import fsync_directory

FORMAT = "codex-audit-checkpoint/1"
_FIELDS = ("format", "log", "seq", "hash", "ts", "key_id", "signature")
# DER before the 32 key bytes: PKCS#8 v1 OneAsymmetricKey and SubjectPublicKeyInfo, ed25519.
_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class CheckpointError(Exception):
    """A checkpoint cannot be made, read or trusted; the message says which and why."""


class ForgedCheckpoint(CheckpointError):
    """A checkpoint whose signature does not match: evidence of tampering, not bad input."""


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement: the log in `log` had entry `seq` with hash `hash` at `ts`."""

    format: str
    log: str
    seq: int
    hash: str
    ts: str
    key_id: str
    signature: str

    def statement(self) -> bytes:
        """The signed bytes: every field but the signature, canonical JSON."""
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"


def key_id(public: VerifyKey) -> str:
    return hashlib.sha256(public.encode()).hexdigest()[:16]


def _pem(label: str, der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def _key_bytes(pem: bytes, label: str, prefix: bytes) -> bytes | None:
    """The raw ed25519 key in a PEM block, or None when it is not one (another algorithm,
    another block type, or not PEM at all)."""
    text = pem.decode("ascii", "replace").strip().splitlines()
    if len(text) < 3 or text[0] != f"-----BEGIN {label}-----" or \
            text[-1] != f"-----END {label}-----":
        return None
    try:
        der = base64.b64decode("".join(text[1:-1]), validate=True)
    except ValueError:
        return None
    if len(der) != len(prefix) + 32 or not der.startswith(prefix):
        return None
    return der[len(prefix):]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(keys: Path, *, create: bool) -> tuple[SigningKey, bool]:
    """The signing key in `keys` (and whether it was just created)."""
    path = keys / PRIVATE_KEY
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise CheckpointError(
                f"no audit checkpoint key in {keys}; run `codex audit checkpoint` once to "
                "create it") from None
        return _create_key(keys), True
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc
    seed = _key_bytes(pem, "PRIVATE KEY", _PKCS8_PREFIX)
    if seed is None:
        raise CheckpointError(f"{path} is not an unencrypted ed25519 private key in PEM "
                              "(PKCS#8)")
    return SigningKey(seed), False


def _create_key(keys: Path) -> SigningKey:
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = SigningKey.generate()
    pem = _pem("PRIVATE KEY", _PKCS8_PREFIX + key.encode())
    public = _pem("PUBLIC KEY", _SPKI_PREFIX + key.verify_key.encode())
    try:
        _write_new(keys / PRIVATE_KEY, pem, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_private_key(keys, create=False)[0]
    (keys / PUBLIC_KEY).unlink(missing_ok=True)
    _write_new(keys / PUBLIC_KEY, public, 0o644)
    fsync_directory(keys)
    return key


def trusted_public_key(keys: Path, public_key_file: Path | None = None) -> VerifyKey:
    """The key checkpoints must be signed with: `public_key_file` when given, else the public
    key in the key directory (enough on its own, for a machine that only verifies)."""
    path = public_key_file or keys / PUBLIC_KEY
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        if public_key_file is None and (keys / PRIVATE_KEY).exists():
            return load_private_key(keys, create=False)[0].verify_key
        raise CheckpointError(
            f"no public key {path} to check checkpoint signatures with (set the key directory "
            "with CODEX_AUDIT_KEY_DIR or pass --public-key)") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc
    raw = _key_bytes(pem, "PUBLIC KEY", _SPKI_PREFIX)
    if raw is None:
        raise CheckpointError(f"{path} is not an ed25519 public key in PEM")
    return VerifyKey(raw)


def sign(key: SigningKey, audit_directory: Path, seq: int, digest: str) -> Checkpoint:
    """A checkpoint of entry `seq` (hash `digest`) of the log in `audit_directory`."""
    unsigned = Checkpoint(FORMAT, str(audit_directory.resolve()), seq, digest,
                          datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                          key_id(key.verify_key), "")
    signature = base64.b64encode(key.sign(unsigned.statement()).signature).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def store_locally(keys: Path, audit_directory: Path, checkpoint: Checkpoint) -> Path:
    """Append `checkpoint` to the log's checkpoint file in the key directory."""
    path = local_checkpoints(keys, audit_directory)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, checkpoint.to_line().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def parse(text: str, origin: str) -> Checkpoint:
    """One checkpoint from its JSON form; `origin` names where it came from in errors."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"{origin}: not a checkpoint (not JSON)") from exc
    if not isinstance(data, dict) or set(data) != set(_FIELDS) or data["format"] != FORMAT:
        raise CheckpointError(f"{origin}: not a {FORMAT} checkpoint")
    if type(data["seq"]) is not int or data["seq"] < 0 or not all(
            isinstance(data[k], str) for k in _FIELDS if k != "seq"):
        raise CheckpointError(f"{origin}: not a {FORMAT} checkpoint (bad field types)")
    return Checkpoint(**data)


def check_signature(checkpoint: Checkpoint, public: VerifyKey, origin: str) -> None:
    """Raise unless `checkpoint` was signed by `public` exactly as it reads."""
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public.verify(checkpoint.statement(), signature)
    except (ValueError, BadSignatureError):
        raise ForgedCheckpoint(
            f"{origin}: the signature does not match (checkpoint forged or edited, or signed "
            f"by another key: it names key {checkpoint.key_id}, trusted is {key_id(public)})"
        ) from None


def read_checkpoints(text: str, origin: str, public: VerifyKey) -> list[Checkpoint]:
    """Every checkpoint in a text (one per line), each signature checked."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        checkpoint = parse(line, where)
        check_signature(checkpoint, public, where)
        found.append(checkpoint)
    if not found:
        raise CheckpointError(f"{origin}: holds no checkpoint")
    return found


def anchors(checkpoints: list[Checkpoint]) -> dict[int, str]:
    """seq -> hash the log must hold, from checkpoints (seq 0 anchors nothing)."""
    result: dict[int, str] = {}
    for checkpoint in checkpoints:
        if checkpoint.seq == 0 and checkpoint.hash == GENESIS_HASH:
            continue
        if result.setdefault(checkpoint.seq, checkpoint.hash) != checkpoint.hash:
            raise ForgedCheckpoint(f"two checkpoints sign different entries as seq "
                                  f"{checkpoint.seq}: the log was rewritten between them")
        result[checkpoint.seq] = checkpoint.hash
    return result
