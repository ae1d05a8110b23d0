"""The export dialog starts where the last export went (also after a restart), and a file
name's extension picks the format."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, RadioButton

from llamachat.tui.app import LlamaChatApp
from llamachat.tui.screens.export import ExportScreen, format_of
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def _path_box(app: LlamaChatApp) -> Input:
    return app.screen.query_one("#path", Input)


def _pressed(app: LlamaChatApp) -> str:
    return next(b.name or "" for b in app.screen.query(RadioButton) if b.value)


async def test_the_extension_picks_the_format_and_the_folder_is_remembered(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["exported words"])))
    configure(fake)
    folder = tmp_path / "exports"
    folder.mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"export me", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, ExportScreen), pilot)
        assert Path(_path_box(app).value).parent == Path.cwd()  # nothing remembered yet
        _path_box(app).value = str(folder / "chat.HTM")
        await wait_for(lambda: _pressed(app) == "html", pilot)
        assert _path_box(app).value == str(folder / "chat.HTM")  # the name is left as typed
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        await wait_for(lambda: not screen._pressed_for_path, pilot)  # its press was seen
        await pilot.click("#export")
        target = folder / "chat.HTM"
        await wait_for(lambda: target.exists() and "exported words" in target.read_text(), pilot)
        assert target.read_text().lstrip().lower().startswith("<!doctype html")

        await pilot.press("ctrl+t")  # again: in the same folder, a name not taken
        await wait_for(lambda: isinstance(app.screen, ExportScreen), pilot)
        assert Path(_path_box(app).value).parent == folder
        app.screen.query(RadioButton).last().value = True  # the person picks Plain text
        await wait_for(lambda: _path_box(app).value.endswith(".txt"), pilot)
        _path_box(app).value = str(folder / "notes.markdown")
        await wait_for(lambda: _pressed(app) == "md", pilot)
        await pilot.press("escape")

    app = make_app()  # the folder is kept for the next start too
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: pane(app).conversation_id is not None, pilot)
        await pilot.press("ctrl+t")
        await wait_for(lambda: isinstance(app.screen, ExportScreen), pilot)
        assert Path(_path_box(app).value).parent == folder


def test_format_of_a_file_name() -> None:
    assert format_of("a/b.json") == "json"
    assert format_of("notes.MD") == "md"
    assert format_of("page.htm") == "html"
    assert format_of("log.text") == "txt"
    assert format_of("archive.tar") is None
    assert format_of("README") is None
