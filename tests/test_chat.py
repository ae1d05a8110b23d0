"""The chat runner: what is stored, and when, as a reply arrives, fails or is stopped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from llamachat.chat import ReplyStarted, history, reply, resume, send
from llamachat.jobs import stop_waiting
from llamachat.providers.base import GenerationParams, TextDelta
from llamachat.providers.errors import ProviderError
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import (
    FakeServer,
    Recorded,
    Reply,
    chunk_event,
    json_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import make_provider

CHAT = "/v1/chat/completions"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


async def drain(events) -> list[object]:  # type: ignore[no-untyped-def]
    out = []
    async with aclosing(events):
        async for e in events:
            out.append(e)
    return out


async def test_prompt_is_stored_before_the_request_is_sent(fake: FakeServer, store: Store) -> None:
    seen_in_db: list[tuple[str, str]] = []

    def check(request: Recorded) -> Reply:
        with Store(store.path) as other:  # another connection, as another process would
            rows = other._read("SELECT role, status FROM messages ORDER BY id")
        seen_in_db.extend(rows)
        return sse_reply(stream_events(["Hi there"]))

    fake.on("POST", CHAT, check)
    c = store.create_conversation()
    prov = make_provider("openai", f"{fake.url}/v1", name="local")
    events = await drain(
        send(
            store,
            prov,
            conversation_id=c.id,
            prompt="Hello?",
            model="m",
            params=GenerationParams(temperature=0.1),
            system_prompt="Be nice.",
        )
    )
    await prov.aclose()
    assert seen_in_db == [("user", "complete"), ("assistant", "streaming")]
    started = events[0]
    assert isinstance(started, ReplyStarted) and started.reply_id and started.user_id
    done = store.message(started.reply_id)
    assert done.status is MessageStatus.COMPLETE and done.content == "Hi there"
    assert (done.provider, done.model, done.params) == ("local", "m", {"temperature": 0.1})
    assert done.ttft is not None and done.completed_at is not None
    assert store.conversation(c.id).active_leaf_id == done.id
    sent = fake.received()[0].json["messages"]
    assert sent == [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "Hello?"},
    ]


async def test_reply_is_flushed_while_streaming(fake: FakeServer, store: Store) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([f"w{i} " for i in range(40)]), delay=0.03))
    c = store.create_conversation()
    prov = make_provider("openai", f"{fake.url}/v1")
    snapshots: list[str] = []
    received = ""
    async with aclosing(
        send(
            store,
            prov,
            conversation_id=c.id,
            prompt="go",
            model="m",
            params=GenerationParams(),
            system_prompt=None,
        )
    ) as events:
        reply_id = None
        async for event in events:
            if isinstance(event, ReplyStarted):
                reply_id = event.reply_id
            elif isinstance(event, TextDelta) and reply_id:
                received += event.text
                with Store(store.path) as other:
                    stored = other.message(reply_id).content
                # What another process reads is what has arrived, or less: never ahead of it
                # (under load the last piece may already be flushed when it is read).
                assert received.startswith(stored), (stored, received)
                snapshots.append(stored)
    await prov.aclose()
    distinct = sorted(set(snapshots), key=len)
    # Roughly 1.2 s of streaming flushed every 250 ms: intermediate states, not one per token.
    assert 2 <= len(distinct) <= 12
    assert any(0 < len(s) < len(received) for s in distinct)  # stored while still streaming


async def test_failure_keeps_partial_text_and_error(fake: FakeServer, store: Store) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event("kept "), chunk_event("text")], cut=True))
    c = store.create_conversation()
    prov = make_provider("openai", f"{fake.url}/v1")
    with pytest.raises(ProviderError):
        await drain(
            send(
                store,
                prov,
                conversation_id=c.id,
                prompt="go",
                model="m",
                params=GenerationParams(),
                system_prompt=None,
            )
        )
    await prov.aclose()
    reply_row = store.load(c.id).path[-1]
    assert reply_row.status is MessageStatus.FAILED and reply_row.content == "kept text"
    assert "dropped" in (reply_row.error or "") and "kind: stream_cut" in (
        reply_row.error_detail or ""
    )
    assert history(store.load(c.id).path, None)[-1].role == "user"  # failed replies are not resent


async def test_stop_marks_interrupted_and_keeps_text(fake: FakeServer, store: Store) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([f"t{i} " for i in range(200)]), delay=0.02))
    c = store.create_conversation()
    prov = make_provider("openai", f"{fake.url}/v1")

    some_text = asyncio.Event()

    async def consume() -> None:
        events = send(
            store,
            prov,
            conversation_id=c.id,
            prompt="go",
            model="m",
            params=GenerationParams(),
            system_prompt=None,
        )
        received = 0
        async with aclosing(events):
            async for event in events:
                received += isinstance(event, TextDelta)
                if received >= 3:
                    some_text.set()  # stop once text has arrived, whatever the machine's load

    task = asyncio.create_task(consume())
    await asyncio.wait_for(some_text.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await prov.aclose()
    row = store.load(c.id).path[-1]
    assert row.status is MessageStatus.INTERRUPTED
    assert row.content.startswith("t0 t1 ") and "t199" not in row.content
    assert (
        history(store.load(c.id).path, None)[-1].content == row.content
    )  # interrupted text is context


async def test_regenerate_and_switch_provider_keep_badges(
    fake: FakeServer, other: FakeServer, store: Store
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["from A"])))
    other.on("POST", CHAT, sse_reply(stream_events(["from B"])))
    a = make_provider("openai", f"{fake.url}/v1", name="alpha")
    b = make_provider("openai", f"{other.url}/v1", name="beta")
    c = store.create_conversation()
    await drain(
        send(
            store,
            a,
            conversation_id=c.id,
            prompt="q1",
            model="ma",
            params=GenerationParams(),
            system_prompt=None,
        )
    )
    user = store.load(c.id).path[0]
    await drain(
        reply(
            store,
            b,
            conversation_id=c.id,
            parent=user,
            model="mb",
            params=GenerationParams(),
            system_prompt=None,
        )
    )
    view = store.load(c.id)
    assert [(m.provider, m.content) for m in view.path] == [("alpha", "q1"), ("beta", "from B")]
    assert view.branches[view.path[-1].id].count == 2
    leaf = view.path[-1]
    await drain(
        send(
            store,
            a,
            conversation_id=c.id,
            prompt="q2",
            model="ma",
            params=GenerationParams(),
            system_prompt=None,
            parent_id=leaf.id,
        )
    )
    # The history sent to provider A after the switch holds B's reply.
    sent = fake.received()[-1].json["messages"]
    assert [m["content"] for m in sent] == ["q1", "from B", "q2"]
    await a.aclose()
    await b.aclose()


async def test_queued_job_stopped_stays_resumable(fake: FakeServer, store: Store) -> None:
    slug = "llama-v3p1-8b-instruct"
    fake.on(
        "POST",
        f"/v2/{slug}",
        json_reply(
            {"request_id": "jq", "status": "QUEUED", "status_url": "s", "response_url": "r"}
        ),
    )
    fake.on("GET", "/v2/requests/jq/status", json_reply({"status": "PROCESSING"}))
    prov = make_provider("segmind", fake.url, key="SG_abcdefgh", mode="async", poll_interval=0.02)
    c = store.create_conversation()

    async def consume() -> None:
        await drain(
            send(
                store,
                prov,
                conversation_id=c.id,
                prompt="slow one",
                model=slug,
                params=GenerationParams(),
                system_prompt=None,
            )
        )

    task = asyncio.create_task(consume())
    while len(fake.received("GET")) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = store.load(c.id).path[-1]
    # Cancelled (a quit, a closed tab): the job is left to be polled at the next start.
    assert row.status is MessageStatus.QUEUED and row.job_id == "jq"
    assert row.job_status == "PROCESSING"
    assert [m.id for m in store.resumable_jobs(include_stopped=False)] == [row.id]
    # Esc means "stop waiting": kept, with its id, for r or `history resume` only.
    stop_waiting(store, row)
    row = store.message(row.id)
    assert row.job_status == "stopped" and "press r to resume" in (row.error or "")
    assert store.resumable_jobs(include_stopped=False) == []
    assert [m.id for m in store.resumable_jobs()] == [row.id]

    output = json.dumps({"choices": [{"message": {"content": "finally"}, "finish_reason": "stop"}]})
    fake.on("GET", "/v2/requests/jq/status", json_reply({"status": "COMPLETED"}))
    fake.on(
        "GET",
        "/v2/requests/jq",
        json_reply(
            {"status": "COMPLETED", "output": output, "metrics": {"remaining_credits": 2.5}}
        ),
    )
    await drain(resume(store, prov, row))
    await prov.aclose()
    done = store.message(row.id)
    assert (
        done.status is MessageStatus.COMPLETE
        and done.content == "finally"
        and done.credits_usd == 2.5
    )
    assert len(fake.received("POST")) == 1


async def test_no_save_stores_nothing(fake: FakeServer, store: Store) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["x"])))
    prov = make_provider("openai", f"{fake.url}/v1")
    events = await drain(
        send(
            None,
            prov,
            conversation_id=None,
            prompt="p",
            model="m",
            params=GenerationParams(),
            system_prompt="s",
        )
    )
    await prov.aclose()
    assert any(isinstance(e, TextDelta) for e in events)
    assert store.list_conversations() == []
