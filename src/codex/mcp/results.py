"""An MCP `CallToolResult` as the model reads it, and as `exec --json` shows it.

Text blocks are joined; images, audio and resource links become one bracketed line each;
embedded text resources are included. Without content, `structuredContent` is shown as JSON.
Output longer than the server's `output_token_limit` (about 4 bytes a token) is saved whole to
a file under CODEX_HOME/mcp/outputs and the model gets its head and tail with the path.

Images (PNG, JPEG, GIF, WebP) also reach the model as data: URLs (`images`) where the wire
can carry them, while the text and the URLs together stay within the same limit; an image
that does not fit is saved to a file instead and the text names it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

from codex.fsutil import write_atomic

BYTES_PER_TOKEN = 4
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
                "image/webp": "webp"}


def result_text(result: dict[str, Any]) -> str:
    """The readable text of a CallToolResult."""
    parts: list[str] = []
    content = result.get("content")
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict):
            parts.append(_block_text(block))
    if not parts and result.get("structuredContent") is not None:
        parts.append(json.dumps(result["structuredContent"], ensure_ascii=False))
    return "\n".join(parts)


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind in ("image", "audio"):
        size = len(str(block.get("data", ""))) * 3 // 4
        return f"[{kind}: {block.get('mimeType', 'unknown type')}, {size} bytes]"
    if kind == "resource_link":
        return f"[resource: {block.get('uri', '')}{_titled(block)}]"
    if kind == "resource":
        resource = block.get("resource")
        if isinstance(resource, dict):
            if isinstance(resource.get("text"), str):
                return str(resource["text"])
            return f"[resource: {resource.get('uri', '')} ({resource.get('mimeType', 'binary')})]"
    return json.dumps(block, ensure_ascii=False)


def _titled(block: dict[str, Any]) -> str:
    name = block.get("title") or block.get("name")
    return f" ({name})" if name else ""


def capped(text: str, limit_tokens: int, save_dir: Path, call_name: str) -> str:
    """`text`, or its head and tail plus the path of a file holding all of it."""
    limit = limit_tokens * BYTES_PER_TOKEN
    data = text.encode()
    if len(data) <= limit:
        return text
    path = _saved(save_dir, f"{call_name}.txt", text)
    half = max(limit // 2 - 200, 0)
    head = data[:half].decode("utf-8", "ignore")
    tail = data[-half:].decode("utf-8", "ignore") if half else ""
    return (f"{head}\n\n[... output truncated: {len(data)} bytes in all, over the limit of "
            f"{limit_tokens} tokens; the whole output is in {path} ...]\n\n{tail}")


def _saved(save_dir: Path, name: str, data: str | bytes) -> Path:
    """Save `data` (a result part too big for the model) as `name` in `save_dir`, which is
    made owner-only; its path."""
    save_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = save_dir / _SAFE.sub("_", name)
    write_atomic(path, data)
    return path


def item_result(result: dict[str, Any]) -> dict[str, Any]:
    """The `result` of an `mcp_tool_call` item (the Codex CLI's shape)."""
    content = result.get("content")
    return {"content": content if isinstance(content, list) else [],
            "structured_content": result.get("structuredContent")}


def images(result: dict[str, Any], text: str, limit_tokens: int, save_dir: Path,
           call_name: str) -> tuple[list[str], str]:
    """(data: URLs of the result's images that fit the limit after `text`, `text` plus one
    line for each image that was saved to a file instead)."""
    room = limit_tokens * BYTES_PER_TOKEN - len(text.encode())
    urls: list[str] = []
    notes: list[str] = []
    content = result.get("content")
    for number, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict) or block.get("type") != "image":
            continue
        mime, data = str(block.get("mimeType", "")), str(block.get("data", ""))
        if mime not in _IMAGE_TYPES:
            continue
        url = f"data:{mime};base64,{data}"
        if len(url) <= room:
            urls.append(url)
            room -= len(url)
            continue
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            notes.append(f"[image {number}: not valid base64, left out]")
            continue
        path = _saved(save_dir, f"{call_name}-{number}.{_IMAGE_TYPES[mime]}", raw)
        notes.append(f"[image {number} ({mime}, {len(raw)} bytes) is over the output limit of "
                     f"{limit_tokens} tokens; it is saved in {path}]")
    return urls, "\n".join([text, *notes]) if notes else text
