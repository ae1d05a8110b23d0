"""Moving around a conversation: End and PgDn follow a fast stream again; g, G, j, k, Home."""

from __future__ import annotations

from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from tests.fakeserver import FakeServer, Reply, chunk_event, sse_reply
from tests.test_tui_big import _long_conversation
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def focused_text(app: LlamaChatApp) -> str:
    """The text of the focused message."""
    focused = app.focused
    assert isinstance(focused, MessageView)
    return focused.message.content


def fast_stream() -> Reply:
    """A reply that never ends: eight paragraphs every 20 ms (far more than a page a
    key press), until the client goes."""
    burst = "".join(chunk_event(f"word {i} and more words\n\n") for i in range(8)).encode()
    return sse_reply([chunk_event(role="assistant"), chunk_event("Start\n\n")], forever=burst)


async def test_pagedown_back_to_where_the_end_was_follows_a_fast_stream(fake: FakeServer) -> None:
    fake.on("POST", CHAT, fast_stream())
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"go", "enter")
        messages = pane(app).messages
        await wait_for(lambda: messages.max_scroll_y > 100, pilot)
        await pilot.press("pageup", "pageup", "pageup")
        assert not messages.following
        reading = messages.scroll_y
        await wait_for(lambda: messages.max_scroll_y > reading + 300, pilot)  # it ran on
        assert messages.scroll_y == reading  # the view stayed where the person reads
        await pilot.press("pagedown", "pagedown")
        assert not messages.following  # not back yet
        await pilot.press("pagedown")  # three pages down: where the end was
        assert messages.following
        grown = messages.max_scroll_y
        await wait_for(lambda: messages.max_scroll_y > grown + 100, pilot)
        assert messages.scroll_y == messages.max_scroll_y  # following the stream again
        await pilot.press("escape")


async def test_end_in_the_prompt_follows_a_fast_stream_again(fake: FakeServer) -> None:
    fake.on("POST", CHAT, fast_stream())
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"go", "enter")
        messages = pane(app).messages
        await wait_for(lambda: messages.max_scroll_y > 100, pilot)
        await pilot.press("pageup")
        await pilot.press(*"draft", "left", "end")  # the first End goes to the line's end
        assert not messages.following
        assert pane(app).prompt.cursor_location == (0, 5)
        await pilot.press("end")
        assert messages.following and pane(app).prompt.has_focus
        grown = messages.max_scroll_y
        await wait_for(lambda: messages.max_scroll_y > grown + 100, pilot)
        assert messages.scroll_y == messages.max_scroll_y
        await pilot.press("escape")


async def test_g_home_j_k_and_G_on_a_focused_message() -> None:
    configure()
    _long_conversation(300)
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        messages = pane(app).messages
        await wait_for(lambda: len(views(app)) >= 8 and messages.max_scroll_y > 0, pilot)
        await pilot.press("shift+tab")  # the newest message
        assert app.focused is views(app)[-1]
        assert views(app)[-1].message.content == "message number 299"
        await pilot.press("k", "k")
        assert focused_text(app) == "message number 297"
        await pilot.press("j")
        assert focused_text(app) == "message number 298"
        await pilot.press("g")  # every older message, mounted at once, the first focused
        await wait_for(lambda: messages.scroll_y == 0 and len(views(app)) == 300, pilot)
        assert app.focused is views(app)[0]
        assert views(app)[0].message.content == "message number 0"
        assert not pane(app).earlier.display
        await pilot.press("j")
        assert app.focused is views(app)[1]
        await pilot.press("G")
        assert app.focused is views(app)[-1]
        await wait_for(lambda: messages.scroll_y == messages.max_scroll_y, pilot)
        assert messages.following
        await pilot.press("k")
        await pilot.press("home")  # Home does what g does
        await wait_for(lambda: messages.scroll_y == 0, pilot)
        assert app.focused is views(app)[0]
        await pilot.press("end")  # and End what G does
        await wait_for(lambda: messages.following and app.focused is views(app)[-1], pilot)


async def test_k_from_the_first_mounted_message_loads_older_ones() -> None:
    configure()
    _long_conversation(300)
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(lambda: len(views(app)) >= 8, pilot)
        await pilot.pause(0.2)
        first = views(app)[0]
        first.focus()
        before = len(views(app))
        await pilot.press("k")
        assert len(views(app)) > before
        number = int(first.message.content.rsplit(" ", 1)[1])
        assert focused_text(app) == f"message number {number - 1}"


async def test_home_in_an_empty_prompt_goes_to_the_first_message() -> None:
    configure()
    _long_conversation(300)
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        messages = pane(app).messages
        await wait_for(lambda: len(views(app)) >= 8 and messages.max_scroll_y > 0, pilot)
        await pilot.press("home")
        await wait_for(lambda: messages.scroll_y == 0 and len(views(app)) == 300, pilot)
        assert pane(app).prompt.has_focus  # the prompt keeps the focus, as with PgUp
        await pilot.press("end")
        await wait_for(lambda: messages.following, pilot)
        assert messages.scroll_y == messages.max_scroll_y
