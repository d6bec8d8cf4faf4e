"""Reading entries back for `codex audit show`: time and session filters.

Reading never fails on a damaged log: lines that are not entries are skipped (`verify` is the
command that reports them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codex.audit.entry import AuditEntry, MalformedEntry, parse_line
from codex.audit.store import DAY_FILE, day_files, iter_lines

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])")


class BadSince(ValueError):
    """A --since value that is neither a duration nor a date; the message shows both forms."""


def parse_duration(text: str) -> timedelta:
    """`10m`, `2h`, `7d`, `1w`, or combinations such as `1h30m`."""
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact):
        raise BadSince(text)
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(compact)))


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The UTC moment a `--since` value names: a duration back from now, or a date/time."""
    moment = now or datetime.now(UTC)
    try:
        return moment - parse_duration(text)
    except BadSince:
        pass
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadSince(
            f"invalid --since {text!r}: use a duration such as 10m, 2h or 7d, or a date "
            "such as 2026-11-20 or 2026-11-20T08:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _entry_time(entry: AuditEntry) -> datetime | None:
    try:
        return datetime.fromisoformat(entry.ts).astimezone(UTC)
    except ValueError:
        return None


def read_entries(
    directory: Path,
    *,
    since: datetime | None = None,
    session: str | None = None,
) -> Iterator[AuditEntry]:
    """Valid entries in chain order; `session` matches an id exactly or by prefix."""
    first_day = since.astimezone(UTC).strftime("%Y-%m-%d") if since else None
    for path in day_files(directory):
        match = DAY_FILE.match(path.name)
        if first_day and match is not None and match.group(1) < first_day:
            continue
        try:
            yield from _matching(path, since, session)
        except OSError:
            continue  # a file removed or unreadable while we read: show what we can


def _matching(path: Path, since: datetime | None, session: str | None) -> Iterator[AuditEntry]:
    for _number, raw, _complete in iter_lines(path):
        try:
            entry = parse_line(raw)
        except MalformedEntry:
            continue
        if session is not None and not entry.session_id.startswith(session):
            continue
        if since is not None:
            when = _entry_time(entry)
            if when is None or when < since:
                continue
        yield entry
