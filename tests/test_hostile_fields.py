"""Every field of a provider's JSON type-checked, through the real ``llamachat ask``.

A wrongly typed chunk or body (``choices``, ``delta``, ``content``, ``finish_reason``
as a list, a number, an object, null, NaN, Infinity) ends the reply with exit 1 and
one sentence, the text that arrived kept and the stored reply not left "streaming".
Informational values (``usage``, costs, balances) that are not sane numbers are
ignored: never shown, never stored.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.config_write import write_config
from llamachat.locations import database_path
from llamachat.store.db import Store
from llamachat.store.models import Message, MessageStatus
from tests.fakeserver import FakeServer, Reply, chunk_event, completion_body, sse_reply

CHAT = "/v1/chat/completions"
SLUG = "llama-v3p1-8b-instruct"
NAN, INF = math.nan, math.inf
NETWORK = {"max_retries": 0, "read_timeout": 5, "reply_timeout": 10}


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields}]}


#: Chunks that must end a streamed reply with one sentence (after the text "Hi").
BAD_CHUNKS: dict[str, dict[str, Any]] = {
    "choices-object": {"choices": {"0": {"delta": {"content": "x"}}}},
    "choices-text": {"choices": "abc"},
    "choices-number": {"choices": 7},
    "choice-number": {"choices": [5]},
    "choice-null": {"choices": [None, {"delta": {"content": "x"}}]},
    "delta-text": {"choices": [{"delta": "x"}]},
    "delta-list": {"choices": [{"delta": ["x"]}]},
    "content-number": delta(content=123),
    "content-list": delta(content=["x"]),
    "content-object": delta(content={"text": "x"}),
    "content-nan": delta(content=NAN),
    "content-infinity": delta(content=INF),
    "content-true": delta(content=True),
    "finish-number": {"choices": [{"delta": {}, "finish_reason": 5}]},
    "finish-list": {"choices": [{"delta": {}, "finish_reason": ["stop"]}]},
    "finish-object": {"choices": [{"delta": {}, "finish_reason": {"why": "stop"}}]},
}

#: Usage values that are no real counts or costs: ignored, the reply completes.
BAD_USAGE: dict[str, Any] = {
    "usage-text": "lots",
    "usage-list": [1, 2],
    "usage-number": 12,
    "tokens-nan-negative": {"prompt_tokens": NAN, "completion_tokens": -5},
    "tokens-huge": {"prompt_tokens": 1e300, "completion_tokens": INF},
    "tokens-text": {"prompt_tokens": "12", "completion_tokens": [3]},
    "tokens-fraction": {"prompt_tokens": 2.5, "completion_tokens": True},
    "cost-negative": {"prompt_tokens": 3, "completion_tokens": 2, "estimated_cost": -1},
    "cost-huge": {"prompt_tokens": 3, "completion_tokens": 2, "estimated_cost": 1e300},
    "cost-nan": {"prompt_tokens": 3, "completion_tokens": 2, "estimated_cost": NAN},
}


def data(obj: Any) -> str:
    """One SSE event; Python's json writes NaN and Infinity as the bare literals it also reads."""
    return f"data: {json.dumps(obj)}\n\n"


def stored_replies() -> list[Message]:
    """Every assistant message in the store, read without the start-up recovery."""
    with Store(database_path()) as store:
        return [
            m
            for c in store.list_conversations()
            for m in store.messages(c.id)
            if m.role == "assistant"
        ]


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``llamachat ask`` in this process: exit code, stdout, stderr."""
    code = main(["ask", *args, "hi"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Error:" not in err.split(":", 1)[0]
    return lines[0]


def assert_failed_not_streaming(text: str) -> None:
    replies = stored_replies()
    assert all(m.status is not MessageStatus.STREAMING for m in replies)
    if replies:  # a reply that failed before any text may leave no conversation at all
        assert [(m.status, m.content) for m in replies] == [(MessageStatus.FAILED, text)]
        assert replies[0].error


def assert_no_absurd_numbers(err: str) -> None:
    for word in ("nan", "inf", "e+", "-5", "-1", "$1000"):
        assert word not in err.lower(), err
    for m in stored_replies():
        for value in (m.prompt_tokens, m.completion_tokens, m.cost_usd, m.credits_usd):
            assert value is None or (math.isfinite(value) and 0 <= value < 1e9), m


# --- OpenAI-compatible, streamed -------------------------------------------------------


@pytest.mark.parametrize("name", list(BAD_CHUNKS))
def test_a_wrongly_typed_stream_chunk_is_one_sentence(
    name: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    events = [chunk_event(role="assistant"), chunk_event("Hi"), data(BAD_CHUNKS[name])]
    fake.on("POST", CHAT, sse_reply([*events, chunk_event(finish="stop"), "data: [DONE]\n\n"]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m")
    assert code == 1
    assert out == "Hi\n"
    sentence = assert_one_sentence(err)
    assert "could not read" in sentence and "a stream event's" in sentence
    assert_failed_not_streaming("Hi")


@pytest.mark.parametrize("name", list(BAD_USAGE))
def test_stream_usage_that_is_no_real_count_is_ignored(
    name: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    usage_chunk = {"choices": [], "usage": BAD_USAGE[name]}
    events = [chunk_event("Hi"), chunk_event(finish="stop"), data(usage_chunk)]
    fake.on("POST", CHAT, sse_reply([*events, "data: [DONE]\n\n"]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m")
    assert code == 0, err
    assert out == "Hi\n"
    assert_no_absurd_numbers(err)
    assert [m.status for m in stored_replies()] == [MessageStatus.COMPLETE]


def test_reasoning_of_the_wrong_type_is_ignored(
    fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    events = [data(delta(reasoning_content=42)), data(delta(reasoning=["x"])), chunk_event("Hi")]
    fake.on("POST", CHAT, sse_reply([*events, chunk_event(finish="stop"), "data: [DONE]\n\n"]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m")
    assert code == 0 and out == "Hi\n", err


# --- OpenAI-compatible, one whole body ----------------------------------------------------


def body_with(**choice: Any) -> dict[str, Any]:
    return {"id": "x", "choices": [{"index": 0, **choice}]}


#: Whole bodies that must end the reply with one sentence.
BAD_BODIES: dict[str, dict[str, Any]] = {
    "choices-object": {"choices": {"0": {"message": {"content": "x"}}}},
    "choices-text": {"choices": "abc"},
    "choice-number": {"choices": [5]},
    "message-text": body_with(message="hello"),
    "message-list": body_with(message=["hello"]),
    "content-number": body_with(message={"role": "assistant", "content": 123}),
    "content-list": body_with(message={"content": [{"type": "text", "text": "x"}]}),
    "content-nan": body_with(message={"content": NAN}),
    "content-infinity": body_with(message={"content": INF}),
    "finish-number": body_with(message={"content": "x"}, finish_reason=5),
    "finish-list": body_with(message={"content": "x"}, finish_reason=["stop"]),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_wrongly_typed_whole_body_is_one_sentence(
    name: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    body = json.dumps(BAD_BODIES[name]).encode()
    fake.on("POST", CHAT, Reply(200, [body]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m", "--no-stream")
    assert code == 1
    assert out.strip() == ""
    sentence = assert_one_sentence(err)
    assert "could not read" in sentence and "the reply's" in sentence
    assert_failed_not_streaming("")


@pytest.mark.parametrize("name", list(BAD_USAGE))
def test_whole_body_usage_that_is_no_real_count_is_ignored(
    name: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    body = {**completion_body("Hi"), "usage": BAD_USAGE[name]}
    fake.on("POST", CHAT, Reply(200, [json.dumps(body).encode()]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m", "--no-stream")
    assert code == 0, err
    assert out == "Hi\n"
    assert_no_absurd_numbers(err)


# --- Segmind: sync and queued ---------------------------------------------------------------


@pytest.fixture
def segmind(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> Any:  # a function writing the config for a mode
    monkeypatch.setenv("SEGMIND_API_KEY", "SG_abcdefghijkl")

    def configure(mode: str) -> None:
        write_config(
            {
                "network": NETWORK,
                "providers": {
                    "sg": {
                        "kind": "segmind",
                        "base_url": fake.url,
                        "mode": mode,
                        "poll_interval": 0.02,
                    }
                },
            }
        )

    return configure


@pytest.mark.parametrize("name", ["choices-object", "content-number", "content-nan", "finish-list"])
def test_segmind_sync_wrongly_typed_body_is_one_sentence(
    name: str, fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("sync")
    fake.on("POST", f"/v1/{SLUG}", Reply(200, [json.dumps(BAD_BODIES[name]).encode()]))
    code, out, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 1, err
    assert "could not read" in assert_one_sentence(err)
    assert_failed_not_streaming("")


@pytest.mark.parametrize(
    "headers",
    [
        {"x-cost": "NaN", "x-remaining-credits": "Infinity"},
        {"x-cost": "-1", "x-remaining-credits": "-3"},
        {"x-cost": "1e300", "x-remaining-credits": "1e300"},
        {"x-cost": "lots", "x-remaining-credits": "$"},
    ],
)
def test_segmind_sync_money_headers_that_are_not_sane_are_ignored(
    headers: dict[str, str], fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("sync")
    body = {**completion_body("Hi"), "usage": {"prompt_tokens": -1, "completion_tokens": 1e300}}
    fake.on("POST", f"/v1/{SLUG}", Reply(200, [json.dumps(body).encode()], headers=headers))
    code, out, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 0, err
    assert out == "Hi\n"
    assert "cost:" not in err and "credits:" not in err
    assert_no_absurd_numbers(err)


def queue(fake: FakeServer, status: Reply, result: Reply) -> None:
    submitted = {"request_id": "j1", "status": "QUEUED", "status_url": "x", "response_url": "y"}
    fake.on("POST", f"/v2/{SLUG}", Reply(200, [json.dumps(submitted).encode()]))
    fake.on("GET", "/v2/requests/j1/status", status)
    fake.on("GET", "/v2/requests/j1", result)


def completed() -> Reply:
    return Reply(200, [b'{"status": "COMPLETED"}'])


#: Finished-job replies whose output is wrongly typed.
BAD_RESULTS: dict[str, Any] = {
    "output-choices-number": {"status": "COMPLETED", "output": {"choices": 5}},
    "output-string-content-number": {
        "status": "COMPLETED",
        "output": json.dumps(BAD_BODIES["content-number"]),
    },
    "output-message-list": {"status": "COMPLETED", "output": BAD_BODIES["message-list"]},
    "output-number": {"status": "COMPLETED", "output": 42},
}


@pytest.mark.parametrize("name", list(BAD_RESULTS))
def test_segmind_queued_wrongly_typed_result_is_one_sentence(
    name: str, fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("async")
    queue(fake, completed(), Reply(200, [json.dumps(BAD_RESULTS[name]).encode()]))
    code, _, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 1, err
    status = ("llamachat: queued", "llamachat: job")
    lines = [line for line in err.strip().splitlines() if not line.startswith(status)]
    assert len(lines) == 1 and "could not read" in lines[0] and "Traceback" not in err, err
    assert all(m.status is not MessageStatus.STREAMING for m in stored_replies())


@pytest.mark.parametrize("status", [["COMPLETED"], {"s": 1}, 3])
def test_segmind_queued_status_of_the_wrong_type_is_one_sentence(
    status: Any, fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("async")
    queue(fake, Reply(200, [json.dumps({"status": status}).encode()]), completed())
    code, _, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert "'status' was" in last and "Traceback" not in err, err
    assert all(m.status is not MessageStatus.STREAMING for m in stored_replies())


def test_segmind_queued_absurd_metrics_are_ignored(
    fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("async")
    result = {
        "status": "COMPLETED",
        "metrics": {"cost": NAN, "remaining_credits": 1e300},
        "output": json.dumps(completion_body("queued hi")),
    }
    queue(
        fake,
        Reply(200, [b'{"status": "COMPLETED"}'], headers={"x-remaining-credits": "-Infinity"}),
        Reply(200, [json.dumps(result).encode()]),
    )
    code, out, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 0, err
    assert out == "queued hi\n"
    assert "cost:" not in err and "credits:" not in err
    assert_no_absurd_numbers(err)
