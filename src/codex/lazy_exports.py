"""Package exports loaded on first use (a PEP 562 module `__getattr__`).

A package re-exports names from its modules, but importing it for one name must not import
them all: the sandbox helper and `codex --version` stay light, and recording an audit entry
needs no query code. Foundation level: stdlib only, no codex imports.
"""

from __future__ import annotations

TYPE_CHECKING = False  # keep `typing` off the sandbox helper's import path
if TYPE_CHECKING:
    from collections.abc import Callable


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package` that imports `homes[name]` when `name` is first
    looked up, and raises AttributeError for anything else."""

    def __getattr__(name: str) -> object:
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)

    return __getattr__
