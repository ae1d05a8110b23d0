"""A Markdown view's huge text, drawn a part at a time from its end (see
:mod:`~llamachat.tui.conversation.big_text`): the half of the view that grows it a step
per frame and keeps the reader's place while it does."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import RenderableType
from textual.containers import ScrollableContainer
from textual.widget import Widget

from llamachat.tui.conversation.big_text import INITIAL, MORE, STEP, TextWindow
from llamachat.tui.conversation.blocks import BlockSplitter
from llamachat.tui.conversation.drawn import Block

#: Seconds between redraws of a streaming text, and between steps of a huge one.
FRAME = 1 / 30


class PartlyDrawn(Widget):
    """The huge-text half of :class:`~llamachat.tui.conversation.markdown_view.MarkdownView`."""

    #: A huge text is drawn a part at a time, from its end (see big_text).
    window: TextWindow | None = None
    _window_row: Block | None = None
    _window_target = 0
    _growing = False
    #: Text before this is not drawn by the blocks being added (a fence opened again).
    _floor = 0
    _insert_at: int | None
    _blocks: list[Block]
    _layout_width: int

    if TYPE_CHECKING:

        def add_block(
            self,
            renderable: RenderableType,
            *,
            code: bool = False,
            source: tuple[int, int] | None = None,
        ) -> Block: ...

        def _apply(self, events: Sequence[object]) -> None: ...

        def _layout(self, width: int) -> None: ...

        def _changed(self) -> None: ...

        @property
        def _height(self) -> int: ...

    def start_window(self, text: str) -> None:
        """Draw the huge ``text`` a part at a time, once it is prepared (in a thread)."""
        self.window = TextWindow(text)
        self._window_row = self.add_block(self.window.row())

    def on_mount(self) -> None:
        if self.window is not None and not self.window.ready:
            self.run_worker(self._prepare_window(), group="window")

    async def _prepare_window(self) -> None:
        assert self.window is not None
        await asyncio.to_thread(self.window.prepare)
        self.show_more(INITIAL)

    @property
    def hidden(self) -> int:
        """Characters of a huge text not drawn yet (0: all of it is drawn)."""
        return self.window.cut if self.window is not None else 0

    def show_more(self, chars: int = MORE) -> None:
        """Draw ``chars`` more of a huge text, above what is drawn, a step per frame."""
        if self.window is None or not self.window.ready:
            return
        self._window_target = len(self.window.text) - self.window.cut + chars
        if not self._growing:
            self._grow()

    def _grow(self) -> None:
        window, row = self.window, self._window_row
        assert window is not None and row is not None
        shown = len(window.text) - window.cut
        self._growing = window.cut > 0 and shown < self._window_target
        if not self._growing:
            if window.cut == 0:
                self._blocks.remove(row)
            else:  # its new text may take another line: the lines below it move
                row.renderable, row.strips, row.width = window.row(), None, -1
            self._layout_width = -1
            self._changed()
            return
        width = self.size.width
        before = None
        if width:
            self._layout(width)
            before = self._height
        self._insert_at = self._blocks.index(row) + 1
        try:
            cut, part = window.cut, window.earlier(STEP)
            self._floor = window.cut  # a code block's fence opened again is not the text's
            splitter = BlockSplitter(base=window.cut - (len(part) - (cut - window.cut)))
            self._apply([*splitter.feed(part), *splitter.close()])
        finally:
            self._insert_at, self._floor = None, 0
        self._layout_width = -1
        if before is not None:
            self._layout(width)
            self._keep_place(self._height - before)
        self._changed()
        self.set_timer(FRAME, self._grow)

    def _keep_place(self, added: int) -> None:
        """Text drawn above the reader's place moves it down: scroll along, unless the list
        is following its end."""
        parent = self.parent
        if (
            added
            and isinstance(parent, ScrollableContainer)
            and not getattr(parent, "following", True)
        ):
            parent.scroll_to(y=parent.scroll_y + added, animate=False, immediate=True)
