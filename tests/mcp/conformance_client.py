"""The client the official MCP conformance suite drives (`conformance client --command ...`).

It appends the server URL to our argv and names the scenario in MCP_CONFORMANCE_SCENARIO.
We do what a session does with an HTTP server: connect, list the tools, and call each tool
with arguments made from its input schema, then close the session.
"""

from __future__ import annotations

import sys
from typing import Any

from codex.mcp.client import McpClient
from codex.mcp.http import HttpTransport

_SAMPLES: dict[str, Any] = {"integer": 1, "number": 2, "string": "codex", "boolean": True,
                            "array": [], "object": {}}


def arguments_for(schema: object) -> dict[str, Any]:
    """A value for every property of an object schema."""
    if not isinstance(schema, dict):
        return {}
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: _SAMPLES.get(str(spec.get("type")), "codex") if isinstance(spec, dict)
            else "codex" for name, spec in properties.items()}


def main() -> int:
    client = McpClient(HttpTransport(sys.argv[-1], {}), "conformance")
    try:
        client.start(20)
        for tool in client.list_tools(20):
            result = client.call_tool(str(tool["name"]), arguments_for(tool.get("inputSchema")),
                                      timeout_s=20)
            print(tool["name"], result)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
