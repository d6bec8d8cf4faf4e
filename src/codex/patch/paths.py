"""Which paths a patch may write: the same rule the kernel sandbox enforces on commands.

A patch is written by the agent process itself, outside the sandbox, so this module is the
only thing standing between the model and the user's files. A path is writable when, after
every symlink is followed, it lies inside one of the policy's writable roots and is not (or
is not inside) a protected subpath such as `.git/hooks` or `.envrc`. Protected names are
matched at any depth and case-insensitively: a nested repository's hooks run just as well.
An unconfined (`trusted`) policy allows every path. stdlib only (no pydantic at runtime).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex.policies import SandboxPolicy


class PathRefused(PermissionError):
    """A patch path the active policy does not let the agent write; says why and what to do."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"refused to write {path}: {reason}")


@dataclass(frozen=True)
class PathPolicy:
    """Where a patch may write, relative to `workdir` (absolute, symlinks resolved)."""

    workdir: Path
    writable_roots: tuple[Path, ...]
    protected_subpaths: tuple[str, ...]
    unrestricted: bool = False
    profile: str = ""
    # a permission profile's "read" and "deny" rules inside the writable roots
    read_only_paths: tuple[Path, ...] = ()

    @classmethod
    def from_sandbox_policy(cls, policy: SandboxPolicy, workdir: Path) -> PathPolicy:
        return cls(
            workdir=Path(os.path.realpath(workdir)),
            writable_roots=tuple(Path(os.path.realpath(r)) for r in policy.writable_roots),
            protected_subpaths=tuple(policy.protected_subpaths),
            unrestricted=not policy.confined,
            profile=policy.profile,
            read_only_paths=tuple(Path(os.path.realpath(p)) for p in
                                  (*policy.read_only_paths, *policy.denied_paths)),
        )

    def resolve(self, raw: str) -> Path:
        """Absolute path for `raw` as written in a patch (lexical: `..` collapsed, no
        symlinks followed); no policy check."""
        return Path(os.path.normpath(self.workdir / raw))

    def check_write(self, raw: str) -> Path:
        """The real path (symlinks followed) that writing `raw` would touch, or PathRefused."""
        if "\0" in raw:
            raise PathRefused(raw, "the path contains a NUL byte")
        lexical = self.resolve(raw)
        real = Path(os.path.realpath(lexical))
        if self.unrestricted:
            return real
        if not self.writable_roots:
            raise PathRefused(
                raw,
                f"the '{self.profile}' security profile allows no writes; run with "
                "--profile workspace-write to let codex edit files in the workspace",
            )
        if not Path(raw).is_absolute() and ".." in Path(raw).parts and not _inside(
            lexical, self.workdir
        ):
            raise PathRefused(raw, "'..' leads outside the working directory")
        root = next((r for r in self.writable_roots if _inside(real, r)), None)
        if root is None:
            lexical_root = next((r for r in self.writable_roots if _inside(lexical, r)), None)
            why = (
                f"it is a symlink (or goes through one) that leads to {real}, outside the "
                "writable roots"
                if lexical_root is not None
                else "it is outside the writable roots"
            )
            roots = ", ".join(str(r) for r in self.writable_roots)
            raise PathRefused(raw, f"{why} ({roots}) of the '{self.profile}' profile")
        checks = [(real, root)]
        checks += [(lexical, r) for r in self.writable_roots if _inside(lexical, r)]
        for candidate, base in checks:
            protected = self._protected_part(candidate.relative_to(base))
            if protected is not None:
                raise PathRefused(
                    raw,
                    f"'{protected}' is a protected path (writing it could run code outside "
                    "the sandbox later); edit it yourself if you really mean to",
                )
        ruled = next((p for p in self.read_only_paths if _inside(real, p)), None)
        if ruled is not None:
            raise PathRefused(raw, f"the '{self.profile}' permission profile makes {ruled} "
                                   "read-only or denied (config.toml [permissions])")
        return real

    def _protected_part(self, relative: Path) -> str | None:
        """The protected subpath `relative` (to a writable root) is or lies in, if any."""
        parts = [p.lower() for p in relative.parts]
        for sub in self.protected_subpaths:
            sub_parts = [p.lower() for p in Path(sub).parts]
            width = len(sub_parts)
            for i in range(len(parts) - width + 1):
                if parts[i:i + width] == sub_parts:
                    return sub
        return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
