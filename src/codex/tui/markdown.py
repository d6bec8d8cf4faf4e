"""Markdown to styled lines: headings, lists, emphasis, inline and fenced code, quotes.

Parsing is markdown-it-py's (CommonMark); the rendering is ours and keeps the source's line
breaks inside paragraphs (the terminal wraps long lines), so rendering the complete lines of
a growing answer yields the same first lines every time: that is what lets the stream commit
each finished line to the scrollback once and never take it back.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from codex.tui.lines import Fragment, Line, safe

_INLINE_STYLE = {"em": "class:md.em", "strong": "class:md.strong", "s": "class:md.em",
                 "link": "class:md.link"}


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def render_markdown(text: str) -> list[Line]:
    """Styled lines for Markdown `text` (no trailing blank line)."""
    renderer = _Renderer()
    renderer.blocks(_parser().parse(text))
    while renderer.lines and not renderer.lines[-1]:
        renderer.lines.pop()
    return renderer.lines


class _Renderer:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.prefix: list[str] = []  # indentation / quote marks of the enclosing blocks
        self.bullet: str | None = None  # the marker of a list item's first line
        self.lists: list[list[int]] = []  # per open list: [next number] (-1: bullets)
        self.heading = ""

    def blocks(self, tokens: list[Token]) -> None:
        for token in tokens:
            handler = getattr(self, "_" + token.type, None)
            if handler is not None:
                handler(token)

    def _start(self) -> Line:
        lead = "".join(self.prefix)
        if self.bullet is not None:
            lead, self.bullet = lead[:-len(self.bullet)] + self.bullet, None
        return [("class:md.marker", lead)] if lead else []

    def _gap(self) -> None:
        """A blank line between top-level blocks (list items stay tight)."""
        if self.lines and self.lines[-1] and not self.lists:
            self.lines.append([])

    def _heading_open(self, token: Token) -> None:
        self._gap()
        self.heading = token.tag

    def _heading_close(self, token: Token) -> None:
        self.heading = ""

    def _paragraph_open(self, token: Token) -> None:
        if not token.hidden:
            self._gap()

    def _inline(self, token: Token) -> None:
        base = "class:md.heading" if self.heading else ""
        line = self._start()
        if self.heading:
            line.append((base, "#" * int(self.heading[1:]) + " "))
        styles: list[str] = [base] if base else []
        for child in token.children or ():
            kind = child.type
            if kind in ("softbreak", "hardbreak"):
                self.lines.append(line)
                line = self._start()
            elif kind == "code_inline":
                line.append(("class:md.code", safe(child.content)))
            elif kind.endswith("_open") and kind[:-5] in _INLINE_STYLE:
                styles.append(_INLINE_STYLE[kind[:-5]])
            elif kind.endswith("_close") and kind[:-6] in _INLINE_STYLE:
                if styles:
                    styles.pop()
            elif kind in ("text", "html_inline"):
                line.append((" ".join(styles), safe(child.content)))
            elif kind == "image":
                line.append(("class:md.link", safe(child.content or "image")))
        self.lines.append(line)

    def _bullet_list_open(self, token: Token) -> None:
        self._gap()
        self.lists.append([-1])

    def _ordered_list_open(self, token: Token) -> None:
        self._gap()
        start = token.attrs.get("start", 1)
        self.lists.append([int(start) if isinstance(start, int | str) else 1])

    def _bullet_list_close(self, token: Token) -> None:
        self.lists.pop()

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, token: Token) -> None:
        counter = self.lists[-1]
        if counter[0] < 0:
            marker = "- " if len(self.lists) % 2 else "* "
        else:
            marker = f"{counter[0]}. "
            counter[0] += 1
        self.prefix.append(" " * len(marker))
        self.bullet = marker

    def _list_item_close(self, token: Token) -> None:
        self.prefix.pop()

    def _blockquote_open(self, token: Token) -> None:
        self._gap()
        self.prefix.append("> ")

    def _blockquote_close(self, token: Token) -> None:
        self.prefix.pop()

    def _fence(self, token: Token) -> None:
        self._gap()
        language = token.info.strip().split(" ")[0] if token.info else ""
        self._code(token.content, language)

    def _code_block(self, token: Token) -> None:
        self._gap()
        self._code(token.content, "")

    def _code(self, content: str, language: str) -> None:
        head: Line = self._start()
        head.append(("class:md.fence", "```" + safe(language)))
        self.lines.append(head)
        for raw in content.rstrip("\n").split("\n") if content.strip("\n") else []:
            line = self._start()
            line.append(("class:md.code", safe(raw)))
            self.lines.append(line)
        tail: Line = self._start()
        tail.append(("class:md.fence", "```"))
        self.lines.append(tail)

    def _hr(self, token: Token) -> None:
        self._gap()
        self.lines.append([("class:md.marker", "───")])

    def _html_block(self, token: Token) -> None:
        self._gap()
        for raw in token.content.rstrip("\n").split("\n"):
            line: list[Fragment] = self._start()
            line.append(("", safe(raw)))
            self.lines.append(line)
