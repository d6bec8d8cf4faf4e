"""An MCP server on the official `mcp` SDK (MCPServer, stdio) that misbehaves on request.

Run with the test venv's interpreter (tests/mcp/tools). The protocol is the SDK's; the faults
are ours, chosen by flags: --junk (non-JSON lines on stdout first), --flood N (N bytes on
stderr first), --sleep-start S, --describe FILE (the `probe` tool's description is read from
FILE: change it to play a rug-pull). Tools: probe (echo), slow(seconds), crash, huge(bytes),
environ, connect(port), write(path).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--junk", action="store_true")
    parser.add_argument("--flood", type=int, default=0)
    parser.add_argument("--sleep-start", type=float, default=0.0)
    parser.add_argument("--describe", type=Path)
    args = parser.parse_args()
    if args.junk:
        sys.stdout.write("starting up... (not JSON)\n{\"partial\": \n[1, 2]\n")
        sys.stdout.flush()
    if args.flood:
        block = b"E" * 65536 + b"\n"
        for _ in range(args.flood // len(block) + 1):
            sys.stderr.buffer.write(block)
        sys.stderr.buffer.write(b"LAST STDERR LINE\n")
        sys.stderr.flush()
    time.sleep(args.sleep_start)

    server = MCPServer("odd")
    description = args.describe.read_text() if args.describe else "Echo the text back."

    @server.tool(description=description, annotations=READ_ONLY)
    def probe(text: str) -> str:
        return f"probe:{text}"

    @server.tool(annotations=READ_ONLY)
    def slow(seconds: float) -> str:
        """Sleep, then answer."""
        time.sleep(seconds)
        return "slept"

    @server.tool(annotations=READ_ONLY)
    def crash() -> str:
        """Die in the middle of the call."""
        sys.stderr.write("about to crash\n")
        sys.stderr.flush()
        os._exit(3)

    @server.tool(annotations=READ_ONLY)
    def huge(size: int) -> str:
        """Return `size` bytes of text."""
        return ("0123456789abcdef" * (size // 16 + 1))[:size]

    @server.tool(annotations=READ_ONLY)
    def environ() -> str:
        """The server's environment as JSON."""
        return json.dumps(dict(os.environ))

    @server.tool(annotations=READ_ONLY)
    def connect(port: int) -> str:
        """Try a TCP connection to 127.0.0.1:port."""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
                conn.sendall(b"hello from the mcp server\n")
            return "connected"
        except OSError as exc:
            return f"refused: {exc}"

    server.run("stdio")


if __name__ == "__main__":
    main()
