"""The official `mcp` SDK's client against a stdio server (our `codex mcp-server`): the
handshake, tools/list and one tools/call, printed as one JSON line. Run with the test venv's
interpreter: sdk_client.py PROMPT -- SERVER_COMMAND ARGS..."""

from __future__ import annotations

import json
import os
import sys

import anyio
from mcp.client.stdio import stdio_client

from mcp import ClientSession, StdioServerParameters


async def main() -> None:
    split = sys.argv.index("--")
    prompt, command = sys.argv[1], sys.argv[split + 1:]
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("codex", {"prompt": prompt})
        print(json.dumps({
            "protocol": init.protocol_version, "server": init.server_info.name,
            "tools": sorted(t.name for t in tools.tools),
            "schemas": {t.name: t.input_schema for t in tools.tools},
            "is_error": result.is_error,
            "text": [c.text for c in result.content if getattr(c, "type", "") == "text"],
            "structured": result.structured_content}))


anyio.run(main)
