"""Selecting a Markdown view's drawn lines, and copying them as the text they draw.

Textual's selection sees a Line-API widget through offsets its strips carry
(:meth:`Strip.apply_offsets`): a selection is then a range of (character, line)
positions of the drawn lines. A view's blocks know which part of the message's text
they draw (:attr:`Block.source`), so a selection is copied as that text: Markdown as
written, code without its padding, no bullets, rules or box glyphs. The drawn
characters are matched to the text's characters only when a selection is copied
(in order, each looked for a short way ahead), so streaming pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset
from textual.selection import Selection
from textual.strip import Strip

from llamachat.tui.conversation.drawn import Block

#: Inline Markdown marks kept with the text they mark when a selection starts or ends by it.
_MARKS = "*_~`"
#: What may stand before a line's text in Markdown and is not drawn as typed: a list
#: bullet or number, a quote, a heading's hashes, a task box, opening marks.
_PREFIX = re.compile(r"[ \t]*(?:(?:[-*+>|]|#{1,6}|\d{1,9}[.)])[ \t]+)*(?:\[[ xX]\][ \t]+)?[*_~`]*")
#: What may end a line after its last drawn character: marks, a table row's last bar.
_SUFFIX = " \t|" + _MARKS
#: How far ahead in the text a drawn character is looked for.
_AHEAD = 80

#: A drawn line's characters that come from the text: (index in the line, index in the text).
Pairs = list[tuple[int, int]]


def align(lines: Sequence[str], text: str, start: int, end: int) -> list[Pairs]:
    """Match the drawn ``lines`` of a block to ``text[start:end]``, the text it draws."""
    at = start
    result: list[Pairs] = []
    for line in lines:
        pairs: Pairs = []
        for index, char in enumerate(line):
            if char.isspace():
                continue
            found = text.find(char, at, min(end, at + _AHEAD))
            if found >= 0:
                pairs.append((index, found))
                at = found + 1
        result.append(pairs)
    return result


def _start_in(block: Block, pairs: list[Pairs], y: int, x: int, text: str) -> int:
    """Where a selection starting at (``x``, ``y``) of ``block``'s lines starts in ``text``."""
    assert block.source is not None
    first, last = block.source
    if not any(pairs):  # nothing drawn is text (a blank line, a fence): all of it
        return first
    hit = next((j for i, j in pairs[y] if i >= x), None)
    whole_line = not pairs[y] or x <= pairs[y][0][0]
    if hit is None:
        hit = next((p[0][1] for p in pairs[y + 1 :] if p), None)
        whole_line = True
    if hit is None:
        return last
    if whole_line:
        line_start = max(first, text.rfind("\n", first, hit) + 1)
        before = text[line_start:hit]
        if (not before.strip()) if block.code else _PREFIX.fullmatch(before):
            return line_start
    if not block.code:
        while hit > first and text[hit - 1] in _MARKS:
            hit -= 1
    return hit


def _end_in(block: Block, pairs: list[Pairs], y: int, x: int, text: str) -> int:
    """Where a selection ending before (``x``, ``y``) of ``block``'s lines ends in ``text``
    (``x`` of -1: the end of the line)."""
    assert block.source is not None
    first, last = block.source
    if not any(pairs):
        return last
    mine = [j for i, j in pairs[y] if x < 0 or i < x]
    whole_line = x < 0 or not pairs[y] or x > pairs[y][-1][0]
    hit = mine[-1] + 1 if mine else None
    if hit is None:
        hit = next((p[-1][1] + 1 for p in reversed(pairs[:y]) if p), None)
        whole_line = True
    if hit is None:
        return first
    if not block.code:
        while hit < last and text[hit] in _MARKS:
            hit += 1
    if whole_line:
        line_end = text.find("\n", hit, last)
        line_end = last if line_end < 0 else line_end
        if not text[hit:line_end].strip(" \t" if block.code else _SUFFIX):
            return line_end
    return hit


def source_of(
    drawn: Sequence[tuple[Block, Sequence[Strip]]], text: str, selection: Selection
) -> str:
    """The part of ``text`` that ``selection`` covers in the ``drawn`` blocks (in order,
    with their lines)."""
    rows: list[tuple[int, Block, Sequence[Strip]]] = []
    height = 0
    for block, strips in drawn:
        rows.append((height, block, strips))
        height += len(strips)
    start_y, start_x = (0, 0) if selection.start is None else (selection.start.y, selection.start.x)
    end_y, end_x = (height, 0) if selection.end is None else (selection.end.y, selection.end.x)
    start = end = None
    for top, block, strips in rows:
        if block.source is None or top + len(strips) <= start_y or not strips:
            continue
        if top <= start_y:
            pairs = align([s.text for s in strips], text, *block.source)
            start = _start_in(block, pairs, start_y - top, start_x, text)
        else:
            start = block.source[0]
        break
    for top, block, strips in reversed(rows):
        if block.source is None or top > end_y or (top == end_y and end_x == 0) or not strips:
            continue
        if end_y < top + len(strips):
            pairs = align([s.text for s in strips], text, *block.source)
            end = _end_in(block, pairs, end_y - top, end_x, text)
        else:
            end = block.source[1]
        break
    if start is None or end is None or start >= end:
        return ""
    return text[start:end]


def word_at(line: str, x: int) -> tuple[int, int]:
    """The word (or run of other non-space characters) of ``line`` around index ``x``."""
    if not 0 <= x < len(line) or line[x].isspace():
        return x, x
    kind = line[x].isalnum() or line[x] == "_"
    start = end = x
    while start > 0 and _same(line[start - 1], kind):
        start -= 1
    while end < len(line) and _same(line[end], kind):
        end += 1
    return start, end


def _same(char: str, word: bool) -> bool:
    if char.isspace():
        return False
    return (char.isalnum() or char == "_") == word


def mark(
    strip: Strip, y: int, selection: Selection | None, style: Style, cursor: Offset | None
) -> Strip:
    """``strip`` (drawn line ``y``) with offsets for Textual's selection, its selected part
    in ``style``, and the copy mode's cursor (in reverse)."""
    strip = strip.apply_offsets(0, y)
    text = strip.text
    cuts: list[tuple[int, int, Style]] = []
    span = selection.get_span(y) if selection is not None else None
    if span is not None:
        last = len(text) if span[1] < 0 else min(span[1], len(text))
        cuts.append((cell_len(text[: span[0]]), cell_len(text[:last]), style))
    if cursor is not None and cursor.y == y:
        at = cell_len(text[: cursor.x]) if cursor.x <= len(text) else cursor.x
        cuts.append((at, at + 1, Style(reverse=True)))
    for start, end, cut_style in cuts:
        end = min(end, strip.cell_length)
        if start < end:
            before, middle, after = strip.divide([start, end, strip.cell_length])
            over = Strip([Segment(t, s + cut_style if s else cut_style) for t, s, _ in middle])
            strip = Strip.join([before, over, after])
    return strip
