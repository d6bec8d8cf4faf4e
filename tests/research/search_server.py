"""A search MCP server on the official `mcp` SDK (MCPServer, stdio) for the research tests.

Run with the MCP test venv's interpreter (tests/mcp/tools). `--results JSON` is the list of
hits it answers with ({"title", "url", "description"}). Tools: `search` (read-only, answers
with structured content), `search_text` (read-only, answers with `Title:`/`URL:`/`Description:`
text, the shape many search servers use), `search_unmarked` (no annotations: needs approval).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    args = parser.parse_args()
    results: list[dict[str, Any]] = json.loads(args.results)
    server = MCPServer("search-fixture")

    @server.tool(annotations=READ_ONLY)
    def search(query: str, count: int = 10) -> dict[str, Any]:
        """Search the web."""
        return {"query": query, "results": results[:count]}

    @server.tool(annotations=READ_ONLY)
    def search_text(query: str) -> str:
        """Search the web (plain text answer)."""
        return "\n\n".join(f"Title: {r['title']}\nURL: {r['url']}\nDescription: "
                           f"{r['description']}" for r in results)

    @server.tool()
    def search_unmarked(query: str) -> str:
        """Search the web (no annotations)."""
        return json.dumps(results)

    server.run("stdio")


if __name__ == "__main__":
    main()
