"""A reply's reasoning: a "Thinking…" line above the answer that opens to show the thoughts.

The section is a few blocks of its :class:`MarkdownView`: one label line, and
when open, the thoughts as plain text, one block per finished paragraph (drawn
once, kept), plus the open paragraph (drawn again as it grows). Closed, only
the label is drawn, whatever the length of the thoughts. Thoughts are shown
as text: markup and control characters in them never take effect.
"""

from __future__ import annotations

import time

from rich.text import Text

from llamachat.textsafety import escape_controls
from llamachat.tui.conversation.drawn import Block

#: Where a paragraph of the thoughts ends.
PARAGRAPH = "\n\n"


def duration(seconds: float) -> str:
    """A thinking time as shown: "12 s", "2 min 5 s"."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60} s"


class ThinkingSection:
    """The reasoning of one reply, streamed or stored."""

    def __init__(self, text: str = "", seconds: float | None = None, *, live: bool = False) -> None:
        self.parts: list[str] = [text] if text else []
        #: How long the model thought; ``None`` while it thinks, or when it was not recorded.
        self.seconds = seconds
        #: Whether thoughts are still arriving.
        self.live = live
        self.expanded = False
        self.started = time.monotonic()
        self.label = Block(Text(""))
        self._paragraphs: list[Block] = []
        self._open = ""
        self._open_block: Block | None = None
        self._pending: list[str] = [text] if text else []
        self._gap = Block(Text(""))
        self.refresh_label()

    @property
    def text(self) -> str:
        """The thoughts so far."""
        return "".join(self.parts)

    def append(self, text: str) -> None:
        """More thoughts; laid out when the section is next drawn."""
        self.parts.append(text)
        self._pending.append(text)

    def finish(self, seconds: float | None = None) -> None:
        """The thinking is over (the answer began, or the reply ended)."""
        if self.live:
            self.live = False
            self.seconds = seconds if seconds is not None else time.monotonic() - self.started
        elif seconds is not None:
            self.seconds = seconds
        self.refresh_label()

    def toggle(self) -> None:
        """Open or close the thoughts."""
        self.expanded = not self.expanded
        self.refresh_label()

    def refresh_label(self) -> None:
        """Draw the label again (the live count of seconds, the arrow)."""
        arrow = "▾" if self.expanded else "▸"
        if self.live:
            words = f"Thinking… {duration(time.monotonic() - self.started)}"
        elif self.seconds is not None and self.seconds < 1:
            words = "Thought for under a second"
        elif self.seconds is not None:
            words = f"Thought for {duration(self.seconds)}"
        else:
            words = "Thoughts"
        self.label.renderable = Text(f"{arrow} {words}", style="dim italic")
        self.label.strips, self.label.width = None, -1

    def blocks(self) -> list[Block]:
        """The blocks to draw: the label, then the thoughts when open."""
        if not self.expanded:
            return [self.label]
        self._take_pending()
        blocks = [self.label, *self._paragraphs]
        if self._open_block is not None:  # finished paragraphs end in a blank line already
            blocks += [self._open_block, self._gap]
        return blocks

    def _take_pending(self) -> None:
        """Split the new text into finished paragraphs and the open one; linear overall."""
        if not self._pending:
            return
        new = "".join(self._pending)
        self._pending.clear()
        # Only the open paragraph and the new text are searched for a paragraph break.
        text = self._open + new
        end = text.rfind(PARAGRAPH)
        if end >= 0:
            for paragraph in text[:end].split(PARAGRAPH):
                if paragraph.strip():
                    self._paragraphs.append(self._block(paragraph, end="\n"))
            text = text[end + len(PARAGRAPH) :]
        self._open = text
        self._open_block = self._block(text) if text.strip() else None

    def _block(self, paragraph: str, end: str = "") -> Block:
        """Thoughts as plain text: markup shows as typed, control characters escaped."""
        return Block(Text(escape_controls(paragraph.strip("\n")) + end, style="dim italic"))
