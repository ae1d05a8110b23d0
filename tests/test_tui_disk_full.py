"""A full disk (and a locked store) in the TUI: the reply stays on screen whole, one sentence
says what was not saved, the typed prompt is never lost, and the app keeps running.

The disk is really full for SQLite: ``PRAGMA max_page_count`` caps the database at its
size, so a write that needs another page fails with ``SQLITE_FULL``, as on a full disk.
Small writes into pages with room still succeed (as on a disk with a little space left).
Where one insert must fail and the one before it succeed, a temporary trigger on the app's
connection refuses it with SQLite's own full-disk message. A locked store (another
program holding the write lock) refuses every write, small ones too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from llamachat.config import load_config
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.app import LlamaChatApp
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events
from tests.tui_helpers import (
    SIZE,
    configure,
    configure_segmind,
    db_path,
    make_app,
    pane,
    views,
    wait_for,
)

CHAT = "/v1/chat/completions"
SLUG = "llama-v3p1-8b-instruct"
#: 120 KB of reply: far more than the pages left on the full disk.
TOKENS = [f"word{i:05d} " * 20 for i in range(600)]


def fill_disk(store: Store, spare: int = 2) -> None:
    """Let the database grow by only ``spare`` pages more: then the disk is full."""
    with store._lock:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages + spare}")


def sentences(app: LlamaChatApp, words: str) -> list[str]:
    """Every place on screen that says ``words``: the notice, the toasts, the messages."""
    chat = pane(app)
    shown = [str(chat.notice.render())] if chat.notice.display else []
    shown += [n.message for n in app._notifications]
    shown += [str(v.error_text() or "") for v in views(app)]
    return [text for text in shown if words in text]


async def test_disk_full_during_a_reply_keeps_it_whole_on_screen(fake: FakeServer) -> None:
    configure(fake)
    fake.on("POST", CHAT, sse_reply(stream_events(TOKENS), delay=0.001))
    app = make_app()
    assert app.store is not None
    fill_disk(app.store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"tell me", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert views(app)[1].text == "".join(TOKENS)  # all of it, though not saved
        assert views(app)[1].message.content == "".join(TOKENS)  # so c copies all of it
        told = sentences(app, "could not be saved")
        assert len(told) == 1 and "is full" in told[0] and "free some space" in told[0]
        assert "Traceback" not in told[0]
        # The app goes on: the next prompt is typed and kept as a draft.
        await pilot.press(*"next")
        assert pane(app).prompt.text == "next"
        conversation_id = pane(app).conversation_id
    assert conversation_id is not None
    with Store.open_default() as store:
        stored = store.messages(conversation_id)
        assert store.integrity_check() == "ok"
    assert [m.role for m in stored] == ["user", "assistant"]
    assert all(m.status is not MessageStatus.STREAMING for m in stored)


async def test_a_reply_partly_saved_before_the_disk_filled_is_not_left_streaming(
    fake: FakeServer,
) -> None:
    configure(fake)
    first = " ".join(f"term{i}x" for i in range(3000))  # 20 KB of words to index for search
    rest = threading.Event()
    events = stream_events([first, *TOKENS[:50]])
    fake.on("POST", CHAT, sse_reply(events, delay=0.001, hold=rest, hold_at=2))
    app = make_app()
    store = app.store
    assert store is not None
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"tell me", "enter")
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].text == first, pilot)
        reply_id = views(app)[1].message.id
        await wait_for(lambda: store.message(reply_id).content == first, pilot)  # flushed
        fill_disk(store, spare=0)  # now the disk fills up
        rest.set()
        await wait_for(lambda: not pane(app).busy, pilot)
        assert views(app)[1].text == first + "".join(TOKENS[:50])
        assert len(sentences(app, "could not be saved")) == 1
    with Store.open_default() as reopened:
        kept = reopened.message(reply_id)
    assert kept.status is MessageStatus.FAILED and kept.error and "is full" in kept.error


async def test_a_prompt_saved_whose_reply_row_is_refused_is_still_shown(
    fake: FakeServer,
) -> None:
    configure(fake)
    fake.on("POST", CHAT, sse_reply(stream_events(["shown ", "anyway"])))
    app = make_app()
    assert app.store is not None
    with app.store._lock:  # the prompt fits; then no room is left for the reply's row
        app.store._db.execute(
            "CREATE TEMP TRIGGER full BEFORE INSERT ON main.messages WHEN new.role = "
            "'assistant' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"my question", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert [v.text for v in views(app)] == ["my question", "shown anyway"]
        assert len(sentences(app, "could not be saved")) == 1


async def test_disk_full_before_sending_keeps_the_prompt_and_sends_nothing(
    fake: FakeServer,
) -> None:
    configure(fake)
    fake.on("POST", CHAT, sse_reply(stream_events(["never asked"])))
    with Store.open_default() as store:
        conversation_id = store.create_conversation(provider="fake", model="fake-model").id
        store.add_message(conversation_id, "user", "an earlier question")
    app = make_app()
    assert app.store is not None
    fill_disk(app.store)
    prompt = "a long question " * 4000  # 64 KB: the prompt itself does not fit
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 1, pilot)
        pane(app).prompt.show_text(prompt)
        await pilot.press("enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        assert pane(app).prompt.text == prompt  # nothing typed is lost
        told = sentences(app, "not sent")
        assert len(told) == 1 and "is full" in told[0] and "back in the input" in told[0]
        assert len(views(app)) == 1  # no reply that will never come
        await pilot.pause(1.3)  # the draft is kept a second after the prompt changed
        assert len(sentences(app, "is full")) == 1  # said once, not again for the draft
        assert app.is_running
    assert fake.received("POST") == []  # nothing was sent to the provider
    with Store.open_default() as store:
        stored = store.messages(conversation_id)
    assert [m.content for m in stored] == ["an earlier question"]


async def test_disk_full_for_a_new_conversation_keeps_the_prompt(fake: FakeServer) -> None:
    configure(fake)
    fake.on("POST", CHAT, sse_reply(stream_events(["never asked"])))
    app = make_app()
    assert app.store is not None
    fill_disk(app.store, spare=0)
    async with app.run_test(size=SIZE) as pilot:
        big = "a question as long as a page " * 200
        pane(app).prompt.show_text(big)
        await pilot.press("enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        assert pane(app).prompt.text == big
        assert len(sentences(app, "not sent")) == 1
        assert app.is_running
    assert fake.received("POST") == []


# --- queued jobs (Segmind) ---------------------------------------------------------------


def left_job(job_id: str) -> int:
    """A conversation whose last reply is a queued job an earlier run left."""
    with Store.open_default() as store:
        c = store.create_conversation(provider="sg", model=SLUG)
        user = store.add_message(c.id, "user", "slow question", provider="sg")
        return store.add_message(
            c.id, "assistant", "", parent_id=user.id, status=MessageStatus.QUEUED,
            provider="sg", model=SLUG, job_id=job_id, job_status="QUEUED",
        ).id  # fmt: skip


def completes(fake: FakeServer, job_id: str, text: str) -> None:
    output = json.dumps({"choices": [{"message": {"content": text}, "finish_reason": "stop"}]})
    fake.on("GET", f"/v2/requests/{job_id}/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", f"/v2/requests/{job_id}", json_reply({"status": "COMPLETED", "output": output}))


async def test_a_resumed_job_whose_reply_cannot_be_saved_stays_resumable(
    fake: FakeServer,
) -> None:
    configure_segmind(fake)
    reply_id = left_job("job-full")
    answer = "".join(TOKENS)
    completes(fake, "job-full", answer)
    app = make_app()
    assert app.store is not None
    fill_disk(app.store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2 and views(app)[1].text == answer, pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        told = sentences(app, "could not be saved")
        assert len(told) == 1 and "is full" in told[0]
        assert app.is_running
    with Store.open_default() as store:
        kept = store.message(reply_id)
        assert store.resumable_jobs() == [kept]  # fetched again once there is room
    assert kept.status is MessageStatus.QUEUED and kept.job_id == "job-full"
    assert kept.job_status == "paused"


@contextmanager
def locked(path: object) -> Iterator[None]:
    """Another program holds the database's write lock."""
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_esc_on_a_job_while_the_store_is_locked_is_one_sentence(fake: FakeServer) -> None:
    configure_segmind(fake)
    reply_id = left_job("job-lock")
    fake.on("GET", "/v2/requests/job-lock/status", json_reply({"status": "PROCESSING"}))
    app = LlamaChatApp(
        config=load_config(), store=Store(db_path(), busy_timeout=0.1), discover_local=False
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: "processing" in str(app.status_bar.render_status()), pilot)
        with locked(db_path()):
            await pilot.press("escape")
            await wait_for(lambda: not pane(app).busy, pilot)
            told = sentences(app, "Stopped waiting for job job-lock")
            assert len(told) == 1 and "locked by another program" in told[0]
            assert app.is_running
        # Once the lock is gone, r resumes it as usual.
        polls = len(fake.received("GET"))
        completes(fake, "job-lock", "worth the wait")
        views(app)[1].focus()
        await pilot.press("r")
        await wait_for(lambda: views(app)[1].text == "worth the wait", pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        assert len(fake.received("GET")) > polls and fake.received("POST") == []
    with Store.open_default() as store:
        done = store.message(reply_id)
    assert done.status is MessageStatus.COMPLETE and done.content == "worth the wait"


async def test_a_job_resumed_while_the_store_is_locked_is_one_sentence(
    fake: FakeServer,
) -> None:
    configure_segmind(fake)
    reply_id = left_job("job-claim")
    completes(fake, "job-claim", "later")
    app = LlamaChatApp(
        config=load_config(), store=Store(db_path(), busy_timeout=0.1), discover_local=False
    )
    with locked(db_path()):
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: sentences(app, "locked by another program"), pilot)
            assert len(sentences(app, "locked by another program")) == 1
            assert app.is_running and not pane(app).busy
    with Store.open_default() as store:
        left = store.message(reply_id)
    assert left.status is MessageStatus.QUEUED and left.job_id == "job-claim"
    assert left.job_status == "QUEUED" and left.error is None  # untouched: resumable later
