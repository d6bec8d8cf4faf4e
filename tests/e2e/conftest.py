"""Fixtures for tests/e2e: defined in e2e_helpers.py (see there), re-exported for pytest."""

from e2e_helpers import native_binary, packed, registry, sandbox, tools

__all__ = ["native_binary", "packed", "registry", "sandbox", "tools"]
