"""Importing `wasmtime` where its native library may live outside the package.

The `wasmtime` Python package loads its native library (`_libwasmtime.so`, `.dylib` or
`_wasmtime.dll`) from a fixed place beside its own modules. Installed with pip it is there.
The native build leaves it out: it is 29.7 MB (9.6 MB packed) on x86_64 Linux, and the
platform package is 39.6 MB packed without it, against a 40 MB budget. It ships instead in
the optional npm package `@openai/codex-<platform>-plugin-runtime`, whose library file the
launcher passes in `CODEX_PLUGIN_RUNTIME`; `load_wasmtime` points wasmtime's loader at that file
when the bundled one is absent. Only plugin runs and `codex doctor`'s self-test get here.
"""

from __future__ import annotations

import ctypes
import os
import sys

RUNTIME_ENV = "CODEX_PLUGIN_RUNTIME"
LIBRARY_NAMES = frozenset({"_libwasmtime.so", "_libwasmtime.dylib", "_wasmtime.dll"})
MISSING_FIX = ("reinstall codex with its optional dependencies (npm install -g @openai/codex "
               "--include=optional), which brings the plugin runtime package for this platform")


class PluginRuntimeMissing(Exception):
    """The WebAssembly runtime's native library is neither bundled nor installed."""


def load_wasmtime() -> None:
    """Import `wasmtime` once, from the bundled library or the one `CODEX_PLUGIN_RUNTIME`
    names; PluginRuntimeMissing (one line with the fix) when there is neither."""
    if "wasmtime" in sys.modules:
        return
    given = os.environ.get(RUNTIME_ENV, "")
    loader = ctypes.cdll
    original = loader.LoadLibrary

    def load(name: str) -> ctypes.CDLL:
        # Only wasmtime's own library, only when it is not where the package expects it.
        if given and os.path.basename(name) in LIBRARY_NAMES and not os.path.exists(name):
            name = given
        return original(name)

    loader.LoadLibrary = load  # type: ignore[method-assign]
    try:
        import wasmtime  # noqa: F401  (loads the library at import)
    except OSError as exc:
        sys.modules.pop("wasmtime", None)
        where = f"{RUNTIME_ENV}={given} cannot be loaded ({exc})" if given else \
            "this build does not include it"
        raise PluginRuntimeMissing(f"the plugin runtime (wasmtime) is missing: {where}; "
                                   f"{MISSING_FIX}") from None
    finally:
        loader.LoadLibrary = original  # type: ignore[method-assign]
