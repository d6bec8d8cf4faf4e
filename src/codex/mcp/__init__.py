"""MCP: tools from Model Context Protocol servers, behind the guard chain.

Public interface (loaded only when a session starts with servers configured, or by
`codex mcp ...`; `codex --version` never imports this package):

    McpClient(transport, name).start(timeout_s) / .list_tools(timeout_s) /
        .call_tool(name, arguments, timeout_s=..., on_progress=..., cancel=...) / .close()
        (codex.mcp.client): one server session; McpError when the server cannot be used,
        RpcError for an error answer, McpTimeout when it does not answer in time.
    StdioTransport(launch) (codex.mcp.stdio), HttpTransport(url, headers)
        (codex.mcp.http): the two wire transports.

Design: our own small client on httpx and the stdlib (the `mcp` SDK's import costs ~0.6 s and
pulls a server stack; it is a test oracle only). Servers on stdio run inside our sandbox
(`codex.sandbox.runner.start_piped`) with the environment allow-list.
"""
