"""Hostile replies in their encoding: a byte-order mark, a stream with only ``[DONE]``, lone
surrogates, JSON nested 100,000 deep, several JSON values in one SSE event.

Each is read as far as it can be and ends in one sentence, never a traceback, and the
stored reply is never left "streaming" or stored complete when no text came.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.config_write import write_config
from llamachat.locations import database_path
from llamachat.providers.errors import ErrorKind
from llamachat.providers.wirejson import MAX_DEPTH, NestedTooDeep, loads, loads_each
from llamachat.store.db import Store
from llamachat.store.models import Message, MessageStatus
from tests.fakeserver import (
    FakeServer,
    Reply,
    chunk_event,
    completion_body,
    raw_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import collect, make_provider, request, text_of

CHAT = "/v1/chat/completions"
NETWORK = {"max_retries": 0, "read_timeout": 5, "reply_timeout": 10}
DONE = "data: [DONE]\n\n"
BOM = b"\xef\xbb\xbf"


def replies() -> list[Message]:
    with Store(database_path()) as store:
        return [
            m
            for c in store.list_conversations()
            for m in store.messages(c.id)
            if m.role == "assistant"
        ]


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``llamachat ask`` against the fake server, in this process: exit code, stdout, stderr."""
    write_config({"network": NETWORK})
    code = main(["ask", "-m", "m", *args, "hi"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


async def stream_of(fake: FakeServer, reply: Reply) -> tuple[str, Any]:
    fake.on("POST", CHAT, reply)
    provider = make_provider("openai", f"{fake.url}/v1")
    events, error = await collect(provider, request())
    return text_of(events), error


# --- 2. a byte-order mark -------------------------------------------------------------------


@pytest.mark.parametrize("split", [None, 1])
async def test_a_byte_order_mark_before_the_stream_loses_no_event(
    fake: FakeServer, split: int | None
) -> None:
    # The first event holds text, as in the failure seen: a dropped role chunk would hide it.
    events = [chunk_event("bom "), chunk_event("ok"), chunk_event(finish="stop"), DONE]
    body = BOM + "".join(events).encode()
    text, error = await stream_of(fake, sse_reply([body], split=split))
    assert error is None
    assert text == "bom ok"


async def test_a_byte_order_mark_before_a_whole_body_is_not_part_of_the_json(
    fake: FakeServer,
) -> None:
    body = BOM + json.dumps(completion_body("whole ok")).encode()
    fake.on("POST", CHAT, Reply(200, [body]))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request(stream=False))
    assert error is None and text_of(events) == "whole ok"


# --- 3. a stream with no text ------------------------------------------------------------------


@pytest.mark.parametrize(
    "events", [[DONE], [": ping\n\n", DONE], [chunk_event(role="assistant"), DONE]]
)
def test_a_stream_of_only_done_is_an_empty_reply(
    events: list[str], fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.on("POST", CHAT, sse_reply(events))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1")
    assert code == 1
    assert out.strip() == ""
    assert "sent an empty reply" in one_sentence(err)
    assert all(m.status is not MessageStatus.COMPLETE for m in replies())


async def test_an_empty_stream_is_the_empty_reply_kind(fake: FakeServer) -> None:
    _, error = await stream_of(fake, sse_reply([DONE]))
    assert error is not None and error.kind is ErrorKind.EMPTY_REPLY


async def test_a_stream_that_finished_without_text_is_still_a_reply(fake: FakeServer) -> None:
    # The model stopped at once (finish_reason given): an empty answer, not an empty reply.
    text, error = await stream_of(fake, sse_reply(stream_events([], finish="length")))
    assert error is None and text == ""


# --- 4. lone surrogates ------------------------------------------------------------------------

LONE = r'{"choices":[{"delta":{"content":"lone \ud800 surrogate"}}]}'


@pytest.mark.parametrize("save", [True, False])
def test_a_lone_surrogate_in_a_stream_becomes_a_replacement_character(
    save: bool, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [f"data: {LONE}\n\n", chunk_event(finish="stop"), DONE]
    fake.on("POST", CHAT, sse_reply(events))
    args = ["--base-url", f"{fake.url}/v1"] + ([] if save else ["--no-save"])
    code, out, err = ask(capsys, *args)
    assert code == 0, err
    assert out == "lone \ufffd surrogate\n"
    if save:
        assert [(m.status, m.content) for m in replies()] == [
            (MessageStatus.COMPLETE, "lone \ufffd surrogate")
        ]


def test_a_lone_surrogate_in_a_whole_body_becomes_a_replacement_character(
    fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = r'{"choices":[{"message":{"content":"end \udfff"},"finish_reason":"stop"}]}'
    fake.on("POST", CHAT, Reply(200, [body.encode()]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "--no-stream")
    assert code == 0, err
    assert out == "end \ufffd\n"


def test_a_lone_surrogate_in_an_error_message_is_one_sentence(
    fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = r'{"error":{"message":"bad \ud800 thing"}}'
    fake.on("POST", CHAT, raw_reply(body, status=400, content_type="application/json"))
    code, _, err = ask(capsys, "--base-url", f"{fake.url}/v1")
    assert code == 1
    assert "\ud800" not in one_sentence(err)


def test_decoding_mends_only_lone_surrogates() -> None:
    value = loads(r'{"k\udc00": ["\ud83d\ude00", "\\ud800", "a\ud800"]}')
    assert value == {"k\ufffd": ["\U0001f600", "\\ud800", "a\ufffd"]}
    assert loads_each('{"a": "\\ud800"}\n{"b": 1}') == [{"a": "\ufffd"}, {"b": 1}]


# --- 5. JSON nested too deep -------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
#: Deep enough to break a later json.dumps, shallow enough for json.loads.
DEEPISH = '{"choices": [{"delta": {"content": "x"}}], "x": ' + "[" * 900 + "]" * 900 + "}"


@pytest.mark.parametrize("body", [DEEP, DEEPISH], ids=["100k", "900"])
def test_json_nested_too_deep_in_a_stream_is_one_sentence(
    body: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event("Hi"), f"data: {body}\n\n", DONE]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1")
    assert code == 1
    assert out == "Hi\n"
    sentence = one_sentence(err)
    assert f"a stream event's JSON was nested more than {MAX_DEPTH} deep" in sentence
    assert [m.status for m in replies()] == [MessageStatus.FAILED]


@pytest.mark.parametrize("body", [DEEP, DEEPISH.replace("delta", "message")], ids=["100k", "900"])
def test_json_nested_too_deep_in_a_whole_body_is_one_sentence(
    body: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.on("POST", CHAT, Reply(200, [body.encode()]))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "--no-stream")
    assert code == 1 and out.strip() == ""
    assert "the reply's JSON was nested more than" in one_sentence(err)


def test_json_nested_too_deep_in_an_error_body_is_one_sentence(
    fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.on("POST", CHAT, raw_reply(DEEP, status=500, content_type="application/json"))
    code, _, err = ask(capsys, "--base-url", f"{fake.url}/v1")
    assert code == 1
    one_sentence(err)


def test_nesting_is_measured_not_guessed_from_brackets() -> None:
    # Brackets inside strings are text; only real nesting counts.
    assert loads(json.dumps({"t": "[" * 1000})) == {"t": "[" * 1000}
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(NestedTooDeep):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


# --- 6. several JSON values in one event -----------------------------------------------------


def tok(text: str) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


@pytest.mark.parametrize(
    "event",
    [
        f"data: {tok('one')}\ndata: {tok('two')}\n\n",  # two data lines: SSE joins them
        f"data: {tok('one')}{tok('two')}\n\n",  # objects run together
        f"data: {tok('one')} \r\ndata:{tok('two')}\r\n\r\n",
    ],
    ids=["lines", "run-together", "crlf"],
)
async def test_several_json_values_in_one_event_keep_their_text(
    event: str, fake: FakeServer
) -> None:
    body = [event, chunk_event(" three"), chunk_event(finish="stop"), DONE]
    text, error = await stream_of(fake, sse_reply(body))
    assert error is None
    assert text == "onetwo three"


async def test_done_on_a_line_of_an_event_ends_the_stream(fake: FakeServer) -> None:
    text, error = await stream_of(fake, sse_reply([f"data: {tok('last')}\ndata: [DONE]\n\n"]))
    assert error is None and text == "last"


async def test_an_event_with_a_line_that_is_not_json_is_still_an_error(fake: FakeServer) -> None:
    body = [f"data: {tok('one')}\ndata: not json\n\n", chunk_event(finish="stop"), DONE]
    _, error = await stream_of(fake, sse_reply(body))
    assert error is not None and error.kind is ErrorKind.BAD_RESPONSE
    assert "a stream event was not JSON" in error.message


# --- 8. the sentence for a wrongly typed choice ----------------------------------------------


async def test_a_null_choice_is_said_in_plain_words(fake: FakeServer) -> None:
    body = [chunk_event("Hi"), 'data: {"choices": [null]}\n\n', DONE]
    _, error = await stream_of(fake, sse_reply(body))
    assert error is not None
    assert "(a stream event's first choice was null, not an object)" in error.message


async def test_a_model_list_nested_absurdly_deep_is_one_sentence(fake: FakeServer) -> None:
    from llamachat.providers.errors import ProviderError
    from tests.fakeserver import Reply
    from tests.helpers import make_provider

    fake.on(
        "GET", "/v1/models", Reply(200, [b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"])
    )
    provider = make_provider("openai", f"{fake.url}/v1")
    try:
        await provider.list_models()
    except ProviderError as error:  # it was a RecursionError traceback
        assert "Traceback" not in error.message and error.message
    else:
        raise AssertionError("a model list nested 100,000 deep was accepted")
    finally:
        await provider.aclose()
