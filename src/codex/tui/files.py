"""`@` file search: a fuzzy match over the workspace's files, honouring .gitignore.

In a git repository the candidates are `git ls-files --cached --others --exclude-standard`
(tracked plus untracked-but-not-ignored); elsewhere a bounded walk that skips hidden
directories. Scoring is a subsequence match that prefers hits in the file name, consecutive
runs and short paths.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_WALK_LIMIT = 20000


def workspace_files(root: Path) -> list[str]:
    """Relative paths of the files a user may mention."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard",
             "-z"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0:
        return sorted({p for p in done.stdout.decode("utf-8", "replace").split("\0") if p})
    found: list[str] = []
    for top, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            found.append(os.path.relpath(os.path.join(top, name), root))
            if len(found) >= _WALK_LIMIT:
                return sorted(found)
    return sorted(found)


def fuzzy_score(query: str, path: str) -> int | None:
    """Higher is better; None when `query` is not a subsequence of `path` (case-insensitive)."""
    if not query:
        return 0
    lowered = path.lower()
    name_start = lowered.rfind("/") + 1
    score = 0
    position = -1
    run = 0
    for ch in query.lower():
        found = lowered.find(ch, position + 1)
        if found < 0:
            return None
        run = run + 1 if found == position + 1 else 0
        score += 1 + 2 * run + (3 if found >= name_start else 0)
        position = found
    return score * 100 - len(path)


def search(query: str, paths: list[str], limit: int = 8) -> list[str]:
    """The best `limit` paths for `query`."""
    scored = [(s, p) for p in paths if (s := fuzzy_score(query, p)) is not None]
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [p for _s, p in scored[:limit]]
