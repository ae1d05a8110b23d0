"""The prompt keeps focus and text through regenerate, edits, restarts and Alt keys."""

from __future__ import annotations

from textual import events

from llamachat.tui.conversation.message import MessageView
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_regenerate_from_a_focused_reply_gives_focus_back_to_the_prompt(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["one"])), sse_reply(stream_events(["two"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"question", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("shift+tab")
        focused = app.focused
        assert isinstance(focused, MessageView) and focused.message.role == "assistant"
        await pilot.pause(0.1)
        shown = {key.description for key in app.screen.query("FooterKey")}  # type: ignore[attr-defined]
        assert "Regenerate" in shown and "Edit" not in shown  # a reply cannot be edited
        await pilot.press("r")
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "two", pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)
        await pilot.press(*"next")  # typed text lands in the prompt, not on message keys
        assert pane(app).prompt.text == "next"
        assert len(fake.received("POST")) == 2


async def test_an_edit_sets_the_draft_aside_and_gives_it_back(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["a"])), sse_reply(stream_events(["b"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press(*"my draft")
        await pilot.press("shift+tab", "shift+tab")
        assert isinstance(app.focused, MessageView) and app.focused.message.role == "user"
        await pilot.press("e")
        assert pane(app).prompt.text == "first"
        await pilot.press("escape")  # cancel the edit: the draft is back
        assert pane(app).prompt.text == "my draft"

        await pilot.press("shift+tab", "shift+tab", "e")
        pane(app).prompt.focus()
        await pilot.press("end", *" again", "enter")  # send the edit: the draft is back too
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "b", pilot)
        assert views(app)[0].message.content == "first again"
        assert pane(app).prompt.text == "my draft"


async def test_a_restored_draft_is_typed_on_at_its_end() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"half a")
        await app.action_quit()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: pane(app).prompt.text == "half a", pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)
        await pilot.press(*" thought")
        assert pane(app).prompt.text == "half a thought"


async def test_alt_keys_in_the_prompt_reach_the_app() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(lambda: len(app.panes()) == 2, pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)
        app.post_message(events.Key("alt+w", "w"))  # as a terminal sends it: Esc then "w"
        await wait_for(lambda: len(app.panes()) == 1, pilot)
        assert pane(app).prompt.text == ""


async def test_a_prompt_shows_its_line_breaks_and_a_reply_follows_markdown(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["soft\nbreak"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first line", "ctrl+j", *"second line", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.pause(0.1)
        strips = app.screen._compositor.render_strips()
        screen = [strip.text.split("▕")[-1] for strip in strips]  # the pane, not the sidebar
        assert any(line.strip() == "first line" for line in screen)
        assert any(line.strip() == "second line" for line in screen)
        assert any(line.strip() == "soft break" for line in screen)  # Markdown: one paragraph


async def test_quick_page_ups_each_move_a_page() -> None:
    from llamachat.store.db import Store

    configure()
    with Store.open_default() as store:
        c = store.create_conversation()
        user = store.add_message(c.id, "user", "code please")
        code = "\n".join(f"x{i} = {i}" for i in range(3000))
        store.add_message(c.id, "assistant", f"```python\n{code}\n```\n", parent_id=user.id)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        messages = pane(app).messages
        await wait_for(lambda: messages.max_scroll_y > 2000, pilot)
        height = -1.0
        while messages.max_scroll_y != height:  # the code block is laid out in batches
            height = messages.max_scroll_y
            await pilot.pause(0.2)
        await wait_for(lambda: messages.scroll_y == messages.max_scroll_y, pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)
        assert not pane(app).notice.display  # no first-run hint over a conversation with messages
        start, page = messages.scroll_y, messages.scrollable_content_region.height
        for _ in range(5):  # faster than the screen refreshes
            app.post_message(events.Key("pageup", None))
        await wait_for(lambda: messages.scroll_y <= start - 5 * page, pilot)
        assert messages.scroll_y == start - 5 * page
