"""A selection is copied as the text the selected lines draw: where each drawn block's
text lies in the message, and how drawn characters map back to it (issue 12, section 1)."""

from __future__ import annotations

import random

from textual.geometry import Offset
from textual.selection import SELECT_ALL, Selection

from llamachat.store.db import Store
from llamachat.tui.conversation.blocks import (
    BlockSplitter,
    CodeEnd,
    CodeLines,
    CodeStart,
    TextBlock,
)
from llamachat.tui.conversation.message import MessageView
from tests.tui_helpers import SIZE, make_app, views, wait_for

MARKDOWN = (
    "## A heading with `code`\n\n"
    "> A quote with **bold** and _emphasis_\n> on two lines.\n\n"
    "1. first\n2. second with [a link](https://example.com/x)\n   - nested ~~gone~~\n\n"
    "- [ ] a task\n- [x] done\n\n"
    "| left | right |\n|:-----|------:|\n| `a`  | **b** |\n\n"
    "---\n\n"
    "```\n\tindented with a tab\n  two spaces\n```\n\n"
    "~~~js\nconst x = `tick`;\n~~~\n\n"
    "Text\nwith a soft break, then the end."
)


def test_block_spans_are_the_text_they_came_from_however_the_text_arrives() -> None:
    chunker = random.Random(12)
    for _ in range(100):
        splitter, events, at = BlockSplitter(), [], 0
        while at < len(MARKDOWN):
            size = chunker.randint(1, 9)
            events += splitter.feed(MARKDOWN[at : at + size])
            at += size
            start, end = splitter.open_span()
            if splitter.open_text():  # the live tail, too
                assert MARKDOWN[start:end] == splitter.open_text()
            else:  # or, in code, the unfinished line
                start, end = splitter.partial_span()
                assert MARKDOWN[start:end] == splitter.partial_line
        events += splitter.close()
        for event in events:
            span = MARKDOWN[event.start : event.end]
            if isinstance(event, TextBlock):
                assert span == event.text
            elif isinstance(event, CodeLines):
                assert span == "\n".join(event.lines)
            elif isinstance(event, CodeStart):
                assert span in ("```", "~~~js")
            elif isinstance(event, CodeEnd):
                assert span in ("```", "~~~")


def _store(*texts: str) -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation()
        parent = None
        for n, text in enumerate(texts):
            role = "user" if n % 2 == 0 else "assistant"
            parent = store.add_message(conversation.id, role, text, parent_id=parent).id


def _lines(view: MessageView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_every_kind_of_markdown_is_copied_as_written() -> None:
    _store("A prompt\nwith a line break", MARKDOWN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].size.height > 20, pilot)
        prompt, reply = views(app)
        assert prompt.get_selection(SELECT_ALL) == ("A prompt\nwith a line break", "\n\n")
        assert reply.get_selection(SELECT_ALL) == (MARKDOWN, "\n\n")
        lines = _lines(reply)

        def line(drawn: str, after: int = 0) -> str | None:
            y = next(n for n, text in enumerate(lines) if drawn in text and n > after)
            found = reply.get_selection(Selection(Offset(0, y), Offset(len(lines[y]), y)))
            return found[0] if found else None

        # A whole drawn line is its line as written: marks, bullets and numbers, bars.
        assert line("A heading with") == "## A heading with `code`"
        # (the quote's soft line break is drawn as a space: both lines are drawn as one)
        assert line("A quote with") == "> A quote with **bold** and _emphasis_\n> on two lines."
        assert line("second with") == "2. second with [a link](https://example.com/x)"
        assert line("nested") == "   - nested ~~gone~~"
        assert line("a task") == "- [ ] a task"
        assert line("indented with a tab") == "\tindented with a tab"
        assert line("two spaces") == "  two spaces"
        assert line("const x") == "const x = `tick`;"  # in code, backticks are code
        header = next(n for n, text in enumerate(lines) if "left" in text)
        assert line("a", after=header + 1) == "| `a`  | **b** |"
        # Part of a line: the characters under it, their marks with them.
        y = next(n for n, text in enumerate(lines) if "A quote" in text)
        x = lines[y].index("bold")
        found = reply.get_selection(Selection(Offset(x, y), Offset(x + 8, y)))
        assert found == ("**bold** and", "\n\n")


async def test_a_huge_message_drawn_a_part_at_a_time_is_copied_from_its_text() -> None:
    paragraphs = "".join(f"Paragraph {n} with **bold** text.\n\n" for n in range(1200))
    code = "".join(f"    value_{n} = compute({n})  # step {n}\n" for n in range(1500))
    text = f"{paragraphs}```python\n{code}```\n\nThe end."
    _store("big please", text)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        reply = views(app)[1]
        window = reply.window
        assert window is not None
        await wait_for(lambda: window.ready and not reply._growing and reply.hidden > 0, pilot)
        cut = window.cut
        assert text.index("```python") < cut < text.index("The end")  # inside the code
        # The code block opened again above the cut is drawn, but is not the text's.
        assert reply.get_selection(SELECT_ALL) == (text[cut:], "\n\n")
        lines = _lines(reply)
        y = next(n for n, line in enumerate(lines) if "value_1400 =" in line)
        found = reply.get_selection(Selection(Offset(0, y), Offset(len(lines[y]), y)))
        assert found == ("    value_1400 = compute(1400)  # step 1400", "\n\n")
