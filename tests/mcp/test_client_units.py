"""The client's own logic where no real server shows it on demand: tool naming, pagination,
list_changed and cancellation, driven through an in-process transport that answers like a
server (each message checked as it arrives)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from codex.mcp.client import McpClient
from codex.mcp.jsonrpc import JsonObject, McpError, McpTimeout
from codex.mcp.naming import namespaced, qualify


def test_names_follow_codex_and_fit_64_characters() -> None:
    names = qualify([("time", "get_current_time"), ("my.server", "do it!"),
                     ("s", "x" * 80)], taken={"shell"})
    assert names["mcp__time__get_current_time"] == ("time", "get_current_time")
    assert names["mcp__my_server__do_it_"] == ("my.server", "do it!")
    (long_name,) = [n for n, pair in names.items() if pair == ("s", "x" * 80)]
    assert len(long_name) == 64 and long_name.startswith("mcp__s__xxx")


def test_collisions_are_resolved_the_same_way_every_time() -> None:
    pairs = [("a", "b.c"), ("a", "b_c"), ("a", "b-c")]
    first = qualify(pairs)
    assert qualify(list(reversed(pairs))) == first  # order of discovery does not matter
    assert len(first) == 3 and all(len(n) <= 64 for n in first)
    assert first["mcp__a__b-c"] == ("a", "b-c")
    assert sum(1 for n in first if n.startswith("mcp__a__b_c")) == 2
    taken = qualify([("shell", "x")], taken={"mcp__shell__x"})
    assert "mcp__shell__x" not in taken


def test_namespaces_split_the_flat_names_under_the_same_rules() -> None:
    names = qualify([("time", "get_current_time"), ("my.server", "do it!"),
                     ("my_server", "x"), ("a", "b.c"), ("a", "b_c"), ("s", "y" * 80)])
    spaces = namespaced(names)
    assert spaces["mcp__time__get_current_time"] == ("mcp__time__", "get_current_time")
    # namespace + member is the flat name when nothing had to be shortened
    assert all(space + member == flat for flat, (space, member) in spaces.items()
               if len(flat) < 64 and not flat.startswith(("mcp__a__", "mcp__my_server__")))
    # two servers that sanitise alike get two namespaces; two tools alike, two members
    assert len({space for flat, (space, _) in spaces.items()
                if names[flat][0] in ("my.server", "my_server")}) == 2
    assert len({member for flat, (space, member) in spaces.items() if space == "mcp__a__"}) == 2
    assert all(len(space) <= 64 and len(member) <= 64 for space, member in spaces.values())
    assert namespaced(dict(reversed(list(names.items())))) == spaces


class ScriptedServer:
    """A transport whose 'server' answers from a function; records what the client sent."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[JsonObject] = []
        self.version: str | None = None

    def start(self, on_message: Any, on_closed: Any) -> None:
        self.on_message = on_message
        self.on_closed = on_closed

    def send(self, message: JsonObject) -> None:
        self.sent.append(message)
        reply = self.answer(message, self)
        if reply is not None:
            threading.Thread(target=self.on_message, args=(reply,)).start()

    def close(self) -> None:
        self.on_closed("closed")

    def diagnostics(self) -> str:
        return ""

    def set_protocol_version(self, version: str) -> None:
        self.version = version


def handshake(version: str = "2025-06-18"):  # type: ignore[no-untyped-def]
    def answer(message: JsonObject, server: ScriptedServer) -> JsonObject | None:
        if message.get("method") == "initialize":
            return {"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": version, "capabilities": {"tools": {"listChanged": True}},
                "serverInfo": {"name": "scripted", "version": "1"}}}
        return None

    return answer


def test_offers_2025_11_25_and_accepts_an_older_answer() -> None:
    server = ScriptedServer(handshake("2025-06-18"))
    client = McpClient(server, "s")
    assert client.start(5).protocol_version == "2025-06-18"
    assert server.sent[0]["params"]["protocolVersion"] == "2025-11-25"
    assert server.sent[1] == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert server.version == "2025-06-18"


def test_refuses_an_unknown_protocol_version() -> None:
    client = McpClient(ScriptedServer(handshake("1999-01-01")), "s")
    with pytest.raises(McpError, match="speaks MCP 1999-01-01"):
        client.start(5)


def test_tools_list_follows_every_page() -> None:
    pages = {None: (["a", "b"], "p2"), "p2": (["c"], "p3"), "p3": (["d"], None)}

    def answer(message: JsonObject, server: ScriptedServer) -> JsonObject | None:
        if message.get("method") == "tools/list":
            cursor = (message.get("params") or {}).get("cursor")
            names, following = pages[cursor]
            result: JsonObject = {"tools": [{"name": n, "inputSchema": {"type": "object"}}
                                            for n in names]}
            if following:
                result["nextCursor"] = following
            return {"jsonrpc": "2.0", "id": message["id"], "result": result}
        return handshake()(message, server)

    client = McpClient(ScriptedServer(answer), "s")
    client.start(5)
    assert [t["name"] for t in client.list_tools(5)] == ["a", "b", "c", "d"]


def test_list_changed_and_ping_from_the_server() -> None:
    changed = threading.Event()
    server = ScriptedServer(handshake())
    client = McpClient(server, "s", on_tools_changed=changed.set)
    client.start(5)
    server.on_message({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    assert changed.is_set()
    server.on_message({"jsonrpc": "2.0", "id": "srv-1", "method": "ping"})
    server.on_message({"jsonrpc": "2.0", "id": "srv-2", "method": "sampling/createMessage"})
    time.sleep(0.1)
    answers = {m["id"]: m for m in server.sent if "id" in m and "method" not in m}
    assert answers["srv-1"]["result"] == {}
    assert answers["srv-2"]["error"]["code"] == -32601


def test_cancel_event_sends_notifications_cancelled() -> None:
    server = ScriptedServer(handshake())  # never answers tools/call
    client = McpClient(server, "s")
    client.start(5)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(McpError, match="cancelled"):
        client.call_tool("slow", {}, timeout_s=30, cancel=cancel)
    call = next(m for m in server.sent if m.get("method") == "tools/call")
    cancelled = [m for m in server.sent if m.get("method") == "notifications/cancelled"]
    assert cancelled[0]["params"]["requestId"] == call["id"]


def test_timeout_sends_notifications_cancelled() -> None:
    server = ScriptedServer(handshake())
    client = McpClient(server, "s")
    client.start(5)
    with pytest.raises(McpTimeout):
        client.call_tool("slow", {}, timeout_s=0.3)
    assert any(m.get("method") == "notifications/cancelled" for m in server.sent)
