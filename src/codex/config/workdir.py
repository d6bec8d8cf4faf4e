"""Where a command works: the directory `-C` names (relative to the current one), and the
configured writable roots resolved against it.

Stdlib only: the config loader and `codex sandbox`'s fast lane share these rules, so the
settings cache can hold the configured values and each run resolves them where it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def resolve_workdir(cd: Path | None, base: Path) -> Path:
    """`-C DIR` taken from `base` (the current directory), or `base` itself (not checked)."""
    if cd is None:
        return base.absolute()
    return (base / cd.expanduser()).absolute()


def resolve_roots(roots: Iterable[Path], workdir: Path) -> tuple[Path, ...]:
    """Configured writable roots, relative ones taken from `workdir`."""
    return tuple(root if root.is_absolute() else workdir / root for root in roots)
