"""Select and copy that always work (issue 12, section 1): mouse and keyboard selection
copy the text as written, and copies reach the platform's clipboard tool (a fake one on
PATH here, which writes what it reads to a file)."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from textual.command import CommandList
from textual.geometry import Offset
from textual.widgets import Button

from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.copying import SaveCopy
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"
PROMPT = "Please **explain** this list:\n- one\n- two"
REPLY = (
    "# Heading\n\nSure, *here* is `code`:\n\n```python\ndef f(x):\n    return x ** 2\n```\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\nDone."
)


def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """A fake clipboard tool ``name``, alone on PATH: it writes its stdin to a file (and
    its arguments to another); the file's path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    out = tmp_path / f"{name}.out"
    script = bin_dir / name
    script.write_text(
        f'#!/bin/sh\necho "$@" > "{out}.args"\n/bin/cat > "{out}.part"\n'
        f'/bin/mv "{out}.part" "{out}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    return out


def args_of(out: Path) -> list[str]:
    """The arguments the fake tool writing ``out`` was run with."""
    return Path(f"{out}.args").read_text().split()


def store_conversation() -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation()
        user = store.add_message(conversation.id, "user", PROMPT)
        store.add_message(conversation.id, "assistant", REPLY, parent_id=user.id)


def line_of(view: MessageView, text: str) -> tuple[int, int]:
    """(x, y) of ``text`` in ``view``'s drawn lines, in the view's content coordinates."""
    for y in range(view.size.height):
        x = view.render_line(y).text.find(text)
        if x >= 0:
            return x, y
    raise AssertionError(f"{text!r} is not drawn")


async def drag(
    pilot: object, start: tuple[MessageView, str, int], end: tuple[MessageView, str, int]
) -> None:
    """Drag from the ``n``-th character of the drawn ``text`` in one view to one in another."""
    (view1, text1, n1), (view2, text2, n2) = start, end
    x1, y1 = line_of(view1, text1)
    x2, y2 = line_of(view2, text2)
    left = view1.styles.padding.left
    await pilot.mouse_down(view1, Offset(left + x1 + n1, y1))  # type: ignore[attr-defined]
    await pilot.hover(view2, Offset(left + x2 + n2, y2))  # type: ignore[attr-defined]
    await pilot.mouse_up(view2, Offset(left + x2 + n2, y2))  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def opened(app: LlamaChatApp, pilot: object) -> tuple[MessageView, MessageView]:
    await wait_for(lambda: len(views(app)) == 2 and views(app)[1].size.height > 10, pilot)
    first, second = views(app)
    return first, second


def notices(app: LlamaChatApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_drag_across_two_messages_selects_their_text_as_written() -> None:
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        # From "plain" in the prompt's "explain" to "x" of "return x" in the reply's code.
        await drag(pilot, (prompt, "Please explain", 9), (reply, "return x", 8))
        selected = app.screen.get_selected_text()
        # Markdown as written (bold marks, list dashes, the heading's hash, backticks, the
        # fence), code without its padding: not the drawn bullets or the label "[1] python".
        assert selected == (
            "plain** this list:\n- one\n- two\n\n# Heading\n\nSure, *here* is `code`:\n\n"
            "```python\ndef f(x):\n    return x"
        )
        # The selected cells are drawn in the selection's colours.
        x, y = line_of(reply, "Sure, here")
        selected_style = app.screen.get_component_rich_style("screen--selection")
        segments = list(reply.render_line(y))
        assert segments[0].text.startswith("Sure")
        assert segments[0].style is not None
        assert segments[0].style.bgcolor == selected_style.bgcolor
        # The text keeps its own colour on it (Textual's "transparent" foreground, made
        # whole, is the background colour: selected text was drawn invisible).
        assert segments[0].style.color not in (None, segments[0].style.bgcolor)


async def test_a_double_click_selects_a_word_and_a_triple_click_a_line() -> None:
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        left = reply.styles.padding.left
        x, y = line_of(reply, "here is code")
        await pilot.double_click(reply, Offset(left + x + 1, y))
        assert app.screen.get_selected_text() == "*here*"  # the word, with its marks
        x, y = line_of(reply, "return x")
        await pilot.triple_click(reply, Offset(left + x + 2, y))
        assert app.screen.get_selected_text() == "    return x ** 2"  # the line, not every message
        x, y = line_of(prompt, "• one")
        await pilot.triple_click(prompt, Offset(left + x + 3, y))
        assert app.screen.get_selected_text() == "- one"


async def test_ctrl_c_copies_the_selection_through_wl_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "wl-copy")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        await drag(pilot, (reply, "Sure, here", 0), (reply, "1  2", 4))
        expected = "Sure, *here* is `code`:\n\n```python\ndef f(x):\n    return x ** 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        assert app.screen.get_selected_text() == expected
        await pilot.press("ctrl+c")
        await wait_for(out.exists, pilot)
        assert out.read_text() == expected  # exactly the text, no trailing newline added
        await wait_for(lambda: any("with wl-copy" in n for n in notices(app)), pilot)
        assert app.clipboard == expected  # and by OSC 52 (Textual's own copy)


async def test_c_on_a_message_copies_it_through_xclip_when_there_is_no_wayland(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "xclip")
    monkeypatch.setenv("DISPLAY", ":0")
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        reply.focus()
        await pilot.press("c")
        await wait_for(out.exists, pilot)
        assert out.read_text() == REPLY
        assert args_of(out) == ["-selection", "clipboard", "-in"]
        await wait_for(
            lambda: any("Message copied" in n and "xclip" in n for n in notices(app)), pilot
        )


async def test_with_no_clipboard_tool_the_copy_can_be_saved_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("DISPLAY", ":0")  # xclip would be tried: it is not there
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        reply.focus()
        await pilot.press("2")  # no code block 2: nothing copied
        await pilot.press("1")
        await wait_for(lambda: any("OSC 52 only" in n for n in notices(app)), pilot)
        assert "Save the last copy to a file" in notices(app)[-1]
        assert app.clipboard == "def f(x):\n    return x ** 2"  # sent by OSC 52 all the same
        await pilot.press("c")  # the keys typed next still reach the message (no dialog)
        await wait_for(lambda: sum("OSC 52 only" in n for n in notices(app)) == 2, pilot)
        assert app.clipboard == REPLY
        await pilot.press("ctrl+p", *"save the last copy")

        def offered() -> bool:
            found = app.screen.query(CommandList)
            return bool(found) and found.first().option_count > 0

        await wait_for(offered, pilot)
        await pilot.press("down", "enter")
        await wait_for(lambda: isinstance(app.screen, SaveCopy), pilot)
        folder = tmp_path / "saved"
        dialog = app.screen
        dialog.query_one("#folder").value = str(folder)  # type: ignore[attr-defined]
        dialog.query_one("#save", Button).press()
        await wait_for(lambda: folder.exists() and any(folder.iterdir()), pilot)
        (saved,) = folder.iterdir()
        assert saved.read_text() == REPLY
        assert saved.stat().st_mode & 0o777 == 0o600
        await wait_for(lambda: any("Saved to" in n for n in notices(app)), pilot)


async def test_copying_a_streaming_reply_copies_what_has_arrived(
    fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "wl-copy")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    rest = threading.Event()
    pieces = ["Llamas ", "are ", "camelids", "; ", "they ", "hum."]
    fake.on("POST", CHAT, sse_reply(stream_events(pieces), hold=rest, hold_at=4))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"tell me", "enter")
        await wait_for(lambda: len(views(app)) == 2 and "camelids" in views(app)[1].text, pilot)
        reply = views(app)[1]
        assert reply.streaming and pane(app).busy
        reply.focus()
        await pilot.press("c")
        await wait_for(out.exists, pilot)
        assert out.read_text() == "Llamas are camelids"  # was "": the stored content
        await wait_for(lambda: any("The reply so far" in n for n in notices(app)), pilot)
        # A selection in the live tail copies its text too.
        await drag(pilot, (reply, "Llamas are", 0), (reply, "camelids", 8))
        assert app.screen.get_selected_text() == "Llamas are camelids"
        rest.set()
        await wait_for(lambda: not pane(app).busy, pilot)


async def test_copy_mode_moves_a_cursor_that_extends_the_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "wl-copy")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        reply.focus()
        await pilot.press("v")  # the cursor starts on the first line of text: the heading
        assert reply.cursor is not None
        await pilot.press("down", "down", "home")  # "Sure, here is code:", at its start
        await pilot.press(*["right"] * 9)  # to "e" of "here"
        assert app.screen.get_selected_text() == "# Heading\n\nSure, *here*"
        await pilot.press("left", "left")  # shrinks
        assert app.screen.get_selected_text() == "# Heading\n\nSure, *he"
        await pilot.press("c")
        await wait_for(out.exists, pilot)
        assert out.read_text() == "# Heading\n\nSure, *he"
        assert reply.cursor is None and not app.screen.selections  # copy mode is left
        await pilot.press("left")  # the arrows step through branches again (none here)


async def test_the_palette_copies_the_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "wl-copy")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    store_conversation()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt, reply = await opened(app, pilot)
        await drag(pilot, (reply, "def f", 0), (reply, "def f", 5))
        await pilot.press("ctrl+p")
        await pilot.press(*"copy selected")

        def offered() -> bool:
            found = app.screen.query(CommandList)
            return (
                bool(found)
                and found.first().option_count > 0
                and ("Copy selected text" in str(found.first().get_option_at_index(0).prompt))
            )

        await wait_for(offered, pilot)
        await pilot.press("down", "enter")
        await wait_for(out.exists, pilot)
        assert out.read_text() == "def f("


async def test_the_prompts_own_selection_is_copied_through_the_tool_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tool(tmp_path, monkeypatch, "wl-copy")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = pane(app).prompt
        await wait_for(lambda: app.focused is prompt, pilot)
        await pilot.press(*"a draft", "ctrl+j", *"on two lines")
        prompt.select_all()
        await pilot.press("ctrl+c")
        await wait_for(out.exists, pilot)
        assert out.read_text() == "a draft\non two lines"
        assert prompt.text == "a draft\non two lines"  # copied, not sent or cleared
