"""The streaming block splitter, kept in the core (:mod:`llamachat.markdown_blocks`) so that
``llamachat ask`` on a terminal cuts a reply by the same rule as the Markdown view."""

from llamachat.markdown_blocks import (
    MAX_OPEN_TEXT,
    BlockEvent,
    BlockSplitter,
    CodeEnd,
    CodeLines,
    CodeSpan,
    CodeStart,
    TextBlock,
    closes,
    code_spans,
)

__all__ = [
    "MAX_OPEN_TEXT",
    "BlockEvent",
    "BlockSplitter",
    "CodeEnd",
    "CodeLines",
    "CodeSpan",
    "CodeStart",
    "TextBlock",
    "closes",
    "code_spans",
]
