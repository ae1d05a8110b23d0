"""The OpenAI-compatible adapter against the loopback fake server: every SSE case."""

from __future__ import annotations

import json
import re
from typing import Any

from llamachat.providers.base import Finished, Provider, TextDelta, Usage
from llamachat.providers.errors import ErrorKind
from tests.fakeserver import (
    FakeServer,
    chunk_event,
    completion_body,
    json_reply,
    raw_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import WIRE, collect, make_provider, of_type, request, text_of

CHAT = "/v1/chat/completions"


def provider(fake: FakeServer, **kw: Any) -> Provider:
    return make_provider("openai", f"{fake.url}/v1", **kw)


def wire_sample_text() -> tuple[bytes, str]:
    raw = (WIRE / "03-chat-stream.sse").read_bytes()
    expected = ""
    for line in raw.decode().splitlines():
        if line.startswith("data: {"):
            delta = json.loads(line[6:])["choices"][0]["delta"]
            expected += delta.get("content", "")
    return raw, expected


async def test_real_llamacpp_stream_sample(fake: FakeServer) -> None:
    raw, expected = wire_sample_text()
    fake.on("POST", CHAT, sse_reply([raw]))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert text_of(events) == expected
    assert expected.startswith(" always")
    finished = of_type(events, Finished)
    assert len(finished) == 1 and finished[0].finish_reason == "length"
    assert of_type(events, Usage) == []
    sent = fake.received("POST", CHAT)[0].json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "user", "content": "Say hello."}]


async def test_sample_split_into_tiny_reads_and_crlf(fake: FakeServer) -> None:
    raw, expected = wire_sample_text()
    crlf = raw.replace(b"\n", b"\r\n")
    fake.on("POST", CHAT, sse_reply([crlf], split=7))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert text_of(events) == expected


async def test_event_split_inside_a_multibyte_character(fake: FakeServer) -> None:
    body = "".join(stream_events(["naïve ", "café ", "🙂 ", "你好"])).encode()
    fake.on("POST", CHAT, sse_reply([body], split=3, delay=0.001))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert text_of(events) == "naïve café 🙂 你好"


async def test_comments_and_keepalives_are_skipped(fake: FakeServer) -> None:
    events_ = stream_events(["Hello", " world"])
    events_.insert(1, ": OPENROUTER PROCESSING\n\n")
    events_.insert(3, ": ping - 2026-11-22 03:06:30.952633+00:00\n\n")
    fake.on("POST", CHAT, sse_reply(events_))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert text_of(events) == "Hello world"


async def test_missing_done_after_finish_reason_is_complete(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Hi"], done=False)))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert of_type(events, Finished)[0].finish_reason == "stop"


async def test_stream_without_done_or_finish_is_interrupted(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Half a ", "reply"], finish=None, done=False)))
    events, error = await collect(provider(fake), request())
    assert error is not None and error.kind is ErrorKind.STREAM_INCOMPLETE
    assert error.partial_text == "Half a reply"
    assert "kept" in error.message
    assert len(fake.received("POST", CHAT)) == 1  # text had arrived: never retried


async def test_usage_in_final_empty_choices_chunk(fake: FakeServer) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    fake.on("POST", CHAT, sse_reply(stream_events(["a", "b", "c"], usage=usage)))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert of_type(events, Usage) == [Usage(12, 3, None)]
    assert isinstance(events[-1], Finished)


async def test_usage_on_finish_chunk_with_estimated_cost(fake: FakeServer) -> None:
    usage = {"prompt_tokens": 40, "completion_tokens": 2, "estimated_cost": 2.3e-06}
    fake.on("POST", CHAT, sse_reply(stream_events(["o", "k"], usage=usage, usage_on_finish=True)))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert of_type(events, Usage) == [Usage(40, 2, 2.3e-06)]


async def test_in_stream_error_object_then_done_vllm(fake: FakeServer) -> None:
    error_event = (
        'data: {"error": {"object": "error", "message": "CUDA out of memory", "code": 500}}\n\n'
    )
    fake.on(
        "POST",
        CHAT,
        sse_reply([chunk_event("Part"), error_event, "data: [DONE]\n\n"]),
    )
    events, error = await collect(provider(fake), request())
    assert error is not None and error.kind is ErrorKind.STREAM_ERROR
    assert "CUDA out of memory" in error.message
    assert error.partial_text == "Part"


async def test_in_stream_event_error(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(
            [chunk_event("Some"), 'event: error\ndata: {"message": "upstream overloaded"}\n\n']
        ),
    )
    events, error = await collect(provider(fake), request())
    assert error is not None and error.kind is ErrorKind.STREAM_ERROR
    assert "upstream overloaded" in error.message
    assert error.partial_text == "Some"


async def test_in_stream_llamacpp_error_line(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply([chunk_event("x"), 'error: {"code": 500, "message": "slot unavailable"}\n\n']),
    )
    events, error = await collect(provider(fake), request())
    assert error is not None and error.kind is ErrorKind.STREAM_ERROR
    assert "slot unavailable" in error.message


async def test_unknown_fields_kept_in_raw(fake: FakeServer) -> None:
    finish = chunk_event(
        finish="stop",
        extra={"timings": {"predicted_per_second": 51.2}, "x_groq": {"id": "req_1"}},
    )
    fake.on("POST", CHAT, sse_reply([chunk_event(role="assistant"), chunk_event("ok"), finish]))
    events, error = await collect(provider(fake), request())
    assert error is None
    raw = of_type(events, Finished)[0].raw
    assert raw["timings"] == {"predicted_per_second": 51.2}
    assert raw["x_groq"] == {"id": "req_1"}


async def test_literal_end_of_sequence_token_is_kept(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Hello", "</s>"])))
    events, error = await collect(provider(fake), request())
    assert text_of(events) == "Hello</s>"


async def test_empty_deltas_and_role_only_chunks(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(
            [
                chunk_event(role="assistant"),
                chunk_event(),
                chunk_event("x"),
                chunk_event(finish="stop"),
            ]
        ),
    )
    events, error = await collect(provider(fake), request())
    assert error is None
    assert [type(e) for e in events] == [TextDelta, Finished]


async def test_connection_cut_mid_stream_keeps_text(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event("one "), chunk_event("two ")], cut=True))
    events, error = await collect(provider(fake), request())
    assert error is not None and error.kind is ErrorKind.STREAM_CUT
    assert error.partial_text == "one two "
    assert len(fake.received("POST", CHAT)) == 1


async def test_non_streaming_real_sample(fake: FakeServer) -> None:
    text = (WIRE / "02-chat-nonstream.txt").read_text()
    body = re.search(r"^\{\"id\".*$", text, re.M)
    assert body is not None
    fake.on("POST", CHAT, raw_reply(body.group(0), content_type="application/json"))
    events, error = await collect(provider(fake), request(stream=False, max_tokens=20))
    assert error is None
    assert text_of(events).startswith(" always ask My star")
    assert of_type(events, Usage) == [Usage(33, 20, None)]
    assert of_type(events, Finished)[0].finish_reason == "length"
    sent = fake.received("POST", CHAT)[0].json
    assert "stream" not in sent and sent["max_tokens"] == 20


async def test_server_that_ignores_stream_flag(fake: FakeServer) -> None:
    fake.on("POST", CHAT, json_reply(completion_body("whole reply")))
    events, error = await collect(provider(fake), request())
    assert error is None
    assert text_of(events) == "whole reply"


async def test_non_ascii_sample_round_trip(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([" who", " road"])))
    events, error = await collect(provider(fake), request("naïve café 🙂 你好"))
    assert error is None
    assert fake.received("POST", CHAT)[0].json["messages"][0]["content"] == "naïve café 🙂 你好"


async def test_images_sent_as_parts_text_as_string(fake: FakeServer) -> None:
    from llamachat.providers.base import ChatMessage, ChatRequest, ImagePart, TextPart

    fake.on("POST", CHAT, sse_reply(stream_events(["a cat"])))
    req = ChatRequest(
        (
            ChatMessage("system", "terse"),
            ChatMessage(
                "user", (TextPart("what is this?"), ImagePart("data:image/png;base64,AAAA"))
            ),
        ),
        "vision-model",
    )
    events, error = await collect(provider(fake), req)
    assert error is None
    messages = fake.received("POST", CHAT)[0].json["messages"]
    assert messages[0] == {"role": "system", "content": "terse"}
    assert messages[1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA"},
    }


async def test_list_models_real_sample(fake: FakeServer) -> None:
    text = (WIRE / "01-models.txt").read_text()
    body = re.search(r'^\{"object".*$', text, re.M)
    assert body is not None
    fake.on("GET", "/v1/models", raw_reply(body.group(0), content_type="application/json"))
    prov = provider(fake)
    models = await prov.list_models()
    await prov.aclose()
    assert [m.id for m in models] == ["llama-3.1-8b-instruct-tiny"]


async def test_list_models_reads_context_and_prices(fake: FakeServer) -> None:
    fake.on(
        "GET",
        "/v1/models",
        json_reply(
            {
                "data": [
                    {
                        "id": "a",
                        "context_length": 8192,
                        "pricing": {"prompt": "0.0000001", "completion": "0.0000002"},
                    },
                    {"id": "b", "max_model_len": 4096},
                    {
                        "id": "c",
                        "metadata": {
                            "context_length": 131072,
                            "pricing": {"input_tokens": 0.03, "output_tokens": 0.05},
                        },
                    },
                    {"object": "model"},
                ]
            }
        ),
    )
    prov = provider(fake)
    models = {m.id: m for m in await prov.list_models()}
    await prov.aclose()
    assert models["a"].context_length == 8192
    assert abs((models["a"].usd_per_mtok_in or 0) - 0.1) < 1e-9
    assert models["b"].context_length == 4096
    assert models["c"].usd_per_mtok_out == 0.05
    assert len(models) == 3


async def test_connection_is_reused_after_done(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["one"])))
    prov = provider(fake)
    for _ in range(3):
        async for _event in prov.stream(request()):
            pass
    await prov.aclose()
    ports = {r.client_port for r in fake.received("POST", CHAT)}
    assert (
        len(ports) == 1
    )  # the body after [DONE] was read, so the connection went back to the pool
