"""Markdown on a terminal while it streams: ``llamachat ask`` and ``history show``.

Finished blocks, cut by the TUI's own rule (:class:`~llamachat.markdown_blocks.BlockSplitter`),
are printed once and scroll away like any output. Only the open block, the live tail, is
drawn again in place, at most once a frame; it holds at most
:data:`~llamachat.markdown_blocks.MAX_OPEN_TEXT` characters (a growing code block is not in
it: code is printed a line at a time, highlighted once), so a reply costs time in proportion
to its length, not to its length squared. Every text is escaped before Rich sees it
(:mod:`llamachat.safe_markdown`): escape sequences and Rich markup in a reply are shown as
typed, never sent to the terminal.

Core: Rich and Pygments, never Textual; imported only when a terminal is drawn on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.control import Control
from rich.segment import ControlType, Segment, Segments
from rich.syntax import Syntax
from rich.text import Text

from llamachat.markdown_blocks import (
    MAX_OPEN_TEXT,
    BlockEvent,
    BlockSplitter,
    CodeEnd,
    CodeLines,
    CodeStart,
    TextBlock,
)
from llamachat.safe_markdown import markdown
from llamachat.textsafety import escape_controls, one_line

if TYPE_CHECKING:
    from pygments.lexer import Lexer

    from llamachat.store.models import ConversationView

#: The shortest time between two drawings of the live tail (seconds).
FRAME = 1 / 20
#: The code style, as in the TUI's default theme.
CODE_THEME = "monokai"

Line = list[Segment]


def drawable(out: TextIO) -> bool:
    """Whether Markdown can be drawn on ``out``: a terminal that moves its cursor (not
    ``TERM=dumb``, where the text is printed as it is)."""
    return out.isatty() and os.environ.get("TERM", "") not in ("dumb", "unknown")


def terminal_console(out: TextIO) -> Console:
    """A Rich console for ``out`` (a terminal): no markup, emoji or highlighting of its own."""
    return Console(file=out, force_terminal=True, highlight=False, markup=False, emoji=False)


def _lexer(language: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language.lower()) if language else None
    except ClassNotFound:
        return None


def _blank(line: Line) -> bool:
    return not "".join(segment.text for segment in line).strip()


def _trimmed(line: Line) -> Line:
    """``line`` without the spaces Rich pads it with (nothing to copy, nothing to wrap),
    unless they are drawn on a background (a code block's)."""
    end = len(line)
    while end and not line[end - 1].control:
        segment = line[end - 1]
        if segment.style is not None and segment.style.bgcolor is not None:
            break
        kept = segment.text.rstrip(" ")
        if kept:
            return [*line[: end - 1], Segment(kept, segment.style)]
        end -= 1
    return line[:end]


class MarkdownPrinter:
    """Markdown written to a terminal as it arrives: :meth:`feed` pieces, then :meth:`finish`."""

    def __init__(
        self,
        out: TextIO,
        *,
        code_theme: str = CODE_THEME,
        frame: float = FRAME,
        console: Console | None = None,
    ) -> None:
        self.console = console or terminal_console(out)
        self.code_theme = code_theme
        #: Shortest time between two drawings of the tail; 0 draws on every piece.
        self.frame = frame
        self._interval = frame
        self._splitter = BlockSplitter()
        self._pending: list[str] = []
        self._last_draw = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._lexer: Lexer | None = None
        self._in_code = False
        self._printed = False  # something is above: a blank line goes before the next block
        self._tail: list[Line] = []
        self._tail_drawn = 0  # lines of the tail on the screen now
        #: Text has arrived; :attr:`finished`: it is all printed.
        self.started = False
        self.finished = False

    # --- feeding ------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Take a piece of the text; drawn now, or within a frame."""
        if not text or self.finished:
            return
        self._pending.append(text)
        self.started = True
        waited = time.monotonic() - self._last_draw
        if waited >= self._interval:
            self.draw()
            return
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop to wake us: the next piece or finish() draws it
                return
            self._timer = loop.call_later(self._interval - waited, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        with contextlib.suppress(OSError):  # the terminal went away: finish() meets it too
            self.draw()

    def draw(self) -> None:
        """Print the blocks that became final and draw the tail again."""
        self._last_draw = time.monotonic()
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        finished = self._lines(self._splitter.feed(text))
        tail_size = self._set_tail()
        self._write(finished)
        # A huge open line is drawn less often, so drawing stays linear overall.
        self._interval = self.frame * max(1.0, tail_size / MAX_OPEN_TEXT)

    def finish(self) -> None:
        """The text is complete: everything open is printed as final; the cursor ends on a
        new line."""
        if self.finished:
            return
        self.finished = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        text = "".join(self._pending)
        self._pending.clear()
        events = [*self._splitter.feed(text), *self._splitter.close()]
        finished = self._lines(events)
        self._tail = []
        self._write(finished)

    def hide(self) -> None:
        """Erase the tail (stderr is about to write on the same terminal); the next
        drawing puts it back."""
        if self._tail_drawn:
            with self.console:
                self.console.control(self._erase())
            self._tail_drawn = 0

    # --- rendering ----------------------------------------------------------------

    def _lines(self, events: Sequence[BlockEvent]) -> list[Line]:
        """The lines of the events' blocks, each drawn once."""
        lines: list[Line] = []
        for event in events:
            if isinstance(event, TextBlock):
                lines += self._separated(self._markdown_lines(event.text))
            elif isinstance(event, CodeStart):
                self._in_code = True
                self._lexer = _lexer(event.language)
                label = Text(one_line(event.language, 40), style="dim") if event.language else None
                if label is not None:
                    lines += self._separated([_trimmed(self.console.render_lines(label)[0])])
                elif self._printed:
                    lines.append([])
                self._printed = True
            elif isinstance(event, CodeLines):
                lines += self._code_lines("\n".join(event.lines))
            elif isinstance(event, CodeEnd):
                self._in_code, self._lexer = False, None
        return lines

    def _separated(self, lines: list[Line]) -> list[Line]:
        if not lines:
            return lines
        if self._printed:
            lines.insert(0, [])
        self._printed = True
        return lines

    def _markdown_lines(self, text: str) -> list[Line]:
        rendered = self.console.render_lines(markdown(text, self.code_theme), pad=False)
        start, end = 0, len(rendered)
        while start < end and _blank(rendered[start]):
            start += 1  # Rich opens lists and some blocks with a blank line
        while end > start and _blank(rendered[end - 1]):
            end -= 1
        return [_trimmed(line) for line in rendered[start:end]]

    def _code_lines(self, code: str) -> list[Line]:
        syntax = Syntax(
            escape_controls(code),
            self._lexer or "text",
            theme=self.code_theme,
            word_wrap=True,
            padding=(0, 1),
        )
        return self.console.render_lines(syntax, pad=False)

    def _set_tail(self) -> int:
        """Render the open block as the tail; returns its size in characters."""
        if self._in_code:
            partial = self._splitter.partial_line
            self._tail = self._code_lines(partial) if partial else []
            return len(partial)
        text = self._splitter.open_text()
        lines = self._markdown_lines(text) if text else []
        self._tail = [[], *lines] if lines and self._printed else lines
        return len(text)

    def _erase(self) -> Control:
        up = ((ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2)) * (self._tail_drawn - 1)
        return Control((ControlType.CARRIAGE_RETURN,), (ControlType.ERASE_IN_LINE, 2), *up)

    def _write(self, finished: list[Line]) -> None:
        """Erase the tail, print ``finished`` lines for good, draw the tail below them."""
        room = max(1, self.console.size.height - 1)
        tail = self._tail[-room:]  # a tail taller than the screen could not be erased
        segments: list[Segment] = []
        if self._tail_drawn:
            segments.append(self._erase().segment)
        for line in finished:
            segments += line
            segments.append(Segment.line())
        for index, line in enumerate(tail):
            if index:
                segments.append(Segment.line())
            segments += line
        if not segments:
            return
        with self.console:
            self.console.print(Segments(segments), end="", crop=False)
        self._tail_drawn = len(tail)
        if tail:
            self.console.file.flush()


def print_markdown(text: str, out: TextIO, console: Console | None = None) -> None:
    """A whole Markdown text on a terminal, drawn as :class:`MarkdownPrinter` draws a reply."""
    printer = MarkdownPrinter(out, console=console)
    printer.feed(text)
    printer.finish()


def _heading(parts: Iterable[tuple[str, str]]) -> Text:
    line = Text()
    for text, style in parts:
        line.append(text, style=style)
    return line


def print_conversation(view: ConversationView, out: TextIO) -> None:
    """``history show`` on a terminal: each message's heading, its text as Markdown."""
    from llamachat.store.export import (  # the transcript's own words
        message_state,
        speaker,
        when_written,
    )

    console = terminal_console(out)
    c = view.conversation
    console.print(Text(one_line(c.title, 400) or "Untitled", style="bold"))
    console.print(Text(f"Created {when_written(c.created_at)}", style="dim"))
    if c.system_prompt:
        console.print(Text(f"System prompt: {escape_controls(c.system_prompt)}", style="dim"))
    for m in view.path:
        console.print()
        style = "bold cyan" if m.role == "user" else "bold magenta"
        console.print(
            _heading(
                [(speaker(m), style), (f", {when_written(m.created_at)}{message_state(m)}", "dim")]
            )
        )
        print_markdown(m.content, out, console)
