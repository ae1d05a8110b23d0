"""The pieces a Markdown view draws: safe Markdown blocks, and fenced code blocks highlighted
as they arrive (see :class:`~llamachat.tui.conversation.markdown_view.MarkdownView`)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any, Protocol

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text

from llamachat.safe_markdown import SafeMarkdown, markdown
from llamachat.textsafety import escape_controls, one_line
from llamachat.tui.conversation.drawn import Block

__all__ = ["Block", "CodeBlock", "SafeMarkdown", "markdown"]


class BlockSink(Protocol):
    """Where a code block draws (a :class:`MarkdownView`): blocks added and merged."""

    code_theme: str

    def add_block(
        self,
        renderable: RenderableType,
        *,
        code: bool = False,
        source: tuple[int, int] | None = None,
    ) -> Block: ...

    def merge_blocks(self, parts: list[Block], renderable: RenderableType) -> None: ...

    def run_worker(self, work: Any, *, group: str = "default") -> Any: ...


#: A finished code block up to this many lines is re-highlighted as one piece.
REHIGHLIGHT_LIMIT = 200


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language) if language else None
    except ClassNotFound:
        return None


class CodeBlock:
    """A fenced code block: its source, and the blocks of the view that draw it."""

    def __init__(
        self, view: BlockSink, language: str, number: int, fence: tuple[int, int] | None = None
    ) -> None:
        self.view = view
        self.language = language or "text"
        self.number = number
        self.lines: list[str] = []
        self._syntax = self._make_syntax()
        # The language is the fence's info string: untrusted, like the code.
        label = Text(f"[{number}] {one_line(self.language, 40)}", style="dim")
        view.add_block(label, code=True, source=fence)  # selected, it is the fence line
        self._parts: list[Block] = []

    def _make_syntax(self) -> Syntax:
        return Syntax(
            "",
            _lexer(self.language.lower()) or "text",
            theme=self.view.code_theme,
            word_wrap=True,
            background_color="default",
        )

    def retheme(self) -> None:
        """Highlight the block again in the view's (new) code style."""
        self._syntax = self._make_syntax()
        if self._parts:
            self.view.merge_blocks(self._parts, self.highlight(self.code))
            self._parts = self._parts[:1]

    @property
    def code(self) -> str:
        """The block's source text."""
        return "\n".join(self.lines)

    def highlight(self, code: str) -> Text:
        """``code`` highlighted in this block's language."""
        text = self._syntax.highlight(escape_controls(code))
        text.rstrip()
        return text

    def add_lines(self, lines: tuple[str, ...], source: tuple[int, int] | None = None) -> None:
        """Complete lines (``source``: where they lie in the message), highlighted in one
        lexer pass and drawn once."""
        self.lines.extend(lines)
        drawn = self.highlight("\n".join(lines))
        self._parts.append(self.view.add_block(drawn, code=True, source=source))

    def finish(self, fence: tuple[int, int] | None = None) -> None:
        """The block is complete (``fence``: where its closing line lies); a streamed block
        of modest size is re-highlighted whole off the event loop, so multi-line strings
        and comments come out right."""
        self.view.add_block(Text(""), source=fence)
        if len(self._parts) > 1 and len(self.lines) <= REHIGHLIGHT_LIMIT:
            self.view.run_worker(self._rehighlight(), group="rehighlight")

    async def _rehighlight(self) -> None:
        whole = await asyncio.to_thread(self.highlight, self.code)
        self.view.merge_blocks(self._parts, whole)
        self._parts = self._parts[:1]
