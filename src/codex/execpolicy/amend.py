"""Appending an allow rule to `CODEX_HOME/rules/default.toml` (the `approved_always` answer).

Many codex processes may answer "always" at the same moment, so the read-check-write runs under
a file lock (`default.toml.lock`), the file is replaced atomically (temp file, fsync, rename) and
the existing text is kept byte for byte: the new rule is appended, never re-serialised. A rule
whose pattern is already allowed in the file is not added again, so the operation is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codex.execpolicy.loading import rules_dir, toml_loads
from codex.fsutil import fsync_directory, write_atomic

DEFAULT_RULES_FILE = "default.toml"
LOCK_TIMEOUT_S = 30.0


class AmendError(Exception):
    """The rule could not be written (bad command words, unreadable or invalid file)."""


def default_rules_path(codex_home: Path) -> Path:
    """`CODEX_HOME/rules/default.toml`."""
    return rules_dir(codex_home) / DEFAULT_RULES_FILE


def append_allow_rule(codex_home: Path, prefix: Sequence[str], *,
                      justification: str = "approved always by the user") -> bool:
    """Allow commands starting with `prefix` from now on; True if a rule was added, False if an
    identical allow rule was already there. Raises AmendError when it cannot be written."""
    words = [str(w) for w in prefix]
    if not words or not all(words):
        raise AmendError("cannot store an empty command or empty words as a rule")
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise AmendError(f"{word!r} is not valid text and cannot be stored in a rule") \
                from None
    path = default_rules_path(codex_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Imported here: every guarded command loads this module, few ever write a rule.
    from filelock import FileLock

    with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
        existing = _read(path)
        if _already_allowed(existing, words, path):
            return False
        separator = "" if not existing or existing.endswith("\n") else "\n"
        block = ("\n" if existing else "") + _rule_block(words, justification)
        _atomic_write(path, existing + separator + block)
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise AmendError(f"{path}: cannot read: {exc}") from None


def _already_allowed(text: str, words: list[str], path: Path) -> bool:
    if not text:
        return False
    try:
        data = toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise AmendError(f"{path}: invalid TOML, fix it before adding rules: {exc}") from None
    for rule in data.get("rule", []):
        if isinstance(rule, dict) and rule.get("decision") == "allow" and rule.get(
                "pattern") == words:
            return True
    return False


def _rule_block(words: list[str], justification: str) -> str:
    pattern = ", ".join(toml_string(w) for w in words)
    return ("[[rule]]\n"
            f"pattern = [{pattern}]\n"
            'decision = "allow"\n'
            f"justification = {toml_string(justification)}\n"
            f"match = [[{pattern}]]\n")


def toml_string(value: str) -> str:
    """A TOML basic string for any text (control characters and DEL escaped)."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _atomic_write(path: Path, text: str) -> None:
    """Replace the rules file keeping its mode (0600 when new); durable on return."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    write_atomic(path, text, mode=mode)
    fsync_directory(path.parent)
