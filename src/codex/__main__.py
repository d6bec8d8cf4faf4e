"""Entry point.

Fast paths run before any heavy import: `--version` must answer without loading typer,
pydantic, httpx or rich, the sandbox helper must import only sandbox code, and `codex sandbox`
tries its stdlib-only lane (codex.cli.sandbox_fast) before the typer app.
"""

from __future__ import annotations

import sys

# Must equal codex.sandbox.linux.HELPER_TOKEN; compared here without importing anything.
_SANDBOX_HELPER_TOKEN = "__codex_sandbox_helper__"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a fast path when one applies, otherwise to the typer app."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == _SANDBOX_HELPER_TOKEN:
        import os

        from codex.sandbox.linux.helper import main as helper_main

        # The helper writes only through raw descriptors, so skipping interpreter teardown
        # loses nothing and saves ~10 ms per sandboxed command (in the helper and its init).
        os._exit(helper_main(args[1:]))
    if args in (["--version"], ["-V"]):
        from codex import __version__

        sys.stdout.write(f"codex {__version__}\n")
        return 0
    if "sandbox" in args:
        from codex.cli.sandbox_fast import run as run_sandbox_fast

        code = run_sandbox_fast(args)
        if code is not None:
            return code
    from codex.cli.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
