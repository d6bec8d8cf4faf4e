"""`--help` for people: click's help, drawn with rich panels when stdout is a terminal.

Typer's own rich help pulls in rich.markdown, markdown-it and pygments (half of a native
build's modules), so codex keeps typer's plain mode and renders the same sections itself with
the light parts of rich, imported only when help is printed to a terminal. Pipes, files,
`NO_COLOR` and `TERM=dumb` get click's plain text unchanged, so scripts and tests see stable
output.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from typer import _click


@dataclass
class _Section:
    """One `Options:`/`Commands:` block: its title, definition rows and loose text."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def wants_rich_help() -> bool:
    """Style help only for a person at a terminal that accepts colour."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


class RichHelpFormatter(_click.HelpFormatter):
    """Records the structure click writes and, on a terminal, renders it with rich."""

    def __init__(self, indent_increment: int = 2, width: int | None = None,
                 max_width: int | None = None) -> None:
        super().__init__(indent_increment, width, max_width)
        self._usage: str | None = None
        self._intro: list[str] = []
        self._sections: list[_Section] = []
        self._open: _Section | None = None

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix)
        self._usage = f"{prog} {args}".strip()

    def write_text(self, text: str) -> None:
        super().write_text(text)
        if self._open is not None:
            self._open.text.append(text)
        else:
            self._intro.append(text)

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        super().write_dl(rows, col_max, col_spacing)
        section = self._open if self._open is not None else self._add_section("")
        section.rows.extend(rows)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        outer = self._open
        self._open = self._add_section(name)
        try:
            with super().section(name):
                yield
        finally:
            self._open = outer

    def _add_section(self, title: str) -> _Section:
        section = _Section(title)
        self._sections.append(section)
        return section

    def getvalue(self) -> str:
        if not wants_rich_help():
            return super().getvalue()
        return self._render()

    def _render(self) -> str:
        from rich.console import Console, Group, RenderableType
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        out = io.StringIO()
        console = Console(file=out, force_terminal=True, highlight=False, width=self.width)
        parts: list[RenderableType] = []
        if self._usage is not None:
            parts.append(Text.assemble(("Usage: ", "bold yellow"), (self._usage, "bold")))
        parts.extend(Text("\n" + _unwrap(text)) for text in self._intro)
        for section in self._sections:
            if not section.rows and not section.text:
                continue
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold cyan", no_wrap=True)
            grid.add_column()
            for term, definition in section.rows:
                grid.add_row(term, definition)
            body: list[RenderableType] = [grid] if section.rows else []
            body.extend(Text(_unwrap(text)) for text in section.text)
            parts.append(Panel(Group(*body), title=section.title or None, title_align="left",
                               border_style="dim"))
        console.print(Group(*parts))
        return out.getvalue().rstrip("\n")


def _unwrap(text: str) -> str:
    """Join a docstring's hard-wrapped lines so rich can wrap them to the terminal.

    Blank lines separate paragraphs; a paragraph that starts with click's `\\b` marker keeps its
    line breaks (tables, examples).
    """
    paragraphs = []
    for paragraph in text.split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph[1:].strip("\n"))
        else:
            paragraphs.append(" ".join(line.strip() for line in paragraph.splitlines()))
    return "\n\n".join(paragraphs)
