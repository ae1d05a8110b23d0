"""Chatting in the TUI: a reply streamed, stopped, failed, regenerated, edited, switched to another provider, followed."""

from __future__ import annotations

import json
import threading

from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.screens.picker import PickerScreen
from tests.fakeserver import FakeServer, chunk_event, json_reply, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, configure_segmind, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


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
        assert reply.text == "Llamas are camelids."
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
        await wait_for(lambda: len(views(app)) == 2 and "w5" in views(app)[1].text, pilot)
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
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "ok now", pilot)
        assert [v.message.content for v in views(app)] == ["my precious prompt", "ok now"]
        branch = views(app)[0].branch
        assert branch is not None and branch.count == 1


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
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "second answer", pilot)
        reply = views(app)[-1]
        assert reply.branch is not None and (reply.branch.index, reply.branch.count) == (2, 2)
        reply.focus()
        await pilot.press("left")
        await wait_for(lambda: views(app)[-1].text == "first answer", pilot)
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
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "about dogs", pilot)
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
        assert (pane(app).session.provider_name, pane(app).session.model) == (
            "second",
            "second-model",
        )
        pane(app).prompt.focus()
        await pilot.press(*"hello two", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        badges = [str(v.badge_text()) for v in views(app)[1::2]]
        assert "Fake AI" in badges[0] and "Second AI" in badges[1]
        sent = other.received("POST")[0].json["messages"]
        assert [m["content"] for m in sent] == ["hello one", "from the first", "hello two"]
        assert "Second AI" in str(app.status_bar.render())


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
        first_views = list(first.query(MessageView))
        assert first_views[-1].text.startswith("t0 t1") and "t59" in first_views[-1].text


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
        assert reply.text == "partial "
        assert reply.message.status is MessageStatus.FAILED
        assert "overloaded" in str(reply.error_text())


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
        assert "line 149" in views(app)[-1].text


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
        body = views(app)[1]
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
        assert views(app)[3].text == big
        assert views(app)[3].message.status is MessageStatus.COMPLETE


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
        assert views(app)[1].text == "queued answer"
        bar = str(app.status_bar.render_status())
        assert "credits $7.2500" in bar and "$0.0021" in bar
        assert app.status_bar.status.job_id is None
