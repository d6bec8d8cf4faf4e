"""The tamper-evident audit log: every guard decision, hash-chained, scrubbed, append-only.

Public interface (stdlib only, so `codex sandbox` can import it on its fast path):

- `AuditLog(codex_home).record(operation, target, decision, reason, profile, session_id,
  actor) -> AuditEntry` appends one entry (raises `AuditError` when it cannot; the caller must
  then not perform the action).
- `verify_log(directory) -> VerifyReport` (`.ok`, `.error`, `.warnings`, `.to_dict()`).
- `read_entries(directory, since=..., session=...)` and `parse_since("2h")` for queries.
- `audit_dir(codex_home)`: where the log lives.
"""

from codex.lazy_exports import lazy_exports

TYPE_CHECKING = False  # `typing` is not needed at run time here
if TYPE_CHECKING:
    from codex.audit.entry import GENESIS_HASH, AuditEntry, Decision, Operation
    from codex.audit.query import BadSince, parse_since, read_entries
    from codex.audit.scrub import Scrubber
    from codex.audit.store import AuditError, AuditLog, audit_dir
    from codex.audit.verify import Finding, VerifyReport, verify_log

# Loaded on first use: recording an entry (every sandboxed command) needs neither the query
# nor the verify module.
_EXPORTS = {
    "GENESIS_HASH": "codex.audit.entry",
    "AuditEntry": "codex.audit.entry",
    "Decision": "codex.audit.entry",
    "Operation": "codex.audit.entry",
    "BadSince": "codex.audit.query",
    "parse_since": "codex.audit.query",
    "read_entries": "codex.audit.query",
    "Scrubber": "codex.audit.scrub",
    "AuditError": "codex.audit.store",
    "AuditLog": "codex.audit.store",
    "audit_dir": "codex.audit.store",
    "Finding": "codex.audit.verify",
    "VerifyReport": "codex.audit.verify",
    "verify_log": "codex.audit.verify",
}

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "BadSince",
    "Decision",
    "Finding",
    "Operation",
    "Scrubber",
    "VerifyReport",
    "audit_dir",
    "parse_since",
    "read_entries",
    "verify_log",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
