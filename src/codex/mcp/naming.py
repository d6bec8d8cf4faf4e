"""The names MCP tools are offered to the model under (the Codex CLI's scheme).

`mcp__<server>__<tool>`, with every character outside `[A-Za-z0-9_-]` replaced by `_` (what
the model APIs accept), at most 64 characters. A name that is too long, or that collides with
one already taken, keeps a prefix and ends with `_` + 8 hex digits of the SHA-1 of the raw
(unsanitised) name, so `a.b` and `a_b` stay apart. Tools are named in sorted (server, tool)
order, so the same servers always give the same names.

Where the wire has namespace tools (the Responses API), each server's tools are also offered
inside a namespace `mcp__<server>__` (the Codex CLI's; namespace + member = the flat name when
nothing was shortened), each member named by its sanitised tool name. `namespaced` gives every
flat name its (namespace, member) pair, under the same length and collision rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_TOOL_NAME = 64
PREFIX = "mcp"
DELIMITER = "__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_HASH_LEN = 8


def qualify(pairs: Iterable[tuple[str, str]],
            taken: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """Model-facing name -> (server, tool) for every (server, tool) pair; `taken`: names
    already in use (the built-in tools)."""
    used = set(taken)
    names: dict[str, tuple[str, str]] = {}
    for server, tool in sorted(set(pairs)):
        name = _unique(f"{PREFIX}{DELIMITER}{server}{DELIMITER}{tool}", used)
        used.add(name)
        names[name] = (server, tool)
    return names


def namespaced(names: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Flat name (from `qualify`) -> (namespace, member name) for the same tools."""
    spaces: dict[str, str] = {}
    for server in sorted({server for server, _ in names.values()}):
        spaces[server] = _unique(f"{PREFIX}{DELIMITER}{server}{DELIMITER}",
                                 set(spaces.values()))
    members: dict[str, set[str]] = {server: set() for server in spaces}
    out: dict[str, tuple[str, str]] = {}
    for flat, (server, tool) in sorted(names.items(), key=lambda item: item[1]):
        member = _unique(tool, members[server])
        members[server].add(member)
        out[flat] = (spaces[server], member)
    return out


def _unique(raw: str, used: set[str]) -> str:
    """`raw` sanitised, shortened with a hash suffix when too long or already used."""
    name = _UNSAFE.sub("_", raw)
    if len(name) > MAX_TOOL_NAME or name in used:
        digest = hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:_HASH_LEN]
        name = f"{name[:MAX_TOOL_NAME - _HASH_LEN - 1]}_{digest}"
    return name
