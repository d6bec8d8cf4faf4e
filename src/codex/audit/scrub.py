"""Scrubbing free text before it reaches the audit log.

An audit log is read by people who should not learn secrets from it, and it lives longer than
the session that wrote it. So secrets go first (values of credential-looking environment
variables, then recognisable key formats), then identity: the home directory becomes `[HOME]`
before the user name becomes `[USER]`, so a home path is replaced whole instead of leaving
`/home/[USER]`. Secrets run before identity because a secret that happens to contain the user
name would otherwise be altered and then no longer match its own value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
HOME = "[HOME]"
USER = "[USER]"

# Environment variable names whose values are treated as secrets.
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|^AWS_|^AZURE_|^GOOGLE_|^GCP_"
    r"|^OPENAI_ORG|^OPENAI_PROJECT|^DATABASE_URL$|_DSN$|^PGPASS",
    re.IGNORECASE,
)
# Shorter values ("1", "true", "us-east") are too common to scrub without mangling the log.
MIN_SECRET_LENGTH = 8

# Recognisable credential formats, redacted wherever they appear. Groups named `keep` survive.
_KEY_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.DOTALL) for p in (
        r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)",
        r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}",
        r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",
        r"\bgh[pousr]_[A-Za-z0-9]{20,}",
        r"\bgithub_pat_[A-Za-z0-9_]{20,}",
        r"\bglpat-[A-Za-z0-9_\-]{16,}",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b",
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
        r"\bAIza[0-9A-Za-z_\-]{35}",
        r"\bhf_[A-Za-z0-9]{30,}",
        r"\bnpm_[A-Za-z0-9]{36}",
        r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",
        r"(?i)(?P<keep>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=\-]{8,}",
        r"(?i)(?P<keep>(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key)"
        r"[A-Za-z0-9_\-]*\s*[=:]\s*)[^\s'\"&;,]{4,}",
        r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+(?=@)",
    )
)

# Stored strings are capped so one enormous command cannot bloat the log; the cap is applied
# after scrubbing so it never cuts a secret in half and leaves a recognisable prefix behind.
MAX_FIELD_CHARS = 8192


def _replace_keeping(match: re.Match[str]) -> str:
    keep = match.groupdict().get("keep") or ""
    return keep + REDACTED


def clean_text(text: str) -> str:
    """Make text storable as UTF-8: bytes smuggled in as surrogates become `\\xNN` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "backslashreplace")


class Scrubber:
    """Replaces secrets, the home directory and the user name in free text."""

    def __init__(
        self,
        secret_values: Iterable[str] = (),
        homes: Iterable[str] = (),
        users: Iterable[str] = (),
        max_chars: int | None = MAX_FIELD_CHARS,
    ) -> None:
        self._max_chars = max_chars
        values = sorted({v for v in secret_values if len(v) >= MIN_SECRET_LENGTH},
                        key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None
        home_list = sorted({h.rstrip("/") for h in homes if len(h.rstrip("/")) >= 2},
                           key=len, reverse=True)
        self._homes = (
            re.compile(r"(?<![\w.\-/])(?:" + "|".join(map(re.escape, home_list))
                       + r")(?![\w.\-])")
            if home_list else None
        )
        user_list = sorted({u for u in users if len(u) >= 2}, key=len, reverse=True)
        self._users = (
            re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, user_list))
                       + r")(?![A-Za-z0-9_])")
            if user_list else None
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Scrubber:
        """A scrubber for this process: its environment, home directory and user."""
        env = os.environ if environ is None else environ
        secrets = [value for name, value in env.items() if _SECRET_NAME.search(name)]
        homes: set[str] = set()
        users: set[str] = set()
        if env.get("HOME"):
            homes.add(env["HOME"])
        for name in ("USER", "LOGNAME"):
            if env.get(name):
                users.add(env[name])
        try:
            import pwd

            record = pwd.getpwuid(os.getuid())
            homes.add(record.pw_dir)
            users.add(record.pw_name)
        except (ImportError, KeyError):
            pass
        homes |= {os.path.realpath(h) for h in homes}
        return cls(secrets, homes, users)

    @classmethod
    def secrets_only(cls, environ: Mapping[str, str] | None = None) -> Scrubber:
        """Secrets only, no length cap: for text that must keep its meaning (a session's
        conversation and rollout), where `[HOME]`/`[USER]` and cuts would corrupt it."""
        env = os.environ if environ is None else environ
        return cls([value for name, value in env.items() if _SECRET_NAME.search(name)],
                   max_chars=None)

    def scrub(self, text: str) -> str:
        """Scrubbed, storable and length-capped version of `text`."""
        text = clean_text(text)
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        for pattern in _KEY_PATTERNS:
            text = pattern.sub(_replace_keeping, text)
        if self._homes is not None:
            text = self._homes.sub(HOME, text)
        if self._users is not None:
            text = self._users.sub(USER, text)
        if self._max_chars is not None and len(text) > self._max_chars:
            dropped = len(text) - self._max_chars
            text = f"{text[:self._max_chars]}...[{dropped} more characters]"
        return text
