"""Hostile servers in size and shape: gzip bombs, endless lines, huge replies, redirects,
web pages, bodies that are not JSON or not there at all.

Past a size cap reading stops, the text that arrived is kept and one sentence names
the limit; a reply that is not an API reply says what it was.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from functools import cache

import pytest

from llamachat.config import NetworkSettings
from llamachat.providers.errors import ErrorKind
from llamachat.providers.limits import MAX_JSON_BODY, MAX_SSE_EVENT
from tests.fakeserver import (
    FakeServer,
    Reply,
    chunk_event,
    completion_body,
    json_reply,
    raw_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import collect, make_provider, request, text_of

CHAT = "/v1/chat/completions"
NETWORK = NetworkSettings(connect_timeout=2.0, read_timeout=5.0, reply_timeout=20.0, max_retries=0)


async def run(fake: FakeServer, network: NetworkSettings = NETWORK, *, stream: bool = True):  # type: ignore[no-untyped-def]
    provider = make_provider("openai", f"{fake.url}/v1", network=network)
    return await asyncio.wait_for(collect(provider, request(stream=stream)), 60)


@cache
def gzip_bomb() -> bytes:
    """About 200 KB of gzip that inflates to 200 MB: a JSON object that never closes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'{"choices": [{"message": {"content": "')]
    block = b"a" * (1024 * 1024)
    parts += [packer.compress(block) for _ in range(200)]
    parts.append(packer.flush())
    return b"".join(parts)


def bomb_reply(content_type: str) -> Reply:
    data = gzip_bomb()
    pieces = [data[i : i + 16384] for i in range(0, len(data), 16384)]
    return Reply(200, pieces, content_type, headers={"content-encoding": "gzip"})


@pytest.mark.parametrize("stream", [False, True])
async def test_a_gzip_bomb_is_not_inflated_past_the_cap(fake: FakeServer, stream: bool) -> None:
    fake.on("POST", CHAT, bomb_reply("application/json"))
    _, error = await run(fake, stream=stream)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert f"larger than {MAX_JSON_BODY // 2**20} MB once decompressed" in error.message


async def test_a_gzipped_stream_of_one_endless_line_stops_at_the_event_cap(
    fake: FakeServer,
) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = (chunk_event(role="assistant") + chunk_event("Hello") + 'data: {"x": "').encode()
    data = packer.compress(head)
    data += b"".join(packer.compress(b"y" * 2**20) for _ in range(50)) + packer.flush()
    pieces = [data[i : i + 16384] for i in range(0, len(data), 16384)]
    fake.on(
        "POST",
        CHAT,
        Reply(200, pieces, "text/event-stream", headers={"content-encoding": "gzip"}),
    )
    events, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert error.partial_text == "Hello" and text_of(events) == "Hello"
    assert f"longer than {MAX_SSE_EVENT // 2**20} MB" in error.message


async def test_one_sse_line_without_a_newline_stops_at_the_event_cap(fake: FakeServer) -> None:
    line = 'data: {"choices": [{"delta": {"content": "' + "z" * (3 * 2**20)
    body = [chunk_event(role="assistant"), chunk_event("Hello"), line]
    fake.on("POST", CHAT, sse_reply(body, split=65536))
    events, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert error.partial_text == "Hello"
    assert "1 MB" in error.message


async def test_many_data_lines_without_a_blank_line_stop_at_the_event_cap(
    fake: FakeServer,
) -> None:
    body = [chunk_event("Hello"), "data: " + "w" * 1000 + "\n"] + ["data: w\n" * 1000] * 200
    fake.on("POST", CHAT, sse_reply(body))
    _, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert error.partial_text == "Hello"


async def test_keepalive_comments_are_not_an_event(fake: FakeServer) -> None:
    # 2 MB of comments in all, each one short: nothing is gathered, nothing refused.
    pings = [": ping\n" * 10000] * 30
    fake.on("POST", CHAT, sse_reply([*pings, *stream_events(["fine"])]))
    events, error = await run(fake)
    assert error is None and text_of(events) == "fine"


async def test_a_streamed_reply_stops_at_max_reply_chars(fake: FakeServer) -> None:
    network = NetworkSettings(read_timeout=5.0, max_retries=0, max_reply_chars=1000)
    pieces = [f"{i:03d}" + "." * 97 for i in range(50)]
    fake.on("POST", CHAT, sse_reply(stream_events(pieces)))
    events, error = await run(fake, network)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert error.partial_text == "".join(pieces)[:1000] == text_of(events)
    assert "1,000 characters (max_reply_chars)" in error.message


async def test_a_whole_reply_stops_at_max_reply_chars(fake: FakeServer) -> None:
    network = NetworkSettings(read_timeout=5.0, max_retries=0, max_reply_chars=1000)
    fake.on("POST", CHAT, json_reply(completion_body("q" * 5000)))
    events, error = await run(fake, network, stream=False)
    assert error is not None and error.kind is ErrorKind.REPLY_TOO_LARGE
    assert error.partial_text == "q" * 1000 == text_of(events)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_redirect_says_where_it_led_and_is_not_followed(
    fake: FakeServer, other: FakeServer, stream: bool
) -> None:
    target = f"{other.url}/v1/chat/completions"
    fake.on("POST", CHAT, Reply(302, [b""], "text/html", headers={"location": target}))
    provider = make_provider("openai", f"{fake.url}/v1", key="sk-secret-key-123", network=NETWORK)
    _, error = await collect(provider, request(stream=stream))
    assert error is not None and error.kind is ErrorKind.REDIRECT
    assert "redirect (HTTP 302) to " + target in error.message
    assert "check the base URL" in error.message
    assert "stopped before" not in error.message
    assert other.received() == [] and len(fake.received()) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_an_empty_200_says_the_reply_was_empty(fake: FakeServer, stream: bool) -> None:
    content_type = "text/event-stream" if stream else "application/json"
    fake.on("POST", CHAT, raw_reply(b"", content_type=content_type))
    _, error = await run(fake, stream=stream)
    assert error is not None and error.kind is ErrorKind.EMPTY_REPLY
    assert "sent an empty reply" in error.message


@pytest.mark.parametrize("stream", [False, True])
async def test_a_200_that_is_not_json_says_so(fake: FakeServer, stream: bool) -> None:
    fake.on("POST", CHAT, raw_reply("Hello from nginx, the default page\n"))
    _, error = await run(fake, stream=stream)
    assert error is not None and error.kind is ErrorKind.BAD_RESPONSE
    assert "reply was not JSON" in error.message and "Hello from nginx" in error.message
    assert "stopped before" not in error.message


async def test_a_web_page_served_as_plain_text_is_a_web_page(fake: FakeServer) -> None:
    fake.on("POST", CHAT, raw_reply("<!DOCTYPE html><html><body>Login</body></html>"))
    _, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.HTML_PAGE


async def test_a_stream_cut_before_any_text_does_not_claim_text_was_kept(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event(role="assistant")]))
    _, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.STREAM_INCOMPLETE
    assert "before any text arrived" in error.message
    assert "text so far is kept" not in error.message


async def test_a_huge_error_body_is_read_only_in_part(fake: FakeServer) -> None:
    body = json.dumps({"error": {"message": "overloaded " + "x" * (8 * 2**20)}})
    fake.on("POST", CHAT, raw_reply(body, status=500, content_type="application/json"))
    _, error = await run(fake)
    assert error is not None and error.kind is ErrorKind.SERVER
    assert error.body is not None and len(error.body) <= 20_000
