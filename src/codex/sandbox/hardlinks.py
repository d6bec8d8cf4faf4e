"""Hard-link scan of writable roots.

Landlock checks the path used to open a file, so a hard link inside a writable root to a
file outside it (made before the run) lets a confined command write that outside file. The
sandbox cannot stop it without a path-aware supervisor; it reports such files instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_ENTRIES = 200_000
MAX_REPORTED = 1_000
# Wall-clock budget: the scan runs before every write-profile command, so a huge tree
# (node_modules, a virtualenv) must not add seconds; a stopped scan says so ("truncated").
MAX_SECONDS = 0.25


@dataclass
class HardlinkScan:
    """Regular files with more than one link, and whether the walk stopped early."""

    paths: list[str] = field(default_factory=list)
    truncated: bool = False
    entries: int = 0


def scan(roots: Iterable[str], max_entries: int = MAX_ENTRIES,
         max_reported: int = MAX_REPORTED, max_seconds: float = MAX_SECONDS) -> HardlinkScan:
    """Walk `roots` (no symlinks followed, one filesystem per root) within the budgets."""
    result = HardlinkScan()
    deadline = time.monotonic() + max_seconds
    for root in roots:
        try:
            root_dev = os.lstat(root).st_dev
        except OSError:
            continue
        stack = [root]
        while stack:
            directory = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = list(it)
            except OSError:
                continue
            if time.monotonic() > deadline:
                result.truncated = True
                return result
            for entry in entries:
                result.entries += 1
                if result.entries > max_entries:
                    result.truncated = True
                    return result
                try:
                    # d_type answers these without a stat; only regular files need one.
                    if entry.is_dir(follow_symlinks=False):
                        if entry.stat(follow_symlinks=False).st_dev == root_dev:
                            stack.append(entry.path)
                        continue
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    links = entry.stat(follow_symlinks=False).st_nlink
                except OSError:
                    continue
                if links > 1:
                    if len(result.paths) >= max_reported:
                        result.truncated = True
                        return result
                    result.paths.append(entry.path)
    result.paths.sort()
    return result
