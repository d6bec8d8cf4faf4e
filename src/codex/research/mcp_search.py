"""Search through an MCP server's tool: `[research] providers = ["mcp"]` with `[research.mcp]`
naming one of the `[mcp_servers]` and its search tool.

The server starts the way a session starts it (inside the sandbox under its `sandbox` setting,
with the environment allow-list). Each search is an MCP tool call through the same guards as
the agent's: pinned definition, `approval_mode`, the tool's annotations, with audit entries.
A research run has no one to ask, so a tool that would need an approval is refused. Mark the
search tool read-only, or set `tools.<name>.approval_mode = "approve"` on the server. Each
call sends `{query_argument: query}`, plus `{count_argument: n}` when one is named.

Search servers answer in several shapes; hits are read from, in order:
- `structuredContent` (a list, or an object with a `results` list);
- text blocks holding JSON in those shapes;
- text blocks of `Title:` / `URL:` / `Description:` lines;
- Markdown links.
Each hit needs an http(s) URL. A tool error fails this provider; the run goes on with the
others.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from codex.research.cache import ResearchCache
from codex.research.errors import ResearchError
from codex.research.providers import ProviderFailed, cached_hits, store_hits
from codex.research.sources import SearchHit

if TYPE_CHECKING:
    from codex.mcp.toolset import McpTools
    from codex.tools.base import ToolContext

_LABELLED = re.compile(r"^\s*(title|url|link|description|snippet|content|published|date)\s*:"
                       r"\s*(.*)$", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_SNIPPET_KEYS = ("snippet", "description", "content", "text", "summary")
_DATE_KEYS = ("published", "published_date", "publishedDate", "date", "page_age")


class McpSearchProvider:
    """A `SearchProvider` over one MCP tool (see the module docstring)."""

    def __init__(self, tools: McpTools, server: str, tool: str, query_argument: str,
                 count_argument: str | None, context: ToolContext,
                 cache: ResearchCache | None) -> None:
        if server not in tools.servers:
            raise ResearchError(f"[research.mcp] server {server!r} is not running: "
                                + ("; ".join(tools.warnings) or "check [mcp_servers]"))
        if tool not in tools.servers[server].definitions:
            offered = ", ".join(sorted(tools.servers[server].definitions)) or "none"
            raise ResearchError(f"[research.mcp] tool {tool!r} is not offered by the MCP "
                                f"server {server!r} (it offers: {offered})", usage=True)
        self.name = f"mcp:{server}"
        self.tools, self.server, self.tool = tools, server, tool
        self.query_argument, self.count_argument = query_argument, count_argument
        self.context, self.cache = context, cache

    async def search(self, query: str, count: int) -> list[SearchHit]:
        stored = cached_hits(self.cache, self.name, query, count)
        if stored is not None:
            return stored
        arguments: dict[str, Any] = {self.query_argument: query}
        if self.count_argument:
            arguments[self.count_argument] = count
        output = await asyncio.to_thread(self.tools.call, self.server, self.tool, arguments,
                                         self.context)
        if not output.success:
            raise ProviderFailed(f"{self.name}: {output.text}")
        result = output.data.get("result") if isinstance(output.data, dict) else None
        hits = [SearchHit(url=url, title=title, snippet=snippet, provider=self.name,
                          published=date) for url, title, snippet, date in
                parse_hits(result if isinstance(result, dict) else {})][:count]
        store_hits(self.cache, self.name, query, count, hits)
        return hits


Hit = tuple[str, str, str, str | None]  # url, title, snippet, date


def parse_hits(result: dict[str, Any]) -> list[Hit]:
    """The search hits in an `mcp_tool_call` result (see the module docstring)."""
    hits = _from_json(result.get("structured_content"))
    if hits:
        return hits
    for block in result.get("content") or []:
        if not isinstance(block, dict) or block.get("type") != "text":
            continue
        text = str(block.get("text", ""))
        try:
            hits += _from_json(json.loads(text))
        except ValueError:
            hits += _from_labelled(text) or _from_links(text)
    return hits


def _from_json(value: Any) -> list[Hit]:
    if isinstance(value, dict):
        value = value.get("results", value.get("items"))
    if not isinstance(value, list):
        return []
    hits: list[Hit] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or item.get("link") or "")
        if not url.startswith(("http://", "https://")):
            continue
        snippet = next((str(item[k]) for k in _SNIPPET_KEYS if item.get(k)), "")
        date = next((str(item[k]) for k in _DATE_KEYS if item.get(k)), None)
        hits.append((url, str(item.get("title") or ""), snippet, date))
    return hits


def _from_labelled(text: str) -> list[Hit]:
    hits: list[Hit] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        url = fields.get("url") or fields.get("link") or ""
        if url.startswith(("http://", "https://")):
            snippet = next((fields[k] for k in _SNIPPET_KEYS if fields.get(k)), "")
            hits.append((url, fields.get("title", ""), snippet,
                         fields.get("published") or fields.get("date")))
        fields.clear()

    for line in text.splitlines():
        match = _LABELLED.match(line)
        if match is None:
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if key == "title" and fields:
            flush()
        fields[key] = value
    flush()
    return hits


def _from_links(text: str) -> list[Hit]:
    return [(url, title.strip(), "", None) for title, url in _MARKDOWN_LINK.findall(text)]
