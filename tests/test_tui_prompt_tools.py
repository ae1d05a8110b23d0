"""The prompt's daily tools: Up/Down recall, Ctrl+G in $EDITOR, text files and their chips."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.attachments import Chip
from llamachat.tui.screens.dialogs import InputScreen
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def fake_editor(folder: Path, body: str, *, code: int = 0) -> Path:
    """An editor script that notes what it was given, then saves ``body`` (or fails)."""
    script = folder / "editor.py"
    seen = folder / "seen.txt"
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"pathlib.Path({str(seen)!r}).write_text(path.read_text())\n"
        f"path.write_text({body!r})\n"
        f"sys.exit({code})\n"
    )
    script.chmod(0o755)
    return seen


def notice(app: LlamaChatApp) -> str:
    """The line above the prompt."""
    return str(pane(app).notice.render())


def focused(app: LlamaChatApp) -> object:
    """The focused widget (a function: mypy narrows ``app.focused`` past an assert)."""
    return app.focused


class TestRecall:
    async def test_up_recalls_this_conversation_first_then_all_and_down_restores_the_draft(
        self, fake: FakeServer
    ) -> None:
        configure(fake)
        with Store.open_default() as store:
            other = store.create_conversation(provider="fake", model="fake-model")
            store.add_message(other.id, "user", "from another chat")
        fake.on("POST", CHAT, sse_reply(stream_events(["a"])), sse_reply(stream_events(["b"])))
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+n")  # the other chat opened at start; this is a new one
            await wait_for(lambda: len(app.panes()) == 2 and not views(app), pilot)
            await wait_for(lambda: app.focused is pane(app).prompt, pilot)
            for count, typed in ((2, "first question"), (4, "second question")):
                await pilot.press(*typed, "enter")
                await wait_for(
                    lambda n=count: len(views(app)) == n and not pane(app).busy,
                    pilot,
                )
            prompt = pane(app).prompt
            await pilot.press(*"half typed")
            await pilot.press("up")
            assert prompt.text == "second question"  # this conversation, newest first
            await pilot.press("up")
            assert prompt.text == "first question"
            await pilot.press("up")
            assert prompt.text == "from another chat"  # then every conversation
            await pilot.press("up")  # nothing older: the cursor just moves
            assert prompt.text == "from another chat"
            await pilot.press("end", "down")
            assert prompt.text == "first question"
            await pilot.press("down", "down")
            assert prompt.text == "half typed"  # the draft is back
            await pilot.press("down")
            assert prompt.text == "half typed"

    async def test_up_inside_a_multiline_prompt_moves_the_cursor_not_the_history(
        self, fake: FakeServer
    ) -> None:
        configure(fake)
        with Store.open_default() as store:
            c = store.create_conversation(provider="fake", model="fake-model")
            store.add_message(c.id, "user", "old prompt")
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"line one", "ctrl+j", *"line two")
            prompt = pane(app).prompt
            await pilot.press("up")  # from the second line to the first
            assert prompt.text == "line one\nline two" and prompt.cursor_location[0] == 0
            await pilot.press("up")  # on the first line: the history
            assert prompt.text == "old prompt"
            await pilot.press("down")
            assert prompt.text == "line one\nline two"


class TestEditor:
    async def test_ctrl_g_writes_the_draft_in_the_editor_and_takes_what_it_saved(
        self, fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen = fake_editor(tmp_path, "composed\nat length\n")
        monkeypatch.setenv("VISUAL", f"{tmp_path / 'editor.py'}")
        monkeypatch.setenv("EDITOR", "/nonexistent/editor")  # $VISUAL comes first
        fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
        configure(fake)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"my draft", "ctrl+g")
            await wait_for(lambda: pane(app).prompt.text == "composed\nat length", pilot)
            assert seen.read_text() == "my draft"
            assert app.focused is pane(app).prompt
            await pilot.press("enter")
            await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
            assert fake.received("POST")[0].json["messages"][-1]["content"] == (
                "composed\nat length"
            )

    async def test_an_editor_that_fails_or_is_missing_is_one_sentence_and_the_draft_stays(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake_editor(tmp_path, "should not be taken", code=3)
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", f"{tmp_path / 'editor.py'}")
        configure()
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"keep me", "ctrl+g")
            await wait_for(lambda: "exited with status 3" in notice(app), pilot)
            assert pane(app).prompt.text == "keep me"
            monkeypatch.setenv("EDITOR", "no-such-editor-anywhere --wait")
            await pilot.press("ctrl+g")
            await wait_for(lambda: "no-such-editor-anywhere was not found" in notice(app), pilot)
            assert pane(app).prompt.text == "keep me"
            assert "Traceback" not in notice(app)


class TestTextFiles:
    async def test_a_text_file_goes_as_a_fenced_block_with_its_name_and_its_chip_shows(
        self, fake: FakeServer, tmp_path: Path
    ) -> None:
        notes = tmp_path / "notes.md"
        notes.write_text("# Notes\n\n```py\nprint(1)\n```\n")
        fake.on("POST", CHAT, sse_reply(stream_events(["summary"])))
        configure(fake)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"summarize this", "ctrl+o")
            await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
            await pilot.press(*str(notes), "enter")
            attachments = pane(app).attachments
            await wait_for(lambda: len(attachments.query(Chip)) == 1, pilot)
            assert attachments.labels() == ["📄 notes.md · ~12 tokens"]
            await pilot.press("enter")
            await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
            sent = fake.received("POST")[0].json["messages"][-1]["content"]
            assert (
                sent == "summarize this\n\nnotes.md\n````md\n# Notes\n\n```py\nprint(1)\n```\n````"
            )
            assert views(app)[0].message.content == sent  # the stored prompt shows the file
            assert not attachments.files and not attachments.display

    async def test_a_chip_is_removed_before_sending(self, fake: FakeServer, tmp_path: Path) -> None:
        (tmp_path / "a.txt").write_text("alpha")
        (tmp_path / "b.log").write_text("beta")
        fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
        configure(fake)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            before = pane(app).status.context_used
            assert before is not None
            pane(app).attach_file(str(tmp_path / "a.txt"))
            pane(app).attach_file(str(tmp_path / "b.log"))
            attachments = pane(app).attachments
            await wait_for(lambda: len(attachments.query(Chip)) == 2, pilot)
            # the context meter counts what is attached
            await wait_for(lambda: pane(app).status.context_used == before + 12 + 4, pilot)
            await pilot.press(*"look", "shift+tab")  # the chips sit just above the prompt
            assert isinstance(app.focused, Chip) and "b.log" in str(app.focused.render())
            await pilot.press("delete")
            await wait_for(lambda: len(attachments.query(Chip)) == 1, pilot)
            await wait_for(lambda: isinstance(focused(app), Chip), pilot)  # the next chip
            assert attachments.labels() == ["📄 a.txt · ~6 tokens"]
            await pilot.click(Chip)  # a click removes one too
            await wait_for(lambda: not attachments.display, pilot)
            await wait_for(lambda: focused(app) is pane(app).prompt, pilot)
            pane(app).attach_file(str(tmp_path / "b.log"))
            await pilot.press("enter")
            await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
            sent = fake.received("POST")[0].json["messages"][-1]["content"]
            assert sent == "look\n\nb.log\n```log\nbeta\n```"

    async def test_a_file_alone_is_sent_and_a_blank_enter_alone_is_not(
        self, fake: FakeServer, tmp_path: Path
    ) -> None:
        (tmp_path / "todo.txt").write_text("buy hay")
        fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
        configure(fake)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: focused(app) is pane(app).prompt, pilot)
            await pilot.press("enter", "space", "enter")  # blank: nothing goes out
            await pilot.pause()
            assert not fake.received("POST") and not views(app)
            pane(app).attach_file(str(tmp_path / "todo.txt"))
            await wait_for(lambda: len(pane(app).attachments.query(Chip)) == 1, pilot)
            await pilot.press("enter")
            await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
            sent = fake.received("POST")[0].json["messages"][-1]["content"]
            assert sent.endswith("todo.txt\n```txt\nbuy hay\n```") and "buy hay" in sent

    async def test_too_large_binary_and_images_are_told_apart(
        self, fake: FakeServer, tmp_path: Path
    ) -> None:
        table = {"kind": "openai", "base_url": f"{fake.url}/v1", "default_model": "fake-model"}
        configure(fake, providers={"fake": {**table, "context": {"fake-model": 512}}})
        big = tmp_path / "big.log"
        big.write_text("word " * 2000)  # about 2,500 tokens
        blob = tmp_path / "data.bin"
        blob.write_bytes(b"\x00\x01\x02binary")
        latin = tmp_path / "old.txt"
        latin.write_bytes("caf\xe9".encode("latin-1"))
        image = tmp_path / "square.png"
        image.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            pane(app).attach_file(str(big))
            assert notice(app) == (
                "big.log is about 2,505 tokens, more than the 375 this model's 512-token "
                "context leaves for a prompt."
            )
            pane(app).attach_file(str(blob))
            assert notice(app) == "data.bin is not a text file: it holds binary data."
            pane(app).attach_file(str(latin))
            assert notice(app) == "old.txt is not text in UTF-8."
            pane(app).attach_file(str(tmp_path / "missing.txt"))
            assert "There is no file" in notice(app)
            assert pane(app).attachments.files == []
            chosen = type(pane(app).attachments).Chosen
            pane(app).on_attachments_chosen(chosen(str(image)))
            assert len(pane(app).attachments.images) == 1  # an image stays an image
            unnamed = tmp_path / "screenshot"  # no extension: its bytes say PNG
            unnamed.write_bytes(image.read_bytes())
            pane(app).on_attachments_chosen(chosen(str(unnamed)))
            assert pane(app).attachments.labels() == ["🖼 square.png", "🖼 screenshot"]
            assert pane(app).attachments.images[1].startswith("data:image/png;base64,")


def test_the_editor_temp_file_is_private_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llamachat.editor import edit_text

    script = tmp_path / "editor.py"
    log = tmp_path / "log.txt"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, pathlib, stat, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"pathlib.Path({str(log)!r}).write_text(f'{{p}} {{oct(stat.S_IMODE(os.stat(p).st_mode))}}')\n"
        "p.write_text('done\\n')\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(script))
    assert edit_text("x") == "done"
    path, mode = log.read_text().split()
    assert mode == "0o600" and not os.path.exists(path)
