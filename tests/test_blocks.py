"""The streaming Markdown splitter: same blocks however the text is chunked, each line read once."""

from __future__ import annotations

import random
from collections.abc import Sequence

from llamachat.tui.conversation.blocks import (
    MAX_OPEN_TEXT,
    BlockEvent,
    BlockSplitter,
    CodeEnd,
    CodeLines,
    CodeStart,
    TextBlock,
)


def split_all(text: str) -> list[BlockEvent]:
    """Every block of a finished text (the test's way to split a whole reply)."""
    splitter = BlockSplitter()
    return [*splitter.feed(text), *splitter.close()]


SAMPLE = """# Title

A paragraph
over two lines.

- one
- two

```python
def f():
    return 1
```

Between.
~~~~
tilde fence with ``` inside
~~~~
Tail text"""


def normalise(events: Sequence[object]) -> list[object]:
    """Merge consecutive CodeLines so chunking does not matter."""
    out: list[object] = []
    for event in events:
        if isinstance(event, CodeLines) and out and isinstance(out[-1], CodeLines):
            out[-1] = CodeLines(out[-1].lines + event.lines)
        else:
            out.append(event)
    return out


def test_blocks_of_a_whole_text() -> None:
    assert split_all(SAMPLE) == [
        TextBlock("# Title"),
        TextBlock("A paragraph\nover two lines."),
        TextBlock("- one\n- two"),
        CodeStart("python"),
        CodeLines(("def f():", "    return 1")),
        CodeEnd(),
        TextBlock("Between."),
        CodeStart(""),
        CodeLines(("tilde fence with ``` inside",)),
        CodeEnd(),
        TextBlock("Tail text"),
    ]


def test_any_chunking_gives_the_same_blocks() -> None:
    expected = normalise(split_all(SAMPLE))
    rng = random.Random(7)
    for _ in range(200):
        splitter = BlockSplitter()
        events: list[object] = []
        i = 0
        while i < len(SAMPLE):
            step = rng.randint(1, 12)
            events += splitter.feed(SAMPLE[i : i + step])
            i += step
        events += splitter.close()
        assert normalise(events) == expected


def test_live_tail_and_code_state() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Hello wor") == []
    assert splitter.open_text() == "Hello wor"
    splitter.feed("ld\nsecond line")
    assert splitter.open_text() == "Hello world\nsecond line"
    events = splitter.feed("\n\n```js\nlet a")
    assert events == [TextBlock("Hello world\nsecond line"), CodeStart("js")]
    assert splitter.partial_line == "let a" and splitter.open_text() == ""
    assert splitter.close() == [CodeLines(("let a",)), CodeEnd()]


def test_unclosed_fence_and_unbalanced_markdown() -> None:
    events = split_all("**bold never closed\n\n```\ncode never closed\n")
    assert events == [
        TextBlock("**bold never closed"),
        CodeStart(""),
        CodeLines(("code never closed",)),
        CodeEnd(),
    ]


def test_inline_backticks_are_not_a_fence() -> None:
    assert split_all("```not a fence``` text") == [TextBlock("```not a fence``` text")]


def test_one_huge_paragraph_is_cut_into_bounded_blocks() -> None:
    splitter = BlockSplitter()
    events = []
    for i in range(2000):
        events += splitter.feed(f"line {i} of one very long paragraph\n")
        assert len(splitter.open_text()) <= MAX_OPEN_TEXT + 100
    events += splitter.close()
    assert (
        sum(block.text.count("\n") + 1 for block in events if isinstance(block, TextBlock)) == 2000
    )


def test_long_code_block_lines_arrive_incrementally() -> None:
    splitter = BlockSplitter()
    splitter.feed("```python\n")
    total = 0
    for i in range(1500):
        for event in splitter.feed(f"x_{i} = {i}\n"):
            assert isinstance(event, CodeLines)
            total += len(event.lines)
    assert total == 1500
    assert splitter.feed("```\n") == [CodeEnd()]
