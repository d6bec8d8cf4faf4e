"""Protected names a sandboxed command created: moved out of the workspace after the run.

Protected paths that exist are read-only binds during a run, but a name that does not exist
yet (`.envrc`, `.vscode/`, `.codex/`, `.gitmodules`, `.git/config` in a `.git` without one)
cannot be bound, and Landlock cannot deny one name in a writable directory. So the runner
compares before and after: what the command created there is moved to
CODEX_HOME/quarantine/ once no process of the run is left, and the result says where.

A `.git` the command created itself (`git init`) is a repository the user asked for: it
stays, minus hook scripts (git's own `*.sample` files are inert) and minus a config that
sets anything able to run a program.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

# Keys in .git/config that make git run a program (or load one) later, outside the sandbox.
_DANGEROUS_GIT_CONFIG = re.compile(
    r"^\s*(fsmonitor|hookspath|sshcommand|pager|editor|askpass|helper|command|textconv|"
    r"clean|smudge|process|program|proxycommand|gitproxy|alias|include|includeif|path|"
    r"cmd|tool|viewer|browser)\b",
    re.IGNORECASE | re.MULTILINE)


def present(roots: Sequence[str], subpaths: Sequence[str]) -> set[str]:
    """Protected paths (and `.git` dirs) that exist right now."""
    found = set()
    for root in roots:
        for sub in (*subpaths, ".git"):
            path = os.path.join(root, sub)
            if os.path.lexists(path):
                found.add(path)
    return found


def quarantine(roots: Sequence[str], subpaths: Sequence[str], before: set[str],
               home: Path) -> tuple[list[str], dict[str, str]]:
    """(protected paths created during the run, {moved path: where it went})."""
    after = present(roots, subpaths)
    created = sorted(p for p in after - before if not p.endswith(os.sep + ".git"))
    moved: dict[str, str] = {}
    target_dir = home / "quarantine" / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    for path in created:
        root = next(r for r in roots if path.startswith(r + os.sep))
        git = os.path.join(root, ".git")
        new_repo = git in after and git not in before
        if new_repo and path == os.path.join(git, "hooks"):
            for hook in sorted(Path(path).iterdir()):
                if not hook.name.endswith(".sample"):
                    moved[str(hook)] = _move(str(hook), root, target_dir)
            continue
        if new_repo and path == os.path.join(git, "config") and not _dangerous(path):
            continue
        moved[path] = _move(path, root, target_dir)
    return created, moved


def _dangerous(config: str) -> bool:
    try:
        text = Path(config).read_text(errors="replace")
    except OSError:
        return True
    body = "\n".join(line.split("=", 1)[0] for line in text.splitlines()
                     if not line.lstrip().startswith(("#", ";", "[")))
    return bool(_DANGEROUS_GIT_CONFIG.search(body))


def _move(path: str, root: str, target_dir: Path) -> str:
    import shutil  # here: it loads the bz2/lzma modules, and most runs move nothing

    destination = target_dir / os.path.relpath(path, os.path.dirname(root))
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, destination)
    return str(destination)
