"""The real MCP test servers (tests/mcp/tools/install.sh, cached outside the clone).

A module of its own, not conftest: `from conftest import ...` resolves to whichever
conftest.py pytest loaded last when several test directories run together."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def everything_http_server() -> Iterator[str]:
    """server-everything over Streamable HTTP on a free loopback port; yields its MCP URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([everything_server(), "streamableHttp"],
                            env={**os.environ, "PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)
