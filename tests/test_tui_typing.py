"""Typing in the prompt: pastes, newline keys, typeahead before Enter, drafts kept across a restart."""

from __future__ import annotations

from llamachat.store.db import Store
from llamachat.tui.conversation.prompt import PromptInput
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_pasted_text_stays_intact() -> None:
    from textual import events

    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pasted = "line one\n    indented line two\n\nline four"
        app.post_message(events.Paste(pasted))  # as the terminal driver delivers it
        await pilot.pause()
        assert pane(app).prompt.text == pasted


async def test_newline_keys_do_not_send() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "ctrl+j", "b", "alt+enter", "c")
        assert pane(app).prompt.text == "a\nb\nc"
        assert views(app) == []


async def test_enter_typed_in_a_burst_sends_every_key_before_it(fake: FakeServer) -> None:
    """Keys arriving together (typeahead, a paste without bracketed paste) keep their order."""
    from textual import events

    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        typed = "a whole sentence with [bold]markup[/bold]"
        for character in typed:  # as the driver delivers one read of the terminal
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("enter", "\r"))
        for character in "next":  # typed on before the reply: kept for the next prompt
            app.post_message(events.Key(character, character))
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert views(app)[0].message.content == typed
        assert pane(app).prompt.text == "next"
        await pilot.press("!")  # the cursor is after what was kept
        assert pane(app).prompt.text == "next!"


async def test_draft_survives_a_restart(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["hi"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"first", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press(*"half-written thought")
        await app.action_quit()
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert pane(app2).prompt.text == "half-written thought"


async def test_draft_is_saved_while_typing(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press(*"unsent words")
        cid = pane(app).conversation_id
        assert cid is not None
        with Store.open_default() as store:
            await wait_for(lambda: store.conversation(cid).draft == "unsent words", pilot)
