"""The resume picker: past sessions on the alternate screen, newest first, type to search.

Each row shows when the session was created and last updated and its first prompt; typing
filters rows by id or prompt text, Up/Down move, Enter picks, Esc cancels. It runs on the
alternate screen (an overlay), so the scrollback is untouched when it closes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import FormattedTextControl, HSplit, Layout, Window
from prompt_toolkit.layout.controls import BufferControl

from codex.agent.rollout import sessions_root
from codex.tui.lines import safe
from codex.tui.style import STYLE, color_depth

_SCAN_LINES = 200


@dataclass(frozen=True)
class SessionRow:
    path: Path
    session_id: str
    created: datetime
    updated: datetime
    first_prompt: str


def list_sessions(codex_home: Path) -> list[SessionRow]:
    """Recorded sessions, most recently updated first."""
    root = sessions_root(codex_home)
    rows: list[SessionRow] = []
    for path in root.glob("*/*/*/rollout-*.jsonl") if root.is_dir() else []:
        try:
            stat = path.stat()
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = [next(handle, "") for _ in range(_SCAN_LINES)]
        except OSError:
            continue
        created = None
        prompt = ""
        for line in head:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if created is None and record.get("timestamp"):
                created = _parse_time(str(record["timestamp"]))
            payload = record.get("payload") or {}
            if record.get("type") == "response_item" and payload.get("role") == "user":
                prompt = _text_of(payload)
                if prompt:
                    break
        updated = datetime.fromtimestamp(stat.st_mtime, UTC)
        rows.append(SessionRow(path, path.stem[-36:], created or updated, updated,
                               " ".join(prompt.split())))
    rows.sort(key=lambda row: row.updated, reverse=True)
    return rows


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text_of(payload: dict[str, object]) -> str:
    content = payload.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def build_picker(rows: list[SessionRow]) -> Application[Path | None]:
    """The picker application (returns the chosen rollout path, None when cancelled)."""
    query = Buffer(multiline=False)
    state = {"index": 0}

    def shown() -> list[SessionRow]:
        words = query.text.lower().split()
        return [r for r in rows if all(w in (r.first_prompt + " " + r.session_id).lower()
                                       for w in words)]

    def body() -> StyleAndTextTuples:
        now = datetime.now(UTC)
        out: StyleAndTextTuples = [("class:cell.title", "Resume a previous session"),
                                   ("class:dim", "  (type to search · ↑↓ move · enter "
                                                 "resume · esc cancel)\n"),
                                   ("class:dim", f"  {'created':<10} {'updated':<10} "
                                                 "first message\n")]
        visible = shown()
        if not visible:
            out.append(("class:dim", "  no matching session\n"))
        for i, row in enumerate(visible[:50]):
            style = "class:popup.selected" if i == state["index"] else ""
            out.append((style, f"  {_ago(row.created, now):<10} {_ago(row.updated, now):<10} "
                               f"{safe(row.first_prompt)[:120] or '(no message)'}\n"))
        return out

    kb = KeyBindings()

    @kb.add("up")
    def _up(event: KeyPressEvent) -> None:
        state["index"] = max(0, state["index"] - 1)

    @kb.add("down")
    def _down(event: KeyPressEvent) -> None:
        state["index"] = min(len(shown()) - 1, state["index"] + 1)

    @kb.add("enter")
    def _pick(event: KeyPressEvent) -> None:
        visible = shown()
        event.app.exit(result=visible[state["index"]].path if visible else None)

    @kb.add("escape")
    @kb.add("c-c")
    def _cancel(event: KeyPressEvent) -> None:
        event.app.exit(result=None)

    def reset(_buffer: Buffer) -> None:
        state["index"] = 0

    query.on_text_changed += reset
    layout = Layout(HSplit([
        Window(BufferControl(query), height=1,
               get_line_prefix=lambda line, wrap: [("class:user.mark", "search: ")]),
        Window(FormattedTextControl(body)),
    ]), focused_element=query)
    app: Application[Path | None] = Application(
        layout=layout, key_bindings=kb, style=STYLE, full_screen=True,
        color_depth=color_depth(), include_default_pygments_style=False)
    app.ttimeoutlen = 0.05
    return app


async def pick_session(codex_home: Path) -> Path | None:
    """Run the picker; None when there is nothing to pick or the user cancelled."""
    rows = list_sessions(codex_home)
    if not rows:
        return None
    return await build_picker(rows).run_async()
