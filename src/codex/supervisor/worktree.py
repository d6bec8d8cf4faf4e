"""Workspace isolation: a write-heavy agent works in its own `git worktree`, and only the diff
that is chosen comes back into the main workspace, all files or none.

    tree = Worktree.create(cwd, agent_id)        # temp branch at HEAD, in a temp directory
    changes = tree.changes()                     # TreeChanges: unified diff + final files
    outcome = merge_changes(root, [(id, changes), ...])   # MergeOutcome: applied | conflicts
    tree.remove()

The agent's session runs with the worktree as its workspace (the same relative directory
inside it), so its sandbox can write there and nowhere in the main checkout. `changes()`
stages everything (`git add -A` in the worktree: ignored files stay out) and compares it with
the commit the worktree started from. `merge_changes` refuses the whole merge when a file was
changed in the main workspace since that commit, or when two chosen diffs leave one file
different; otherwise it writes every file through the patch room's atomic commit (temporary
files, backups, rollback), so a failure midway restores the tree.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codex.patch.commit import CommitFailed, commit_plan
from codex.patch.engine import FinalState, PatchPlan, file_signature

BRANCH_PREFIX = "codex-agent/"


class WorktreeError(Exception):
    """git could not create, read or remove a worktree; the message has git's reason."""


def _git_bytes(cwd: Path, *args: str) -> bytes:
    """git's stdout; WorktreeError with git's last stderr line when it fails."""
    proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise WorktreeError(f"git {args[0]} failed in {cwd}: {reason[-1] if reason else ''}")
    return proc.stdout


def _git(cwd: Path, *args: str) -> str:
    return _git_bytes(cwd, *args).decode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class FileFinal:
    """One changed file: its content at the base commit and in the agent's tree (None:
    absent), and the final mode."""

    base: bytes | None
    final: bytes | None
    mode: int | None


@dataclass(frozen=True)
class TreeChanges:
    """What an agent changed relative to `base_commit` (paths relative to the repo root)."""

    base_commit: str
    diff: str
    files: dict[str, FileFinal] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.files


@dataclass
class Worktree:
    """A git worktree on a temporary branch; see the module docstring."""

    repo_root: Path
    path: Path
    branch: str
    base_commit: str
    subdir: Path

    @classmethod
    def create(cls, cwd: Path, agent_id: str) -> Worktree:
        root = Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
        try:
            base = _git(root, "rev-parse", "--verify", "HEAD^{commit}").strip()
        except WorktreeError:
            raise WorktreeError(f"{root} has no commit yet; a worktree agent starts from HEAD "
                                "(commit first, or use workspace = \"shared\")") from None
        branch = f"{BRANCH_PREFIX}{agent_id}-{secrets.token_hex(4)}"
        path = Path(tempfile.mkdtemp(prefix=f"codex-{agent_id}-"))
        try:
            _git(root, "worktree", "add", "-q", "-b", branch, str(path), base)
        except WorktreeError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        subdir = Path(os.path.relpath(cwd.resolve(), root.resolve()))
        return cls(root, path, branch, base, subdir)

    @property
    def workdir(self) -> Path:
        """Where the agent works: the same directory, relative to the root, as the user."""
        return self.path / self.subdir if str(self.subdir) != "." else self.path

    def changes(self) -> TreeChanges:
        _git(self.path, "add", "-A")
        diff = _git(self.path, "diff", "--cached", "--binary", "--no-renames", self.base_commit)
        listing = _git_bytes(self.path, "diff", "--cached", "--name-status", "-z",
                             "--no-renames", self.base_commit).split(b"\0")
        files: dict[str, FileFinal] = {}
        for status, raw in zip(listing[0::2], listing[1::2], strict=False):
            rel = os.fsdecode(raw)
            base = None if status == b"A" else _git_bytes(self.path, "show",
                                                          f"{self.base_commit}:{rel}")
            target = self.path / rel
            if status == b"D" or not target.exists():
                files[rel] = FileFinal(base, None, None)
            elif target.is_symlink():
                raise WorktreeError(f"{rel} is a symbolic link; worktree merges carry regular "
                                    "files only")
            else:
                files[rel] = FileFinal(base, target.read_bytes(), target.stat().st_mode & 0o7777)
        return TreeChanges(self.base_commit, diff, files)

    def remove(self) -> None:
        """Remove the worktree and its branch (best effort for the branch)."""
        try:
            _git(self.repo_root, "worktree", "remove", "--force", str(self.path))
        finally:
            shutil.rmtree(self.path, ignore_errors=True)
            subprocess.run(["git", "-C", str(self.repo_root), "worktree", "prune"],
                           capture_output=True, check=False)
            subprocess.run(["git", "-C", str(self.repo_root), "branch", "-D", self.branch],
                           capture_output=True, check=False)


@dataclass(frozen=True)
class MergeOutcome:
    """The result of merging chosen diffs: `applied` (every file written) or `conflicts`
    (nothing written), the files involved and which agents they came from."""

    applied: bool
    files: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    error: str | None = None


def merge_changes(root: Path, chosen: Sequence[tuple[str, TreeChanges]]) -> MergeOutcome:
    """Apply the chosen agents' changes to the checkout at `root` atomically, or report why
    not (see the module docstring)."""
    agents = tuple(agent for agent, _ in chosen)
    wanted: dict[str, tuple[str, FileFinal]] = {}
    conflicts: list[str] = []
    for agent, changes in chosen:
        for rel, file in sorted(changes.files.items()):
            earlier = wanted.get(rel)
            if earlier is not None and (earlier[1].final, earlier[1].mode) != \
                    (file.final, file.mode):
                conflicts.append(f"{rel}: agents {earlier[0]} and {agent} changed it "
                                 "differently")
                continue
            current = _read(root / rel)
            if current[0] != file.base:
                conflicts.append(f"{rel}: changed in the workspace since agent {agent} started "
                                 f"(from commit {changes.base_commit[:10]})")
                continue
            wanted.setdefault(rel, (agent, file))
    if conflicts:
        return MergeOutcome(False, tuple(sorted(wanted)), agents, tuple(conflicts))
    plan = PatchPlan()
    for rel, (_agent, file) in sorted(wanted.items()):
        path = root / rel
        content, mode, signature = _read(path)
        plan.finals[path] = FinalState(path, file.final, file.mode if file.final is not None
                                       else None, content, mode, signature)
    try:
        commit_plan(plan)
    except CommitFailed as exc:
        return MergeOutcome(False, tuple(sorted(wanted)), agents, (), str(exc))
    return MergeOutcome(True, tuple(sorted(wanted)), agents)


def _read(path: Path) -> tuple[bytes | None, int | None, tuple[int, int, int, int] | None]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, None, None
    if not os.path.isfile(path) or os.path.islink(path):
        return b"\0not a regular file", None, None  # never equal to a base: a conflict
    return path.read_bytes(), st.st_mode & 0o7777, file_signature(st)
