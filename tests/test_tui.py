"""The chat UI driven by Pilot against the loopback fake server and a real SQLite file."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

from llamachat import locations
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.screens.help import HelpScreen
from llamachat.tui.screens.picker import PickerScreen
from llamachat.tui.widgets.prompt import PromptInput
from tests.fakeserver import FakeServer, chunk_event, json_reply, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, configure_segmind, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_starts_focused_with_welcome_when_no_key() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        assert pane(app).provider_name == "demo"
        await wait_for(lambda: pane(app).notice.display, pilot)
        assert "DEEPINFRA_API_KEY" in str(pane(app).notice.render())


async def test_send_streams_and_stores_reply(fake: FakeServer) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 4}
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events(["Llamas ", "are ", "camelids", "."], usage=usage), delay=0.02),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"What is a llama?")
        await pilot.press("enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        user, reply = views(app)
        assert user.message.content == "What is a llama?"
        assert reply.body.text == "Llamas are camelids."
        assert reply.message.status is MessageStatus.COMPLETE
        assert reply.message.completion_tokens == 4
        assert "Fake AI" in str(reply.badge_text())
        assert pane(app).prompt.text == ""
        assert app.status_bar.status.tokens_out == 4
    with Store.open_default() as store:
        rows = store._read("SELECT role, content, status FROM messages ORDER BY id")
    assert rows == [
        ("user", "What is a llama?", "complete"),
        ("assistant", "Llamas are camelids.", "complete"),
    ]
    assert fake.received()[0].json["messages"][-1]["content"] == "What is a llama?"


async def test_stop_keeps_partial_reply_marked_interrupted(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([f"w{i} " for i in range(300)]), delay=0.02))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"long please", "enter")
        await wait_for(lambda: len(views(app)) == 2 and "w5" in views(app)[1].body.text, pilot)
        await pilot.press("escape")
        await wait_for(lambda: not pane(app).busy, pilot)
        await pilot.pause(0.1)
        reply = views(app)[1]
        assert reply.message.status is MessageStatus.INTERRUPTED
        assert "interrupted" in str(reply.badge_text())
        kept = reply.message.content
        assert kept.startswith("w0 w1") and "w299" not in kept


async def test_failure_is_one_sentence_and_prompt_comes_back(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": {"message": "bad key"}}, 401),
        sse_reply(stream_events(["ok now"])),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"my precious prompt", "enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        notice = str(pane(app).notice.render())
        assert "back in the input" in notice
        assert pane(app).prompt.text == "my precious prompt"
        failed = views(app)[1]
        assert failed.message.status is MessageStatus.FAILED
        assert "rejected the API key" in str(failed.error_text())  # said there, once
        await pilot.press("enter")  # send again: it takes the failed attempt's place
        await wait_for(lambda: not pane(app).busy and views(app)[-1].body.text == "ok now", pilot)
        assert [v.message.content for v in views(app)] == ["my precious prompt", "ok now"]
        assert views(app)[0].branch is not None and views(app)[0].branch.count == 1


async def test_regenerate_and_step_through_branches(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events(["first answer"])),
        sse_reply(stream_events(["second answer"])),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"question", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+r")
        await wait_for(
            lambda: not pane(app).busy and views(app)[-1].body.text == "second answer", pilot
        )
        reply = views(app)[-1]
        assert reply.branch is not None and (reply.branch.index, reply.branch.count) == (2, 2)
        reply.focus()
        await pilot.press("left")
        await wait_for(lambda: views(app)[-1].body.text == "first answer", pilot)
        assert len(fake.received("POST")) == 2


async def test_edit_prompt_makes_a_branch(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events(["about cats"])),
        sse_reply(stream_events(["about dogs"])),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"tell me about cats", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        views(app)[0].focus()
        await pilot.press("e")
        assert pane(app).prompt.text == "tell me about cats"
        pane(app).prompt.load_text("tell me about dogs")
        pane(app).prompt.focus()
        await pilot.press("enter")
        await wait_for(
            lambda: not pane(app).busy and views(app)[-1].body.text == "about dogs", pilot
        )
        user = views(app)[0]
        assert user.message.content == "tell me about dogs"
        assert user.branch is not None and user.branch.count == 2
        sent = fake.received("POST")[-1].json["messages"]
        assert [m["content"] for m in sent] == ["tell me about dogs"]


async def test_switch_provider_mid_conversation(fake: FakeServer, other: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["from the first"])))
    other.on("POST", CHAT, sse_reply(stream_events(["from the second"])))
    configure(
        fake,
        providers={
            "second": {
                "kind": "openai",
                "display_name": "Second AI",
                "base_url": f"{other.url}/v1",
                "models": ["second-model"],
            },
        },
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello one", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+l")
        await wait_for(lambda: isinstance(app.screen, PickerScreen), pilot)
        await pilot.press(*"second-model")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, PickerScreen), pilot)
        assert (pane(app).provider_name, pane(app).model) == ("second", "second-model")
        pane(app).prompt.focus()
        await pilot.press(*"hello two", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        badges = [str(v.badge_text()) for v in views(app)[1::2]]
        assert "Fake AI" in badges[0] and "Second AI" in badges[1]
        sent = other.received("POST")[0].json["messages"]
        assert [m["content"] for m in sent] == ["hello one", "from the first", "hello two"]
        assert "Second AI" in str(app.status_bar.render())


async def test_queued_job_shows_status_and_credits(fake: FakeServer) -> None:
    slug = "llama-v3p1-8b-instruct"
    configure_segmind(fake, poll_interval=0.15)
    fake.on(
        "POST",
        f"/v2/{slug}",
        json_reply(
            {"request_id": "job-77", "status": "QUEUED", "status_url": "s", "response_url": "r"}
        ),
    )
    fake.on(
        "GET",
        "/v2/requests/job-77/status",
        json_reply({"status": "QUEUED"}),
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "COMPLETED"}),
    )
    output = json.dumps(
        {
            "choices": [{"message": {"content": "queued answer"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        }
    )
    fake.on(
        "GET",
        "/v2/requests/job-77",
        json_reply(
            {
                "status": "COMPLETED",
                "output": output,
                "metrics": {"cost": 0.0021, "remaining_credits": 7.25},
            }
        ),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"slow question", "enter")
        await wait_for(lambda: app.status_bar.status.job_id == "job-77", pilot)
        await wait_for(lambda: "job job-77" in str(app.status_bar.render_status()), pilot)
        await wait_for(lambda: "processing" in str(app.status_bar.render_status()), pilot)
        assert "queued" in str(views(app)[1].badge_text())
        await wait_for(lambda: not pane(app).busy, pilot)
        assert views(app)[1].body.text == "queued answer"
        bar = str(app.status_bar.render_status())
        assert "credits $7.2500" in bar and "$0.0021" in bar
        assert app.status_bar.status.job_id is None


async def test_reply_streams_on_in_a_background_tab(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([f"t{i} " for i in range(60)]), delay=0.02))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = pane(app)
        first.submit("first tab")  # returns at once; the reply streams in a worker
        app.action_new_chat()
        await wait_for(lambda: app.active_pane not in (None, first), pilot)
        await wait_for(lambda: not first.busy, pilot)
        first_views = list(first.query("MessageView"))
        assert first_views[-1].body.text.startswith("t0 t1") and "t59" in first_views[-1].body.text


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


async def test_help_settings_and_palette_open(fake: FakeServer) -> None:
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_for(lambda: type(app.screen).__name__ == "CommandPalette", pilot)
        await pilot.press("escape")


async def test_settings_saves_key_masked_and_private(fake: FakeServer) -> None:
    from llamachat.tui.screens.settings import SettingsScreen

    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        screen = app.screen
        key_input = screen.query_one("#opt--deepinfra--api_key")
        key_input.value = "di-brand-new-key-0123456789"  # type: ignore[attr-defined]
        assert key_input.password  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        path = locations.config_path()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert 'api_key = "di-brand-new-key-0123456789"' in path.read_text()
        assert app.get_provider("deepinfra").has_key
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        placeholder = app.screen.query_one("#opt--deepinfra--api_key").placeholder  # type: ignore[attr-defined]
        assert "****6789" in placeholder and "0123456789" not in placeholder
        await pilot.press("escape")


async def test_export_from_the_ui(fake: FakeServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
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
        await pilot.pause(0.6)  # not a double click
        await pilot.click("#export")  # again: replaces it
        await wait_for(lambda: "exported words" in target.read_text(), pilot)
        assert any(str(target) in n.message for n in app._notifications)


def test_suggested_export_path_is_never_taken(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
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


async def test_images_refused_for_text_only_models(fake: FakeServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    configure(providers={"deepinfra": {"api_key": "di-1234567890"}}, default_provider="deepinfra")
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))
        assert "does not accept images" in str(pane(app).notice.render())
        assert pane(app).attachments == []


async def test_long_conversation_mounts_lazily() -> None:
    configure()
    with Store.open_default() as store:
        c = store.create_conversation(provider="demo", model="llama-3.1-8b-demo")
        parent = None
        for i in range(2000):
            parent = store.add_message(
                c.id, "user" if i % 2 == 0 else "assistant", f"message number {i}", parent_id=parent
            ).id
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) > 0, pilot)
        await pilot.pause(0.3)
        assert len(views(app)) <= 40  # one screenful and a margin, not 2,000
        assert views(app)[-1].message.content == "message number 1999"
        messages = pane(app).messages
        await wait_for(
            lambda: messages.max_scroll_y > 0 and messages.scroll_y == messages.max_scroll_y, pilot
        )
        pane(app).messages.release_anchor()  # what scrolling up with keys or the wheel does
        pane(app).messages.scroll_home(animate=False)
        mounted = len(views(app))
        await wait_for(lambda: len(views(app)) > mounted, pilot)
        assert views(app)[0].message.content == f"message number {2000 - len(views(app))}"


async def test_hostile_reply_shows_as_text(fake: FakeServer) -> None:
    hostile = (
        "[bold red]not markup[/] [link=https://evil.example]x[/link] \x1b[2J\x1b]52;c;cHduZWQ=\x07 "
        "**unbalanced _markdown `code\n\n" + "y" * 10_000 + "\n\n```\nunclosed fence\n"
    )
    big = "lorem ipsum " * 17_000  # 200 KB
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events([hostile[i : i + 50] for i in range(0, len(hostile), 50)])),
        sse_reply(stream_events([big[i : i + 4096] for i in range(0, len(big), 4096)])),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hostile", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot, limit=20)
        body = views(app)[1].body
        lines = [body.render_line(y).text for y in range(body._height)]
        assert lines[0].startswith(" Fake AI") or "Fake AI" in lines[0]
        rendered = "\n".join(lines)
        assert "[bold red]not markup[/]" in rendered
        assert "\x1b" not in rendered and "\x07" not in rendered
        assert "\\x1b]52;c;cHduZWQ=\\x07" in rendered
        assert "unclosed fence" in rendered
        pane(app).prompt.focus()
        await pilot.press(*"big", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot, limit=30)
        assert views(app)[3].body.text == big
        assert views(app)[3].message.status is MessageStatus.COMPLETE


async def test_broken_theme_file_is_one_notification() -> None:
    configure()
    themes = locations.user_themes_dir()
    themes.mkdir(parents=True, exist_ok=True)
    (themes / "broken.toml").write_text("name = 'x'\nprimary = 'not-a-colour'\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m for m in messages)
        assert app.theme == "llama-night"
        assert {"llama-night", "andes-day", "alpaca-terminal"} <= set(app.available_themes)


async def test_stream_event_error_keeps_text(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply([chunk_event("partial "), 'data: {"error": {"message": "overloaded"}}\n\n']),
    )
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"q", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        reply = views(app)[1]
        assert reply.body.text == "partial "
        assert reply.message.status is MessageStatus.FAILED
        assert "overloaded" in str(reply.error_text())


def test_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for _, keys in HelpScreen.keys_by_group():
        for key, what in keys:
            assert f"| {key} | {what} |" in readme


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


async def test_view_follows_the_stream_until_the_person_reads_back(fake: FakeServer) -> None:
    pieces = [f"line {i}\n\n" for i in range(150)]
    rest = threading.Event()  # the second half waits until the person has read back
    fake.on("POST", CHAT, sse_reply(stream_events(pieces), delay=0.01, hold=rest, hold_at=60))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"talk for a while", "enter")
        messages = pane(app).messages
        await wait_for(lambda: messages.max_scroll_y > 20, pilot)
        assert messages.scroll_y == messages.max_scroll_y  # following
        await pilot.press("pageup")  # from the prompt: read back
        assert app.focused is pane(app).prompt
        reading_at = messages.scroll_y
        assert reading_at < messages.max_scroll_y
        bottom = messages.max_scroll_y
        rest.set()
        await wait_for(lambda: messages.max_scroll_y > bottom + 10, pilot)
        assert messages.scroll_y == reading_at  # more arrived; the view stayed put
        while messages.scroll_y < messages.max_scroll_y:
            await pilot.press("pagedown")
        await wait_for(lambda: not pane(app).busy, pilot)
        await pilot.pause(0.1)
        assert messages.scroll_y == messages.max_scroll_y  # back at the end: following again
        assert "line 149" in views(app)[-1].body.text


def fake_png(folder: Path) -> Path:
    """A file that passes for a PNG image."""
    image = folder / "square.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
    return image


async def test_image_sent_as_data_uri_to_a_vision_model(fake: FakeServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake.on("POST", CHAT, sse_reply(stream_events(["a red square"])))
    configure(fake)
    image = fake_png(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))
        assert len(pane(app).attachments) == 1 and pane(app).attachments_label.display
        await pilot.press(*"what is this?", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        content = fake.received("POST")[0].json["messages"][-1]["content"]
        assert content[0] == {"type": "text", "text": "what is this?"}
        assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
        assert views(app)[0].message.images


async def test_images_are_not_sent_to_a_model_picked_after_attaching(
    fake: FakeServer,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from llamachat.tui.screens.dialogs import InputScreen

    fake.on("POST", CHAT, sse_reply(stream_events(["text only"])))
    configure(fake)
    image = fake_png(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))  # the fake model accepts images
        app.switch_model("demo", "llama-3.1-8b-demo")  # this one does not
        await pilot.press(*"what is this?", "enter")
        await pilot.pause(0.1)
        assert views(app) == [] and "does not accept images" in str(pane(app).notice.render())
        assert pane(app).prompt.text == "what is this?" and len(pane(app).attachments) == 1
        await pilot.press("ctrl+o")  # an empty path removes the images
        await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
        await pilot.press("enter")
        await wait_for(lambda: not pane(app).attachments, pilot)
        pane(app).prompt.focus()
        await pilot.press("enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert not views(app)[0].message.images


async def test_theme_choice_is_remembered() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.theme = "andes-day"
        await pilot.pause()
    assert 'theme = "andes-day"' in locations.config_path().read_text()
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.theme == "andes-day"


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


async def test_local_server_discovery(fake: FakeServer) -> None:
    from llamachat.discovery import discover

    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "llama3.1:8b"}]}))
    found = await discover({fake.port: "Ollama", 9: "nothing here"})
    assert len(found) == 1 and found[0].models == ("llama3.1:8b",) and found[0].label == "Ollama"
