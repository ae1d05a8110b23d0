"""Segmind with real money: a submit is sent at most once, a job is never lost, credits are read."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llamachat.chat import send
from llamachat.config_write import write_config
from llamachat.numbers import money
from llamachat.providers.base import Credits, GenerationParams, Provider
from llamachat.providers.errors import ErrorKind
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, completion_body, json_reply, raw_reply
from tests.helpers import collect, make_provider, of_type, request, text_of

SLUG = "llama-v3p1-405b-instruct"
KEY = "SG_0123456789abcdef"


def submitted(job: str = "job-1", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return json_reply(
        {
            "request_id": job,
            "status": "QUEUED",
            "status_url": f"https://api.segmind.com/v2/requests/{job}/status",
            "response_url": f"https://api.segmind.com/v2/requests/{job}",
        },
        headers=headers,
    )


def finished(text: str):  # type: ignore[no-untyped-def]
    output = json.dumps(completion_body(text, usage={"prompt_tokens": 4, "completion_tokens": 2}))
    return json_reply({"status": "COMPLETED", "output": output})


def queued(fake: FakeServer, **kw: Any) -> Provider:
    return make_provider("segmind", fake.url, key=KEY, mode="async", poll_interval=0.01, **kw)


# --- a submit is sent at most once -------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_on_submit_is_never_sent_again(fake: FakeServer, status: int) -> None:
    fake.on(
        "POST",
        f"/v2/{SLUG}",
        raw_reply("<html>gateway</html>", status, content_type="text/html"),
        submitted(),
    )
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_UNCONFIRMED
    assert f"HTTP {status}" in error.message
    assert "may still run and be billed" in error.message and "r" in error.message
    assert not error.retryable and not error.resumable
    assert len(fake.received("POST")) == 1


async def test_a_refused_submit_says_why_and_is_not_unconfirmed(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", json_reply({"error": "Invalid API key"}, 401))
    _, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.AUTH
    assert len(fake.received("POST")) == 1


async def test_submit_before_sending_is_retried(fake: FakeServer) -> None:
    import socket

    from llamachat.config import NetworkSettings

    with socket.socket() as s:  # a port with nothing listening: the request never left
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    network = NetworkSettings(connect_timeout=1, max_retries=2, backoff_base=0.01, backoff_cap=0.02)
    prov = make_provider(
        "segmind", f"http://127.0.0.1:{port}", key=KEY, mode="async", network=network
    )
    events, error = await collect(prov, request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.CONNECTION_REFUSED


# --- credits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234.50", 1234.5),
        (" 12.5 \t", 12.5),
        ("$3", 3.0),
        ("0", 0.0),
        ("abc", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        ("-5", None),
        ("1e300", None),
        (None, None),
        (True, None),
        (7, 7.0),
    ],
)
def test_money_is_read_robustly(raw: object, value: float | None) -> None:
    assert money(raw) == value


async def test_credits_are_read_from_every_segmind_reply_newest_wins(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted(headers={"x-remaining-credits": "1,234.50"}))
    fake.on(
        "GET",
        "/v2/requests/job-1/status",
        json_reply({"status": "PROCESSING"}, headers={"x-remaining-credits": "1,234.25"}),
        json_reply({"status": "COMPLETED"}, headers={"x-remaining-credits": "not a number"}),
    )
    output = json.dumps(completion_body("Paid for once."))
    fake.on(
        "GET",
        "/v2/requests/job-1",
        json_reply(
            {"status": "COMPLETED", "output": output, "metrics": {"remaining_credits": 1234.0}},
            headers={"x-remaining-credits": "1233.75"},
        ),
    )
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is None and text_of(events) == "Paid for once."
    balances = [e.remaining_usd for e in of_type(events, Credits)]
    # submit, status, result header (the unreadable one ignored, never 0); the last one wins
    assert balances[:3] == [1234.5, 1234.25, 1233.75]
    assert balances[-1] == 1233.75 and 0.0 not in balances


async def test_sync_credits_header_parsed_and_garbage_ignored(fake: FakeServer) -> None:
    fake.on(
        "POST",
        f"/v1/{SLUG}",
        json_reply(completion_body("a"), headers={"x-remaining-credits": "2,000"}),
        json_reply(completion_body("b"), headers={"x-remaining-credits": "n/a", "x-cost": "x"}),
    )
    prov = make_provider("segmind", fake.url, key=KEY)
    first, _ = await collect(prov, request(model=SLUG))
    second, _ = await collect(prov, request(model=SLUG))
    assert [e.remaining_usd for e in of_type(first, Credits)] == [2000.0]
    assert of_type(second, Credits) == []


# --- a job past its deadline is kept, and resumed without paying twice --------------


def segmind_config(fake: FakeServer, deadline: float) -> None:
    write_config(
        {
            "network": {"max_retries": 0},
            "default_provider": "sg",
            "providers": {
                "sg": {
                    "kind": "segmind",
                    "base_url": fake.url,
                    "mode": "async",
                    "poll_interval": 0.02,
                    "deadline": deadline,
                    "api_key": KEY,
                }
            },
        }
    )


async def test_a_job_past_its_deadline_stays_queued_and_history_resume_fetches_it(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    segmind_config(fake, deadline=0.1)
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "PROCESSING"}))
    with Store.open_default() as store:
        c = store.create_conversation()
        prov = queued(fake, deadline=0.1, name="sg")
        events = send(
            store,
            prov,
            conversation_id=c.id,
            prompt="a slow question",
            model=SLUG,
            params=GenerationParams(),
            system_prompt=None,
        )
        with pytest.raises(Exception) as caught:
            async for _ in events:
                pass
        await prov.aclose()
        reply = store.load(c.id).path[-1]
    assert getattr(caught.value, "kind", None) is ErrorKind.JOB_TIMEOUT
    assert reply.status is MessageStatus.QUEUED and reply.job_id == "job-1"
    assert reply.job_status == "paused" and "press r" in (reply.error or "")

    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", "/v2/requests/job-1", finished("Here at last."))
    segmind_config(fake, deadline=30)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "llamachat", "history", "resume"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"message {reply.id}: reply received." in done.stdout
    with Store.open_default() as store:
        fetched = store.message(reply.id)
    assert fetched.status is MessageStatus.COMPLETE and fetched.content == "Here at last."
    assert fetched.error is None
    assert len(fake.received("POST")) == 1  # polled, never submitted again


async def test_polls_that_keep_failing_leave_the_job_resumable(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on("GET", "/v2/requests/job-1/status", raw_reply("down", 503))
    from llamachat.config import NetworkSettings

    network = NetworkSettings(max_retries=0, backoff_base=0.001, backoff_cap=0.002)
    _, error = await collect(queued(fake, network=network), request(model=SLUG))
    assert error is not None and error.resumable and error.job_id == "job-1"
    assert "is kept" in error.message
    assert len(fake.received("POST")) == 1
