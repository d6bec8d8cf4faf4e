"""The one place colours are chosen. With NO_COLOR (or a 1-bit terminal) prompt_toolkit
drops every colour and keeps only attributes such as bold."""

from __future__ import annotations

import os

from prompt_toolkit.output.color_depth import ColorDepth
from prompt_toolkit.styles import Style

STYLE = Style.from_dict({
    "dim": "#888888",
    "user": "bold",
    "user.mark": "bold #5fafff",
    "cell.title": "bold",
    "command": "#5fafff",
    "bullet.ok": "#5faf5f bold",
    "bullet.fail": "#d75f5f bold",
    "bullet.run": "#d7af00 bold",
    "exit.ok": "#5faf5f",
    "exit.fail": "#d75f5f",
    "diff.add": "#5faf5f",
    "diff.del": "#d75f5f",
    "error": "#d75f5f bold",
    "warning": "#d7af00",
    "reasoning": "#888888 italic",
    "md.heading": "bold underline",
    "md.em": "italic",
    "md.strong": "bold",
    "md.code": "#87afd7",
    "md.fence": "#888888",
    "md.marker": "#888888",
    "md.link": "underline #5fafff",
    "status": "#888888",
    "status.busy": "#d7af00",
    "status.alert": "#d75f5f bold",
    "popup": "",
    "popup.selected": "reverse",
    "approval.title": "bold #d7af00",
    "approval.key": "bold",
})


def color_depth() -> ColorDepth | None:
    """1-bit (no colour at all) under NO_COLOR; otherwise what the terminal reports."""
    return ColorDepth.DEPTH_1_BIT if os.environ.get("NO_COLOR") else None
