"""The real MCP test servers (tests/mcp/tools/install.sh, cached outside the clone).

A module of its own, not conftest: `from conftest import ...` resolves to whichever
conftest.py pytest loaded last when several test directories run together."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

INSTALL = Path(__file__).with_name("tools") / "install.sh"


@cache
def tools_dir() -> Path:
    """Where install.sh put the servers (installs them on first use)."""
    out = subprocess.run(["bash", str(INSTALL)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def py_server(name: str) -> str:
    """A console script of the test venv (mcp-server-time, mcp-server-git)."""
    return str(tools_dir() / "py" / "bin" / name)


def py_python() -> str:
    """The test venv's interpreter: it has the official `mcp` SDK (our oracle servers)."""
    return str(tools_dir() / "py" / "bin" / "python")


def everything_server() -> str:
    return str(tools_dir() / "node_modules" / ".bin" / "mcp-server-everything")
