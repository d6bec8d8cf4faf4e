"""The official `mcp` SDK's client against our `codex mcp-server`, on stdio or Streamable
HTTP: the handshake, tools/list and one tools/call, printed as one JSON line. Run with the test
venv's interpreter: sdk_client.py PROMPT -- SERVER_COMMAND ARGS... | sdk_client.py PROMPT --url
URL"""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from mcp import ClientSession, StdioServerParameters


async def main() -> None:
    prompt, how, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    transport: AbstractAsyncContextManager[Any]
    if how == "--url":
        transport = streamable_http_client(rest[0])
    else:
        params = StdioServerParameters(command=rest[0], args=rest[1:], env=dict(os.environ))
        transport = stdio_client(params)
    async with transport as (read, write), ClientSession(read, write) as session:
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
