"""Splitting streaming Markdown into finished blocks and a live tail, in linear time.

Each piece of text is scanned once. Text is cut into blocks at blank lines
outside fenced code; fenced code is reported line by line, so a renderer can
draw a growing code block in fixed-size segments instead of re-parsing it from
the top on every token (which is what makes Textual's own ``MarkdownStream``
quadratic on long code blocks).

The one rule for the TUI's Markdown view and ``llamachat ask`` on a terminal; core, so it
imports nothing but the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
#: An open text block longer than this is cut at its last line break, so one
#: enormous paragraph cannot make every redraw slower than the last.
MAX_OPEN_TEXT = 4096


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A finished run of Markdown (paragraphs, lists, tables, headings...).

    ``start`` and ``end`` (in every event) are where it lies in the whole text fed, for
    mapping a selection back to the text; they take no part in comparisons.
    """

    text: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CodeStart:
    """A fenced code block opened; ``language`` is the first word of the info string."""

    language: str
    start: int = field(default=0, compare=False)  # the fence line
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CodeLines:
    """Complete lines of the open code block."""

    lines: tuple[str, ...]
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class CodeEnd:
    """The open code block closed (or the stream ended inside it)."""

    #: The closing fence line (empty when the stream ended inside the block).
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


BlockEvent = TextBlock | CodeStart | CodeLines | CodeEnd


class BlockSplitter:
    """Feed it text as it arrives; it returns the blocks that became final."""

    def __init__(self, base: int = 0) -> None:
        """``base``: where the first text fed lies in the whole text (a part of a huge one)."""
        self._partial = ""
        self._text: list[str] = []
        self._text_size = 0
        self._fence: tuple[str, int] | None = None  # (character, length) while inside code
        #: Where the partial line starts in the whole text fed, and the open text block.
        self._at = base
        self._text_start = base

    @property
    def partial_line(self) -> str:
        """The last, incomplete line."""
        return self._partial

    def open_text(self) -> str:
        """The unfinished text block, for drawing as the live tail ("" inside code)."""
        if self._fence is not None:
            return ""
        if not self._text:
            return self._partial
        return "\n".join(self._text) + ("\n" + self._partial if self._partial else "")

    def partial_span(self) -> tuple[int, int]:
        """Where :attr:`partial_line` lies in the whole text."""
        return self._at, self._at + len(self._partial)

    def open_span(self) -> tuple[int, int]:
        """Where :meth:`open_text` lies in the whole text."""
        if not self._text:
            return self._at, self._at + len(self._partial)
        return self._text_start, self._at + len(self._partial) - (0 if self._partial else 1)

    def feed(self, text: str) -> list[BlockEvent]:
        """Take more text; returns the events for every line it completed."""
        if not text:
            return []
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        events: list[BlockEvent] = []
        code: list[str] = []
        code_start = at = self._at
        for line in pieces:
            end = at + len(line)
            if self._fence is not None:
                if self._closes(line):
                    if code:
                        events.append(CodeLines(tuple(code), code_start, at - 1))
                        code = []
                    events.append(CodeEnd(at, end))
                    self._fence = None
                else:
                    if not code:
                        code_start = at
                    code.append(line)
            else:
                self._text_line(line, events, at)
            at = end + 1
        self._at = at
        if code:
            events.append(CodeLines(tuple(code), code_start, at - 1))
        if self._fence is None and self._text_size > MAX_OPEN_TEXT:
            self._flush_text(events)
        return events

    def close(self) -> list[BlockEvent]:
        """The stream ended: everything still open becomes final."""
        events: list[BlockEvent] = []
        at, end = self.partial_span()
        if self._fence is not None:
            if self._partial and not self._closes(self._partial):
                events.append(CodeLines((self._partial,), at, end))
                at = end
            events.append(CodeEnd(at, end))
            self._fence = None
        elif self._partial:
            self._text_line(self._partial, events, at, fences=False)
        self._partial = ""
        self._at = end
        self._flush_text(events)
        return events

    def _text_line(
        self, line: str, events: list[BlockEvent], at: int, *, fences: bool = True
    ) -> None:
        fence = _FENCE.match(line) if fences else None
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            self._flush_text(events)
            marker = fence.group(2)
            self._fence = (marker[0], len(marker))
            info = fence.group(3).strip()
            events.append(CodeStart(info.split()[0] if info else "", at, at + len(line)))
            return
        if not line.strip():
            self._flush_text(events)
            return
        if not self._text:
            self._text_start = at
        self._text.append(line)
        self._text_size += len(line) + 1

    def _closes(self, line: str) -> bool:
        assert self._fence is not None
        return closes(self._fence, line)

    def _flush_text(self, events: list[BlockEvent]) -> None:
        if self._text:
            text = "\n".join(self._text)
            events.append(TextBlock(text, self._text_start, self._text_start + len(text)))
            self._text = []
            self._text_size = 0


def closes(fence: tuple[str, int], line: str) -> bool:
    """Whether ``line`` closes a code block opened by ``fence`` (its character and length)."""
    char, length = fence
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= length
        and stripped == char * len(stripped)
    )


@dataclass(frozen=True, slots=True)
class CodeSpan:
    """Where a fenced code block lies in a text: its body runs from ``body`` to ``end``."""

    body: int
    end: int
    fence: str  # the opening line, to open the block again when drawing from inside it


def _fence_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line that may be a fence: str.find runs at memory speed."""
    found = {marker: text.find(marker) for marker in ("```", "~~~")}
    while True:
        live = [p for p in found.values() if p >= 0]
        if not live:
            return
        at = min(live)
        line_start = text.rfind("\n", 0, at) + 1
        line_end = text.find("\n", at)
        line_end = len(text) if line_end < 0 else line_end
        if at - line_start <= 3 and not text[line_start:at].strip(" "):
            yield line_start, line_end
        for marker, p in found.items():
            if 0 <= p <= line_end:
                found[marker] = text.find(marker, line_end)


def code_spans(text: str) -> list[CodeSpan]:
    """Every fenced code block of ``text``, as :class:`BlockSplitter` would find them.

    Only lines holding three backticks or tildes are looked at, so this takes a few
    milliseconds a megabyte and can run in a thread on a 100 MB reply.
    """
    spans: list[CodeSpan] = []
    open_at: tuple[int, str, tuple[str, int]] | None = None
    for start, end in _fence_lines(text):
        line = text[start:end]
        if open_at is None:
            fence = _FENCE.match(line)
            if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
                marker = fence.group(2)
                open_at = (min(len(text), end + 1), line, (marker[0], len(marker)))
        elif closes(open_at[2], line):
            spans.append(CodeSpan(open_at[0], start, open_at[1]))
            open_at = None
    if open_at is not None:
        spans.append(CodeSpan(open_at[0], len(text), open_at[1]))
    return spans
