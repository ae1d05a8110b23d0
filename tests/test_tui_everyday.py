"""Everyday use of the TUI (issue 10, section 7 and 4.3): readable code in every theme, a live
wait, changes made by another process, key bursts, resizes, and a send after a failure."""

from __future__ import annotations

from rich.color import Color
from textual import events

from llamachat import locations
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.prompt import PromptInput
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"
CODE_REPLY = (
    "Here it is:\n\n```python\n@cache\ndef area(r: float) -> float:\n"
    '    """Circle."""  # a comment\n    return 3.14159 * r ** 2 if r > 0 else None\n'
    "name = f'llama {area(2)}'\n```\n\nDone."
)


def _luminance(color: Color) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    c = color.get_truecolor()
    return 0.2126 * channel(c.red) + 0.7152 * channel(c.green) + 0.0722 * channel(c.blue)


def contrast(foreground: Color, background: Color) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def code_contrasts(view: MessageView) -> list[tuple[float, str]]:
    """(contrast, text) of every drawn piece of code: segments on the code background."""
    code_bg = view.get_component_rich_style("markdownview--code").bgcolor
    assert code_bg is not None
    found = []
    for y in range(view.size.height):
        for segment in view.render_line(y):
            style = segment.style
            if not segment.text.strip() or style is None or style.bgcolor != code_bg:
                continue
            if style.color is None or segment.text.startswith("[1]"):  # the block's label
                continue
            found.append((contrast(style.color, code_bg), segment.text))
    return found


def _store_code_conversation() -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation()
        user = store.add_message(conversation.id, "user", "a function please")
        store.add_message(conversation.id, "assistant", CODE_REPLY, parent_id=user.id)


async def test_code_is_readable_in_every_theme_and_after_switching() -> None:
    _store_code_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].size.height > 5, pilot)
        for theme in ("andes-day", "llama-night", "alpaca-terminal", "andes-day"):
            app.theme = theme
            await pilot.pause()
            reply = views(app)[1]
            pieces = code_contrasts(reply)
            assert any("area" in text for _, text in pieces), theme
            worst = min(pieces)
            assert worst[0] >= 3.0, (theme, worst)  # was 1.2: monokai's white on light grey


async def test_a_light_theme_at_start_draws_code_in_a_light_style() -> None:
    configure(theme="andes-day")
    _store_code_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].size.height > 5, pilot)
        assert app.theme == "andes-day"
        assert min(code_contrasts(views(app)[1]))[0] >= 3.0  # "friendly" drew comments at 2.3


async def test_inline_code_follows_the_theme() -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation()
        user = store.add_message(conversation.id, "user", "which call?")
        store.add_message(
            conversation.id, "assistant", "Call `area_of(r)` here.", parent_id=user.id
        )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].size.height > 0, pilot)
        for theme in ("andes-day", "llama-night"):
            app.theme = theme
            await pilot.pause()
            reply = views(app)[1]
            pieces = [
                segment.style
                for y in range(reply.size.height)
                for segment in reply.render_line(y)
                if "area_of" in segment.text and segment.style is not None
            ]
            assert pieces, theme
            style = pieces[0]
            assert style.bgcolor is not None and style.color is not None
            # Rich's own style is bold cyan on black: a black box on a light page.
            assert style.bgcolor.get_truecolor() != (0, 0, 0), theme
            background = app.theme_variables["background"]
            assert contrast(style.bgcolor, Color.parse(background)) < 1.5, theme
            assert contrast(style.color, style.bgcolor) >= 3.0, theme


async def test_waiting_for_the_first_token_counts_the_seconds(fake: FakeServer) -> None:
    slow = sse_reply(stream_events(["at last"]))
    slow.stall = 1.6
    fake.on("POST", CHAT, slow)
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2, pilot)
        reply = views(app)[1]
        await wait_for(lambda: "waiting for first token" in str(reply.badge_text()), pilot)
        assert "waiting for first token" in str(app.status_bar.render_status())
        assert "streaming" not in str(app.status_bar.render_status())
        await wait_for(lambda: "waiting for first token · 1 s" in str(reply.badge_text()), pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        assert reply.text == "at last"
        assert "waiting" not in str(reply.badge_text())


async def test_a_retry_says_retrying_not_streaming(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": {"message": "busy"}}, 503, {"retry-after": "2"}),
        sse_reply(stream_events(["second time lucky"])),
    )
    configure(fake, network={"max_retries": 2})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2, pilot)
        reply = views(app)[1]
        await wait_for(lambda: "retrying (1 of 2) in" in str(reply.badge_text()), pilot)
        bar = str(app.status_bar.render_status())
        assert "retry" in bar and "streaming" not in bar
        assert "streaming" not in str(reply.badge_text())
        await wait_for(lambda: not pane(app).busy, pilot)
        assert reply.text == "second time lucky"
        assert "retrying" not in str(reply.badge_text())


def _sidebar_ids(app: LlamaChatApp) -> set[str]:
    items = app.sidebar.items
    return {items.get_option_at_index(i).id or "" for i in range(items.option_count)}


async def test_changes_by_another_process_show_up(fake: FakeServer) -> None:
    configure(fake)
    with Store.open_default() as store:
        conversation = store.create_conversation(provider="fake", model="fake-model")
        user = store.add_message(conversation.id, "user", "slow question")
        job = store.add_message(
            conversation.id,
            "assistant",
            "",
            parent_id=user.id,
            status=MessageStatus.QUEUED,
            job_id="job-123",
            job_status="stopped",  # waits for r: not resumed by the app itself
        )
        store.release(job.id)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        await pilot.press(*"half typed")
        # Another process (``history resume``) fills in the job's reply...
        with Store(locations.database_path()) as other:
            other.update_message(job.id, content="the job's answer", status=MessageStatus.COMPLETE)
        await wait_for(lambda: views(app)[-1].message.status is MessageStatus.COMPLETE, pilot)
        assert views(app)[-1].text == "the job's answer"
        # ... and another (``ask``) adds a conversation.
        with Store(locations.database_path()) as other:
            added = other.create_conversation()
            other.add_message(added.id, "user", "asked elsewhere")
        await wait_for(lambda: f"c{added.id}" in _sidebar_ids(app), pilot)
        assert pane(app).prompt.text == "half typed"  # the prompt being typed is left alone
        assert isinstance(app.focused, PromptInput)


async def test_keys_typed_right_after_a_control_key_are_kept() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        await pilot.press(*"old text")
        await pilot.pause()
        # One burst, as a terminal delivers ``C-u hi``: the driver posts every key at once.
        for key, character in (("ctrl+u", "\x15"), ("h", "h"), ("i", "i")):
            app.post_message(events.Key(key, character))
        await wait_for(lambda: pane(app).prompt.text == "hi", pilot, limit=5)
        for key, character in (("a", "a"), ("b", "b"), ("backspace", "\x7f"), ("c", "c")):
            app.post_message(events.Key(key, character))
        await wait_for(lambda: pane(app).prompt.text == "hiac", pilot, limit=5)


def _visible(view: MessageView, app: LlamaChatApp) -> bool:
    region = pane(app).messages.region
    return view.region.overlaps(region)


async def test_resize_keeps_the_place_of_someone_reading_back() -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation()
        parent = None
        for n in range(30):
            role = "user" if n % 2 == 0 else "assistant"
            text = f"message {n}: " + " ".join(f"word{n}-{i}" for i in range(60))
            parent = store.add_message(
                conversation.id, role, text, parent_id=parent.id if parent else None
            )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        messages = pane(app).messages
        await wait_for(lambda: messages.max_scroll_y > 0 and len(views(app)) >= 8, pilot)
        await wait_for(lambda: messages.scroll_y == messages.max_scroll_y, pilot)
        await pilot.press("pageup", "pageup")
        await wait_for(lambda: messages.scroll_y < messages.max_scroll_y - 20, pilot)
        top = messages.region.y
        # The message at the top of the view (the top line may be the gap below one).
        reading = [v for v in views(app) if v.region.height and v.region.y <= top][-1]
        await pilot.resize_terminal(80, 40)
        await pilot.pause()
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        await wait_for(lambda: reading.size.width > 0, pilot)
        assert _visible(reading, app), (reading.message.content[:12], messages.scroll_y)
        assert messages.scroll_y < messages.max_scroll_y  # not jumped to the end


async def test_a_send_after_a_failure_is_not_a_branch_of_it(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": {"message": "bad key"}}, 401),
        sse_reply(stream_events(["fine now"])),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first try", "enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        sentence = views(app)[1].message.error
        assert sentence
        shown = [str(pane(app).notice.render())] + [str(v.error_text() or "") for v in views(app)]
        assert sum(sentence in text for text in shown) == 1  # once, not twice
        assert "back in the input" in shown[0]
        pane(app).prompt.show_text("something else")
        await pilot.press("enter")
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "fine now", pilot)
        assert [v.message.content for v in views(app)] == ["something else", "fine now"]
        assert all(v.branch is None or v.branch.count == 1 for v in views(app))
        conversation_id = pane(app).conversation_id
        assert not pane(app).notice.display
    assert conversation_id is not None
    with Store.open_default() as store:
        stored = store.messages(conversation_id)
    assert [(m.role, m.content, m.parent_id is None) for m in stored] == [
        ("user", "something else", True),
        ("assistant", "fine now", False),
    ]


async def test_a_failed_reply_with_text_stays_as_a_branch(fake: FakeServer) -> None:
    cut = sse_reply(stream_events(["half an ans"], finish=None, done=False), cut=True)
    fake.on("POST", CHAT, cut, sse_reply(stream_events(["whole answer"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"question", "enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        assert views(app)[1].message.status is MessageStatus.FAILED
        await pilot.press("enter")
        await wait_for(lambda: views(app)[-1].text == "whole answer", pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        first = views(app)[0]
        assert first.branch is not None and first.branch.count == 2  # the text received is kept
