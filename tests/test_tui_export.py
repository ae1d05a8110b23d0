"""Getting text out of the TUI: copying a message or a code block, exporting a conversation, searching to a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_copy_message_and_code_block(fake: FakeServer) -> None:
    fake.on(
        "POST", CHAT, sse_reply(stream_events(["Try:\n\n```python\n", "print('hi')\n", "```\n"]))
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"code", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        views(app)[1].focus()
        await pilot.press("1")
        assert app.clipboard == "print('hi')"
        await pilot.press("c")
        assert app.clipboard.startswith("Try:") and "```python" in app.clipboard


async def test_export_from_the_ui(fake: FakeServer, tmp_path: Path) -> None:
    from llamachat.tui.screens.export import ExportScreen

    fake.on("POST", CHAT, sse_reply(stream_events(["exported words"])))
    configure(fake)
    app = make_app()
    target = tmp_path / "out" / "chat.md"
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"export me", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, ExportScreen), pilot)
        app.screen.query_one("#path").value = str(target)  # type: ignore[attr-defined]
        target.parent.mkdir()
        target.write_text("PRECIOUS")
        await pilot.click("#export")  # the file exists: asks first
        await pilot.pause(0.1)
        assert isinstance(app.screen, ExportScreen)
        assert "exists" in str(app.screen.query_one("#warning").render())
        assert target.read_text() == "PRECIOUS"
        path_box = app.screen.query_one("#path")
        path_box.value = str(target.with_suffix(".html"))  # type: ignore[attr-defined]
        await wait_for(lambda: not str(app.screen.query_one("#warning").render()), pilot)
        path_box.value = str(target)  # type: ignore[attr-defined]  # back: it asks again
        await pilot.pause(0.6)  # not a double click
        await pilot.click("#export")
        await pilot.pause(0.1)
        assert target.read_text() == "PRECIOUS"
        assert "exists" in str(app.screen.query_one("#warning").render())
        await pilot.pause(0.6)  # not a double click
        await pilot.click("#export")  # again: replaces it
        await wait_for(lambda: "exported words" in target.read_text(), pilot)
        assert any(str(target) in n.message for n in app._notifications)


def test_suggested_export_path_is_never_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llamachat.tui.screens.export import default_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-chat.md").write_text("kept")
    assert default_path("My chat", "md") == tmp_path / "my-chat-2.md"
    assert default_path("My chat", "html") == tmp_path / "my-chat.html"


async def test_sidebar_search_opens_at_the_message(fake: FakeServer) -> None:
    configure(fake)
    with Store.open_default() as store:
        for i in range(3):
            c = store.create_conversation()
            u = store.add_message(c.id, "user", f"question {i}")
            store.add_message(
                c.id,
                "assistant",
                f"answer {i} about {'platypus' if i == 1 else 'otters'}",
                parent_id=u.id,
            )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"platyp")
        await wait_for(lambda: app.sidebar.searching and app.sidebar.items.option_count >= 1, pilot)
        await pilot.press("enter", "enter")
        await wait_for(lambda: pane(app).conversation_id == 2, pilot)
        await wait_for(lambda: any("platypus" in v.message.content for v in views(app)), pilot)
