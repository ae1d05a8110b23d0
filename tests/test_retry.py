"""Retries per PROTOCOLS.md section 6, and the events announcing them."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from llamachat.config import NetworkSettings
from llamachat.providers.base import Retrying
from llamachat.providers.errors import ErrorKind
from llamachat.providers.retry import RetryPolicy, retry_after
from tests.fakeserver import (
    FakeServer,
    chunk_event,
    json_reply,
    raw_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import FAST, collect, make_provider, of_type, request, text_of

CHAT = "/v1/chat/completions"


def test_retry_after_seconds_and_dates() -> None:
    now = 1_800_000_000.0
    assert retry_after({"retry-after": "7"}, now) == 7
    assert retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now) == pytest.approx(30)
    assert (
        retry_after({"x-rate-limit-reset-at-utc": "2027-01-15T08:00:12Z"}, 1_800_000_000.0)
        is not None
    )
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 12))
    assert retry_after({"x-rate-limit-reset-at-utc": iso}, now) == pytest.approx(12)
    assert retry_after({"x-rate-limit-reset-at-utc": str(now + 5)}, now) == pytest.approx(5)
    assert retry_after({"x-rate-limit-reset-at-utc": str((now + 5) * 1000)}, now) == pytest.approx(
        5
    )
    assert retry_after({"retry-after": formatdate(now - 30, usegmt=True)}, now) == 0
    assert retry_after({"retry-after": "soon"}, now) is None
    assert retry_after({}, now) is None


def test_backoff_grows_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_retries=6, base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (6, 8)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert policy.delay(1, server_hint=3.5) == 3.5
    assert policy.allows(6) and not policy.allows(7)
    assert not policy.allows(1, server_hint=10_000)


async def test_429_retry_after_then_success(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": "slow down"}, 429, {"Retry-After": "0"}),
        sse_reply(stream_events(["fine"])),
    )
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    retries = of_type(events, Retrying)
    assert len(retries) == 1
    assert retries[0].attempt == 1 and retries[0].delay == 0
    assert "limiting the rate" in retries[0].reason
    assert events.index(retries[0]) == 0
    assert text_of(events) == "fine"
    assert len(fake.received("POST", CHAT)) == 2


async def test_segmind_reset_header_is_honoured(fake: FakeServer) -> None:
    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    fake.on(
        "POST",
        "/v1/llama-v3p1-8b-instruct",
        json_reply({"error": "rate limit"}, 429, {"x-rate-limit-reset-at-utc": reset}),
        json_reply({"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}),
    )
    prov = make_provider("segmind", fake.url, key="SG_abcdefgh1234")
    events, error = await collect(prov, request(model="llama-v3p1-8b-instruct"))
    assert error is None
    assert of_type(events, Retrying)[0].delay == 0


async def test_5xx_backoff_until_success(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        raw_reply("bad gateway", 502),
        raw_reply("unavailable", 503),
        sse_reply(stream_events(["third time lucky"])),
    )
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    retries = of_type(events, Retrying)
    assert [r.attempt for r in retries] == [1, 2]
    assert all(0 < r.delay <= FAST.backoff_cap for r in retries)
    assert text_of(events) == "third time lucky"


async def test_gives_up_after_max_retries(fake: FakeServer) -> None:
    fake.on("POST", CHAT, raw_reply("down", 503))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is not None and error.kind is ErrorKind.UNAVAILABLE
    assert len(of_type(events, Retrying)) == FAST.max_retries
    assert len(fake.received("POST", CHAT)) == FAST.max_retries + 1


async def test_retry_after_too_long_is_not_waited(fake: FakeServer) -> None:
    fake.on("POST", CHAT, json_reply({"error": "quota"}, 429, {"Retry-After": "3600"}))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is not None and error.kind is ErrorKind.RATE_LIMITED
    assert "wait 3600 s" in error.message
    assert of_type(events, Retrying) == []


async def test_client_errors_are_not_retried(fake: FakeServer) -> None:
    fake.on("POST", CHAT, json_reply({"error": "bad key"}, 401))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is not None and error.kind is ErrorKind.AUTH
    assert len(fake.received("POST", CHAT)) == 1


async def test_stream_retried_before_first_token(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply([chunk_event(role="assistant")], cut=True),
        sse_reply(stream_events(["complete"])),
    )
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    assert len(of_type(events, Retrying)) == 1
    assert text_of(events) == "complete"


async def test_stream_never_retried_after_first_token(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply([chunk_event("partial")], cut=True),
        sse_reply(stream_events(["should not be fetched"])),
    )
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is not None and error.kind is ErrorKind.STREAM_CUT
    assert error.partial_text == "partial"
    assert of_type(events, Retrying) == []
    assert len(fake.received("POST", CHAT)) == 1


async def test_read_timeout_before_first_token_is_retried(fake: FakeServer) -> None:
    network = NetworkSettings(read_timeout=0.3, max_retries=1, backoff_base=0.01, backoff_cap=0.02)
    fake.on(
        "POST", CHAT, sse_reply(stream_events(["x"]), stall=1.0), sse_reply(stream_events(["y"]))
    )
    events, error = await collect(
        make_provider("openai", f"{fake.url}/v1", network=network), request()
    )
    assert error is None
    assert text_of(events) == "y"
    assert "sent nothing" in of_type(events, Retrying)[0].reason
