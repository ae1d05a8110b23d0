"""Hostile servers in time: keep-alives for ever, bytes trickled, replies that never end.

Each reply is bounded: ``read_timeout`` between pieces of reply text (keep-alive
comments count only before the first one, single bytes never), ``stream_timeout``
for a whole stream, ``reply_timeout`` for a whole non-streamed body.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from llamachat.config import NetworkSettings
from llamachat.config_write import write_config
from llamachat.locations import database_path
from llamachat.providers.errors import ErrorKind
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import (
    FakeServer,
    Reply,
    chunk_event,
    completion_body,
    sse_reply,
    stream_events,
)
from tests.helpers import collect, make_provider, request, text_of

CHAT = "/v1/chat/completions"
#: Short bounds so a test takes about a second; no retries, so one attempt is measured.
TIGHT = NetworkSettings(
    connect_timeout=2.0, read_timeout=0.5, reply_timeout=1.0, stream_timeout=30.0, max_retries=0
)
#: Longer than any bound above: a test that reaches it failed (it used to run for ever).
GUARD = 20.0


async def run(fake: FakeServer, network: NetworkSettings = TIGHT, *, stream: bool = True):  # type: ignore[no-untyped-def]
    provider = make_provider("openai", f"{fake.url}/v1", network=network)
    return await asyncio.wait_for(collect(provider, request(stream=stream)), GUARD)


def first_token_then(forever: bytes, delay: float) -> Reply:
    """A stream that sends one token, then ``forever`` every ``delay`` s until the client leaves."""
    return sse_reply(
        [chunk_event(role="assistant"), chunk_event("Hello")], forever=forever, delay=delay
    )


async def test_keepalives_after_the_first_token_end_within_read_timeout(fake: FakeServer) -> None:
    fake.on("POST", CHAT, first_token_then(b": ping\n\n", 0.05))
    started = time.monotonic()
    events, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.READ_TIMEOUT
    assert text_of(events) == "Hello" and error.partial_text == "Hello"
    assert "0.5 s" in error.message and "read_timeout" in error.message
    assert time.monotonic() - started < 10


async def test_empty_chunks_do_not_count_as_reply_text(fake: FakeServer) -> None:
    fake.on("POST", CHAT, first_token_then(chunk_event("").encode(), 0.05))
    events, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.READ_TIMEOUT
    assert error.partial_text == "Hello"


async def test_bytes_trickled_one_at_a_time_do_not_keep_the_reply_alive(fake: FakeServer) -> None:
    # The second event arrives a byte every 40 ms: each read is quick, the text never comes.
    head = (chunk_event(role="assistant") + chunk_event("Hello")).encode()
    tail = chunk_event(" world, slowly" * 20).encode()
    chunks = [head] + [tail[i : i + 1] for i in range(len(tail))]
    fake.on("POST", CHAT, Reply(200, chunks, "text/event-stream", delay=0.04))
    events, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.READ_TIMEOUT
    assert error.partial_text == "Hello"


async def test_keepalives_before_the_first_token_are_a_sign_of_life(fake: FakeServer) -> None:
    # A queue in front of the model sends comments while it waits: 1.2 s of them, then text.
    pings = [": queued\n\n"] * 12
    body = pings + stream_events(["Hello", " there"])
    fake.on("POST", CHAT, sse_reply(body, delay=0.1))
    events, error = await run(fake)
    assert error is None
    assert text_of(events) == "Hello there"


async def test_stream_timeout_bounds_a_reply_that_never_ends(fake: FakeServer) -> None:
    network = NetworkSettings(read_timeout=0.5, stream_timeout=1.0, max_retries=0)
    fake.on("POST", CHAT, first_token_then(chunk_event("x").encode(), 0.03))
    started = time.monotonic()
    events, error = await run(fake, network)
    assert error is not None and error.kind is ErrorKind.REPLY_TIMEOUT
    assert error.partial_text.startswith("Hellox") and set(error.partial_text[5:]) == {"x"}
    assert "1 s (stream_timeout)" in error.message
    assert time.monotonic() - started < 10


async def test_a_non_streamed_body_is_bounded_as_a_whole(fake: FakeServer) -> None:
    # Every byte comes within the per-read wait; the whole body would take 10 s.
    body = json.dumps(completion_body("slow " * 40)).encode()
    chunks = [body[i : i + 1] for i in range(len(body))]
    fake.on("POST", CHAT, Reply(200, chunks, "application/json", delay=10 / len(body)))
    started = time.monotonic()
    _, error = await run(fake, stream=False)
    assert error is not None and error.kind is ErrorKind.REPLY_TIMEOUT
    assert "1 s (reply_timeout)" in error.message
    assert time.monotonic() - started < 8


async def test_a_json_reply_to_a_stream_request_is_bounded_as_a_whole(fake: FakeServer) -> None:
    body = json.dumps(completion_body("slow " * 40)).encode()
    chunks = [body[i : i + 1] for i in range(len(body))]
    fake.on("POST", CHAT, Reply(200, chunks, "application/json", delay=10 / len(body)))
    _, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.REPLY_TIMEOUT


async def test_a_slow_reader_is_not_the_servers_fault(fake: FakeServer) -> None:
    # The consumer takes longer than read_timeout over a piece; the server was prompt.
    fake.on("POST", CHAT, sse_reply(stream_events(["a", "b", "c"]), delay=0.1))
    provider = make_provider("openai", f"{fake.url}/v1", network=TIGHT)
    seen = []
    try:
        async for event in provider.stream(request()):
            seen.append(event)
            time.sleep(0.7)  # noqa: ASYNC251 - the blocked loop (a busy screen, a disk) is the case
    finally:
        await provider.aclose()
    assert text_of(seen) == "abc"


def test_ask_against_endless_keepalives_ends_with_one_sentence(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    write_config({"network": {"read_timeout": 0.5, "max_retries": 0}})
    fake.on("POST", CHAT, first_token_then(b": ping\n\n", 0.05))
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hi"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=GUARD,
    )
    assert result.returncode == 1
    assert result.stdout == "Hello\n"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "read_timeout" in lines[0], result.stderr
    with Store(database_path()) as store:
        replies = [
            m
            for c in store.list_conversations()
            for m in store.messages(c.id)
            if m.role == "assistant"
        ]
    assert [(m.content, m.status) for m in replies] == [("Hello", MessageStatus.FAILED)]
