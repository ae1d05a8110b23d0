"""The reasoning of a reply in the TUI: a collapsed Thinking line that opens with t or a click."""

from __future__ import annotations

import json

from llamachat.store.db import Store
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.thinking import ThinkingSection
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def lines(view: MessageView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view._height)]


def thinking_stream(thoughts: list[str], answer: list[str]) -> list[str]:
    events = []
    for piece in thoughts:
        chunk = {"id": "c", "choices": [{"index": 0, "delta": {"reasoning_content": piece}}]}
        events.append(f"data: {json.dumps(chunk)}\n\n")
    return events + stream_events(answer)


async def test_thinking_block_collapsed_then_opens_with_t(fake: FakeServer) -> None:
    thoughts = ["First I [bold]weigh[/] ", "the \x1b[2J options.\n\n", "Then I decide."]
    fake.on("POST", CHAT, sse_reply(thinking_stream(thoughts, ["Pick ", "the red one."])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Which one?", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        reply = views(app)[1]
        await wait_for(lambda: "Thought for" in "\n".join(lines(reply)), pilot)
        shown = "\n".join(lines(reply))
        assert "▸ Thought for under a second" in shown
        assert "weigh" not in shown  # collapsed
        assert shown.index("Thought for") < shown.index("Pick the red one.")
        assert reply.text == "Pick the red one."
        reply.focus()
        await pilot.press("t")
        await wait_for(lambda: "weigh" in "\n".join(lines(reply)), pilot)
        opened = "\n".join(lines(reply))
        assert "▾ Thought for" in opened
        assert "First I [bold]weigh[/] the \\x1b[2J options." in opened  # shown as text
        assert "\x1b" not in opened
        assert opened.index("Then I decide.") < opened.index("Pick the red one.")
        await pilot.press("t")
        await wait_for(lambda: "weigh" not in "\n".join(lines(reply)), pilot)
        label_y = next(y for y, line in enumerate(lines(reply)) if "Thought for" in line)
        await pilot.click(reply, offset=(3, label_y))
        await wait_for(lambda: "Then I decide." in "\n".join(lines(reply)), pilot)
        bindings = {b.binding.key for b in app.screen.active_bindings.values()}
        assert "t" in bindings
    with Store.open_default() as store:
        rows = store._read("SELECT content, reasoning FROM messages WHERE role = 'assistant'")
    assert rows == [("Pick the red one.", "".join(thoughts))]


async def test_live_thinking_counts_seconds_and_reloads(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(thinking_stream(["Hmm", "..."], ["Yes."]), delay=0.3),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"Sure?", "enter")
        await wait_for(lambda: len(views(app)) == 2, pilot)
        reply = views(app)[1]
        await wait_for(lambda: "Thinking… 0 s" in "\n".join(lines(reply)), pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        await wait_for(lambda: "▸ Thought for" in "\n".join(lines(reply)), pilot)
        assert reply.message.reasoning == "Hmm..."
        assert reply.message.reasoning_seconds is not None
        pane(app).rebuild()
        await wait_for(lambda: len(views(app)) == 2, pilot)
        again = views(app)[1]
        await wait_for(lambda: "▸ Thought for" in "\n".join(lines(again)), pilot)
        assert "Hmm" not in "\n".join(lines(again))


def test_open_thoughts_keep_finished_paragraphs() -> None:
    """Streaming into open thoughts lays out only the new text: finished blocks are kept."""
    section = ThinkingSection(live=True)
    section.toggle()
    section.append("One.\n\nTw")
    first = section.blocks()
    section.append("o.\n\nThree")
    second = section.blocks()
    assert second[1] is first[1]  # "One." was drawn once and kept
    assert [b.renderable.plain for b in second[1:]] == ["One.\n", "Two.\n", "Three", ""]  # type: ignore[union-attr]
    section.finish(72.4)
    assert section.label.renderable.plain == "▾ Thought for 1 min 12 s"  # type: ignore[union-attr]
    section.toggle()
    assert section.blocks() == [section.label]
