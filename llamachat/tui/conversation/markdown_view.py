"""A Markdown view that streams in linear time.

The view is one Line-API widget holding a list of rendered blocks. Finished
blocks are rendered to strips once (again only if the width changes); only
the live tail (the open paragraph, or the unfinished line of a code block) is
rendered again, at most once per frame. Code arrives line by line from the
:class:`~llamachat.tui.conversation.blocks.BlockSplitter` and is highlighted in batches as
it completes, so an 8,000-token reply with a 1,500-line code block costs the
same per token at its end as at its start. Textual draws only the visible lines
(a huge text is drawn a part at a time: see
:mod:`~llamachat.tui.conversation.partly_drawn`). Text is escaped before drawing: Rich
markup in a reply shows as typed, and control characters never reach the terminal. Its
lines take part in Textual's selection, which copies the text they draw (see
:mod:`~llamachat.tui.conversation.selectable`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.geometry import Offset, Region, Size
from textual.selection import Selection
from textual.strip import Strip

from llamachat.tui.conversation.big_text import BIG
from llamachat.tui.conversation.blocks import (
    MAX_OPEN_TEXT,
    BlockSplitter,
    CodeEnd,
    CodeLines,
    CodeStart,
    TextBlock,
)
from llamachat.tui.conversation.drawn import Block
from llamachat.tui.conversation.partly_drawn import FRAME, PartlyDrawn
from llamachat.tui.conversation.selectable import mark, source_of

if TYPE_CHECKING:
    from rich.markdown import Markdown as RichMarkdown

    from llamachat.tui.conversation.markdown_parts import CodeBlock


class MarkdownView(PartlyDrawn):
    """Markdown that can be appended to while it streams, or set whole."""

    DEFAULT_CSS = """
    MarkdownView { height: auto; }
    MarkdownView > .markdownview--code { background: $panel; }
    MarkdownView > .markdownview--inline-code { color: $accent; background: $panel; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"markdownview--code", "markdownview--inline-code"}

    def __init__(
        self,
        text: str = "",
        *,
        code_theme: str = "monokai",
        hard_breaks: bool = False,
        id: str | None = None,
        classes: str = "",
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.code_theme = code_theme
        #: Every line break is kept (a person's prompt), not only blank lines (Markdown's rule).
        self.hard_breaks = hard_breaks
        self._splitter = BlockSplitter()
        self._pending: list[str] = []
        self._scheduled = False
        self._interval = FRAME
        self._blocks: list[Block] = []
        self._tail: Block | None = None
        self._starts: list[int] = []
        self._total = 0
        self._laid_out = 0
        self._tail_height = 0
        self._layout_width = -1
        self._code: CodeBlock | None = None
        self._header: Block | None = None
        self._footer: Block | None = None
        self._section_size = 0
        self.code_blocks: list[CodeBlock] = []
        self.text_parts: list[str] = [text] if text else []
        self.streaming = False
        #: The keyboard copy mode's cursor (a drawn line and character), when on.
        self.cursor: Offset | None = None
        self._insert_at: int | None = None
        if len(text) > BIG:
            self.start_window(text)
        elif text:
            self._apply(self._splitter.feed(text))
            self._apply(self._splitter.close())

    def _markdown(self, text: str) -> RichMarkdown:
        # Markdown-it, Rich's Markdown and Pygments load with the first text drawn, not at
        # start (about 25 ms of imports an empty chat's first paint does not need).
        from llamachat.tui.conversation.markdown_parts import markdown

        return markdown(text.replace("\n", "  \n") if self.hard_breaks else text, self.code_theme)

    def set_code_theme(self, code_theme: str) -> None:
        """Draw code in another Pygments style (the app's theme changed)."""
        if code_theme == self.code_theme:
            return
        self.code_theme = code_theme
        from rich.markdown import Markdown as RichMarkdown  # loaded by the first text drawn

        for block in self._blocks:
            if isinstance(block.renderable, RichMarkdown):  # an indented code block in it
                block.renderable.code_theme = code_theme
                block.strips, block.width = None, -1
        for code in self.code_blocks:
            code.retheme()
        self._layout_width = -1
        self._changed()

    @property
    def text(self) -> str:
        """Everything received so far."""
        return "".join(self.text_parts)

    # --- feeding ------------------------------------------------------------------

    def append(self, text: str) -> None:
        """Add streamed text; it is drawn on the next frame."""
        if not text:
            return
        self.text_parts.append(text)
        self._pending.append(text)
        self.streaming = True
        if not self._scheduled:
            self._scheduled = True
            self.set_timer(self._interval, self._draw)

    def finish(self) -> None:
        """The text is complete: draw everything still pending, close open blocks."""
        self._draw()
        self._apply(self._splitter.close())
        self._set_tail(None)
        self.streaming = False
        self._changed()

    def _draw(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        new = "".join(self._pending)
        self._pending.clear()
        self._apply(self._splitter.feed(new))
        if self._code is not None:
            partial = self._splitter.partial_line
            tail_size = len(partial)
            highlighted = self._code.highlight(partial) if partial else None
            self._set_tail(highlighted, code=True, source=self._splitter.partial_span())
        else:
            tail = self._splitter.open_text()
            tail_size = len(tail)
            span = self._splitter.open_span()
            self._set_tail(self._markdown(tail) if tail else None, source=span)
        # A huge unfinished line is redrawn less often, so redraws stay linear overall.
        self._interval = FRAME * max(1.0, tail_size / MAX_OPEN_TEXT)
        self._changed()

    def _apply(self, events: Sequence[object]) -> None:
        for event in events:
            if isinstance(event, TextBlock):
                self.add_block(self._markdown(event.text), source=(event.start, event.end))
                self.add_block(Text(""))
            elif isinstance(event, CodeStart):
                from llamachat.tui.conversation.markdown_parts import CodeBlock  # see _markdown

                number, fence = len(self.code_blocks) + 1, (event.start, event.end)
                self._code = CodeBlock(self, event.language, number, fence)
                self.code_blocks.append(self._code)
            elif isinstance(event, CodeLines) and self._code is not None:
                self._code.add_lines(event.lines, (event.start, event.end))
            elif isinstance(event, CodeEnd) and self._code is not None:
                self._code.finish((event.start, event.end))
                self._code = None

    # --- blocks -------------------------------------------------------------------

    def add_block(
        self,
        renderable: RenderableType,
        *,
        code: bool = False,
        source: tuple[int, int] | None = None,
    ) -> Block:
        """Append a finished block (before the live tail and any footer) that draws
        ``source``, a span of :attr:`text`."""
        shown = source is not None and source[0] >= self._floor
        block = Block(renderable, code, source if shown else None)
        if self._insert_at is not None:  # drawing an earlier part of a huge text
            self._blocks.insert(self._insert_at, block)
            self._insert_at += 1
        elif self._footer is not None:
            self._blocks.insert(len(self._blocks) - 1, block)
            self._layout_width = -1
        else:
            self._blocks.append(block)
        return block

    def set_header(self, renderable: RenderableType) -> None:
        """Draw ``renderable`` above the Markdown (a message's badge); replaces the last one."""
        if self._header is None:
            self._header = Block(renderable)
            self._blocks.insert(0, self._header)
        else:
            self._header.renderable, self._header.strips = renderable, None
            self._header.width = -1
        self._layout_width = -1
        self._changed()

    def set_section(self, blocks: Sequence[Block]) -> None:
        """Draw ``blocks`` between the header and the Markdown (a reply's reasoning).

        The blocks keep their cached strips, so setting the same ones again is cheap.
        """
        start = 0 if self._header is None else 1
        self._blocks[start : start + self._section_size] = blocks
        self._section_size = len(blocks)
        self._layout_width = -1
        self._changed()

    def block_at(self, y: int) -> Block | None:
        """The finished block drawn on line ``y`` of the content, if any."""
        self._layout(self.size.width)
        if y < 0 or y >= self._total:
            return None
        return self._blocks[bisect_right(self._starts, y) - 1]

    def set_footer(self, renderable: RenderableType | None) -> None:
        """Draw ``renderable`` below everything (an error line), or remove it."""
        if self._footer is not None:
            self._blocks.remove(self._footer)
            self._footer = None
        if renderable is not None:
            self._footer = Block(renderable)
            self._blocks.append(self._footer)
        self._layout_width = -1
        self._changed()

    def merge_blocks(self, parts: list[Block], renderable: RenderableType) -> None:
        """Replace consecutive ``parts`` with one block drawing ``renderable``."""
        if not parts:
            return
        first, spans = parts[0], [p.source for p in parts if p.source is not None]
        first.renderable, first.strips, first.width = renderable, None, -1
        first.source = (spans[0][0], spans[-1][1]) if spans else None
        doomed = {id(p) for p in parts[1:]}
        self._blocks = [b for b in self._blocks if id(b) not in doomed]
        self._layout_width = -1  # offsets after the merged block all move
        self._changed()

    def _set_tail(
        self,
        renderable: RenderableType | None,
        *,
        code: bool = False,
        source: tuple[int, int] | None = None,
    ) -> None:
        self._tail = None if renderable is None else Block(renderable, code, source)

    def _changed(self) -> None:
        if self.is_mounted:
            self.refresh(layout=True)

    # --- rendering ------------------------------------------------------------------

    def _strips_for(self, block: Block, width: int) -> list[Strip]:
        if block.strips is not None and block.width == width:
            return block.strips
        console = self.app.console
        base = self.rich_style
        apply_style = Segment.apply_style
        adjust = Segment.adjust_line_length
        if block.code:
            # Code gets a background and one cell of padding each side, added to the
            # segments rather than through rich.padding (which doubles the render cost).
            style = base + self.get_component_rich_style("markdownview--code", partial=True)
            background = Style(bgcolor=style.bgcolor)
            options = console.options.update_width(max(1, width - 2)).update(highlight=False)
            pad = Segment(" ", style)
            lines = Segment.split_lines(console.render(block.renderable, options))
            # One Strip per line, built once: Strips are not cheap, and a long code block
            # has thousands of lines.
            strips = [
                Strip(
                    adjust(list(apply_style([pad, *line, pad], base, background)), width, style),
                    width,
                )
                for line in lines
            ]
        else:
            options = console.options.update_width(width).update(highlight=False)
            inline_code = self.get_component_rich_style("markdownview--inline-code", partial=True)
            with console.use_theme(Theme({"markdown.code": inline_code})):  # not Rich's on black
                text_lines = list(Segment.split_lines(console.render(block.renderable, options)))
            while len(text_lines) > 1 and not "".join(s.text for s in text_lines[0]).strip():
                text_lines.pop(0)  # Rich opens lists and some blocks with a blank line
            strips = [
                Strip(adjust(list(apply_style(line, base)), width, base), width)
                for line in text_lines
            ]
        block.strips, block.width = strips, width
        return strips

    def notify_style_update(self) -> None:
        """The theme or styles changed: every block is drawn again with the new colours."""
        super().notify_style_update()
        self._layout_width = -1
        for block in self._blocks:
            block.width = -1

    def _layout(self, width: int) -> None:
        """Line offsets of every block: recomputed from the first changed block only."""
        if width != self._layout_width:
            self._starts, self._total, self._laid_out = [], 0, 0
            self._layout_width = width
        while self._laid_out < len(self._blocks):
            self._starts.append(self._total)
            self._total += len(self._strips_for(self._blocks[self._laid_out], width))
            self._laid_out += 1
        self._tail_height = len(self._strips_for(self._tail, width)) if self._tail else 0

    @property
    def _height(self) -> int:
        return self._total + self._tail_height

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._layout(width)
        return self._height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._layout(width)
        if y < 0 or y >= self._height:
            return Strip.blank(width, self.rich_style)
        if y >= self._total:
            assert self._tail is not None
            strips, line = self._strips_for(self._tail, width), y - self._total
        else:
            index = bisect_right(self._starts, y) - 1
            strips, line = self._strips_for(self._blocks[index], width), y - self._starts[index]
        if line >= len(strips):
            return Strip.blank(width, self.rich_style)
        selection, cursor = self.text_selection, self.cursor
        if selection is None and cursor is None:
            # Only Textual's hit test (where a press or drag lands) reads the offsets, and
            # it calls this directly: lines painted without them cost a quarter less CPU
            # while streaming (their styles are shared, not one per line).
            return strips[line] if self._painting else strips[line].apply_offsets(0, y)
        # Its background only: the foreground Textual declares is "transparent", which made
        # whole is the background colour (selected text drawn invisible in 256 colours).
        style = Style(bgcolor=self.screen.get_component_rich_style("screen--selection").bgcolor)
        return mark(strips[line], y, selection, style, cursor)

    _painting = False

    def render_lines(self, crop: Region) -> list[Strip]:
        self._painting = True
        try:
            return super().render_lines(crop)
        finally:
            self._painting = False

    # --- selection ----------------------------------------------------------------------

    def drawn(self) -> list[tuple[Block, list[Strip]]]:
        """Every block, the live tail last, with its lines as drawn."""
        width = self.size.width
        self._layout(width)
        blocks = [*self._blocks, *([self._tail] if self._tail is not None else [])]
        return [(block, self._strips_for(block, width)) for block in blocks]

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text the selected lines draw (Markdown as written, code as it is)."""
        text = source_of(self.drawn(), self.text, selection)
        return (text, "\n\n") if text else None
