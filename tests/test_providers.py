"""DeepInfra, E2E Networks TIR, Segmind and the demo provider, each on its own wire shape."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from llamachat.config import ProviderSettings
from llamachat.providers.base import (
    Credits,
    Finished,
    JobQueued,
    JobStatus,
    Provider,
    Retrying,
    TextDelta,
    Usage,
)
from llamachat.providers.demo import QUEUED_MODEL, STREAM_MODEL
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.providers.registry import build_provider
from tests.fakeserver import (
    FakeServer,
    Reply,
    completion_body,
    json_reply,
    raw_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import collect, make_provider, of_type, request, text_of

DI_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
SLUG = "llama-v3p1-70b-instruct"
SG_KEY = "SG_0123456789abcdef"

# --- DeepInfra ----------------------------------------------------------------


@pytest.mark.parametrize("env", ["DEEPINFRA_API_KEY", "DEEPINFRA_TOKEN"])
async def test_deepinfra_reads_both_env_vars(
    fake: FakeServer, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, "di-env-key-123456")
    fake.on(
        "POST",
        "/v1/openai/chat/completions",
        sse_reply(
            stream_events(
                ["Hi", "</s>"],
                usage={"prompt_tokens": 10, "completion_tokens": 2, "estimated_cost": 6.6e-07},
                usage_on_finish=True,
            )
        ),
    )
    prov = make_provider("deepinfra", f"{fake.url}/v1/openai")
    events, error = await collect(prov, request(model=DI_MODEL))
    assert error is None
    assert text_of(events) == "Hi</s>"
    assert of_type(events, Usage) == [Usage(10, 2, 6.6e-07)]
    recorded = fake.received()[0]
    assert recorded.headers["authorization"] == "Bearer di-env-key-123456"
    assert recorded.json["stream_options"] == {"include_usage": True}  # PROTOCOLS.md section 2


async def test_deepinfra_estimates_cost_from_list_price_when_not_reported(fake: FakeServer) -> None:
    fake.on(
        "POST",
        "/v1/openai/chat/completions",
        json_reply(
            completion_body("ok", usage={"prompt_tokens": 1_000_000, "completion_tokens": 0})
        ),
    )
    prov = make_provider("deepinfra", f"{fake.url}/v1/openai", key="k-123456789")
    events, _ = await collect(prov, request(model=DI_MODEL, stream=False))
    usage = of_type(events, Usage)[0]
    assert usage.cost_usd == pytest.approx(0.055) and usage.cost_is_estimate


def test_deepinfra_preset() -> None:
    prov = build_provider(ProviderSettings(name="deepinfra", kind="deepinfra"))
    assert prov.base_url == "https://api.deepinfra.com/v1/openai"
    assert prov.default_model() == DI_MODEL
    info = prov.model_info(DI_MODEL)
    assert info is not None and info.context_length == 131_072 and info.usd_per_mtok_in == 0.055
    assert prov.capabilities.streams and prov.capabilities.reports_cost


# --- E2E Networks TIR ---------------------------------------------------------


async def test_e2e_url_query_body_and_token(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_TIR_API_KEY", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
    path = "/project/p-4242/genai/llama3_1_8b_instruct/v1/chat/completions"
    vllm_finish = 'data: {"id":"chat-0123456789abcdef0123456789abcdef","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop","stop_reason":128009}]}\n\n'
    fake.on(
        "POST",
        path,
        sse_reply(
            [*stream_events(["Namaste"], finish=None, done=False), vllm_finish, "data: [DONE]\n\n"]
        ),
    )
    prov = make_provider(
        "e2e",
        f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1",
        project_id="4242",
    )
    events, error = await collect(prov, request(model="llama3_1_8b_instruct"))
    assert error is None
    assert text_of(events) == "Namaste"
    assert of_type(events, Finished)[0].raw["choices"][0]["stop_reason"] == 128009
    recorded = fake.received()[0]
    assert recorded.query == "project_id=4242"
    assert recorded.json["model"] == "llama3_1_8b_instruct"
    assert recorded.headers["authorization"].startswith("Bearer eyJ")


async def test_e2e_project_id_from_env(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E2E_TIR_PROJECT_ID", "77")
    monkeypatch.setenv("E2E_TIR_ACCESS_TOKEN", "tok-1234567890")
    fake.on("POST", "/project/p-77/genai/m/v1/chat/completions", sse_reply(stream_events(["x"])))
    prov = make_provider("e2e", f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1")
    _, error = await collect(prov, request(model="m"))
    assert error is None


async def test_e2e_without_project_id(fake: FakeServer) -> None:
    prov = make_provider(
        "e2e", f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1", key="t-123456789"
    )
    _, error = await collect(prov, request(model="m"))
    assert error is not None and error.kind is ErrorKind.NOT_CONFIGURED
    assert "E2E_TIR_PROJECT_ID" in error.message


async def test_e2e_project_id_that_is_not_digits(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_TIR_PROJECT_ID", "abc")
    prov = make_provider(
        "e2e", f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1", key="t-123456789"
    )
    _, error = await collect(prov, request(model="m"))
    assert error is not None and error.kind is ErrorKind.NOT_CONFIGURED
    assert "must be the digits after p-" in error.message and "'abc'" in error.message
    assert fake.received() == []


async def test_e2e_vllm_older_error_shape(fake: FakeServer) -> None:
    fake.on(
        "POST",
        "/project/p-1/genai/m/v1/chat/completions",
        json_reply(
            {
                "object": "error",
                "message": "max_tokens must be at least 1",
                "type": "BadRequestError",
                "code": 400,
            },
            400,
        ),
    )
    prov = make_provider(
        "e2e",
        f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1",
        key="t-123456789",
        project_id="1",
    )
    _, error = await collect(prov, request(model="m"))
    assert error is not None and "max_tokens must be at least 1" in error.message


# --- Segmind sync ---------------------------------------------------------------


async def test_segmind_sync_reply_credits_and_cost(fake: FakeServer) -> None:
    fake.on(
        "POST",
        f"/v1/{SLUG}",
        json_reply(
            completion_body("Whole reply.", usage={"prompt_tokens": 9, "completion_tokens": 3}),
            headers={"x-remaining-credits": "12.345678", "x-cost": "0.00042", "x-request-id": "r1"},
        ),
    )
    prov = make_provider("segmind", fake.url, key=SG_KEY)
    events, error = await collect(prov, request(model=SLUG, temperature=0.2))
    assert error is None
    assert [type(e) for e in events] == [TextDelta, Usage, Credits, Finished]
    assert of_type(events, Usage)[0] == Usage(9, 3, 0.00042)
    assert of_type(events, Credits)[0].remaining_usd == pytest.approx(12.345678)
    recorded = fake.received()[0]
    assert recorded.headers["x-api-key"] == SG_KEY
    assert "authorization" not in recorded.headers
    assert recorded.json == {
        "messages": [{"role": "user", "content": "Say hello."}],
        "temperature": 0.2,
    }


def test_segmind_declares_no_streaming() -> None:
    sync = build_provider(ProviderSettings(name="s", kind="segmind", mode="sync"))
    queued = build_provider(ProviderSettings(name="s", kind="segmind", mode="async"))
    assert not sync.capabilities.streams and not queued.capabilities.streams
    assert queued.capabilities.queued and not sync.capabilities.queued
    assert sync.capabilities.reports_credits


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Insufficient credits", ErrorKind.INSUFFICIENT_CREDITS),
        ("Invalid content type", ErrorKind.CONTENT_TYPE),
    ],
)
async def test_segmind_406_both_meanings(fake: FakeServer, message: str, kind: ErrorKind) -> None:
    fake.on("POST", f"/v1/{SLUG}", json_reply({"error": message}, 406))
    _, error = await collect(make_provider("segmind", fake.url, key=SG_KEY), request(model=SLUG))
    assert error is not None and error.kind is kind


async def test_segmind_sync_500_is_retried_as_a_server_failure(fake: FakeServer) -> None:
    # PROTOCOLS.md section 4: a 500 is "the server had some issue": a sync call may be retried.
    fake.on(
        "POST",
        f"/v1/{SLUG}",
        json_reply({"error": "the server had some issue with processing"}, 500),
        json_reply(completion_body("Second time lucky.")),
    )
    events, error = await collect(
        make_provider("segmind", fake.url, key=SG_KEY), request(model=SLUG)
    )
    assert error is None and text_of(events) == "Second time lucky."
    assert len(of_type(events, Retrying)) == 1
    assert len(fake.received()) == 2


async def test_segmind_credits_call(fake: FakeServer) -> None:
    fake.on("GET", "/v1/get-user-credits", json_reply({"credits": 4.5, "free-credits": 0.25}))
    prov = make_provider("segmind", fake.url, key=SG_KEY)
    credits = await prov.fetch_credits()
    await prov.aclose()
    assert credits == Credits(4.5, 0.25)
    assert fake.received()[0].headers["x-api-key"] == SG_KEY


# --- Segmind queue --------------------------------------------------------------


def submitted(job: str = "job-1") -> Reply:
    return json_reply(
        {
            "request_id": job,
            "status": "QUEUED",
            "poll_url": f"https://api.segmind.com/v2/requests/{job}",
            "status_url": f"https://api.segmind.com/v2/requests/{job}/status",
            "response_url": f"https://api.segmind.com/v2/requests/{job}",
        }
    )


def result(content: str = "Queued reply.", job: str = "job-1") -> Reply:
    output = json.dumps(
        completion_body(content, usage={"prompt_tokens": 5, "completion_tokens": 2})
    )
    return json_reply(
        {
            "status": "COMPLETED",
            "request_id": job,
            "error": None,
            "metrics": {"cost": 0.0011, "remaining_credits": 9.75, "queue_time": 1.2},
            "output": output,
        }
    )


def queued(fake: FakeServer, **kw: Any) -> Provider:
    return make_provider("segmind", fake.url, key=SG_KEY, mode="async", poll_interval=0.01, **kw)


async def test_queue_lifecycle(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on(
        "GET",
        "/v2/requests/job-1/status",
        json_reply({"status": "QUEUED"}),
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "COMPLETED"}),
    )
    fake.on("GET", "/v2/requests/job-1", result())
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is None
    assert events[0] == JobQueued("job-1")
    assert [e.status for e in of_type(events, JobStatus)] == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert text_of(events) == "Queued reply."
    assert of_type(events, Usage)[0] == Usage(5, 2, 0.0011)
    assert of_type(events, Credits)[0].remaining_usd == 9.75
    assert isinstance(events[-1], Finished)
    assert len(fake.received("POST")) == 1
    assert len(fake.received("GET", "/v2/requests/job-1/status")) == 4


async def test_queue_failed_422(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on(
        "GET",
        "/v2/requests/job-1/status",
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "FAILED", "error": "Model crashed: CUDA error", "metrics": {}}, 422),
    )
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_FAILED
    assert "CUDA error" in error.message and error.job_id == "job-1"
    assert len(fake.received("POST")) == 1


async def test_queue_expired_404(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on(
        "GET",
        "/v2/requests/job-1/status",
        json_reply({"status": "PROCESSING"}),
        json_reply({"error": "Request job-1 not found"}, 404),
    )
    _, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_EXPIRED
    assert "one hour" in error.message and not error.resumable


async def test_queue_404_on_the_first_poll_is_an_unknown_job(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on(
        "GET", "/v2/requests/job-1/status", json_reply({"error": "Request job-1 not found"}, 404)
    )
    _, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_UNKNOWN
    assert "does not know job job-1" in error.message and "one hour" not in error.message
    assert not error.resumable


async def test_queue_5xx_while_polling_is_retried_without_resubmitting(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on(
        "GET",
        "/v2/requests/job-1/status",
        raw_reply("<html>502</html>", 502, content_type="text/html"),
        json_reply({"error": "oops"}, 500),
        json_reply({"status": "COMPLETED"}),
    )
    fake.on("GET", "/v2/requests/job-1", raw_reply("gateway", 504), result())
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is None
    assert len(of_type(events, Retrying)) == 3
    assert text_of(events) == "Queued reply."
    assert len(fake.received("POST")) == 1


async def test_submit_rate_limit_is_retried_but_accepted_submit_never_resent(
    fake: FakeServer,
) -> None:
    fake.on(
        "POST",
        f"/v2/{SLUG}",
        json_reply({"error": "rate limit"}, 429, {"retry-after": "0"}),
        submitted(),
    )
    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", "/v2/requests/job-1", result())
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is None
    assert len(fake.received("POST")) == 2  # the 429 was never accepted


async def test_submit_timeout_after_sending_is_not_resent(fake: FakeServer) -> None:
    from llamachat.config import NetworkSettings

    fake.on("POST", f"/v2/{SLUG}", Reply(stall=1.0, chunks=[b"{}"]))
    network = NetworkSettings(read_timeout=0.2, max_retries=3, backoff_base=0.01)
    _, error = await collect(queued(fake, network=network), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_UNCONFIRMED
    assert "may still run and be billed" in error.message
    await asyncio.sleep(0.9)
    assert len(fake.received("POST")) == 1


async def test_submit_reply_without_request_id_is_an_error(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", json_reply({"status": "QUEUED"}))
    _, error = await collect(queued(fake), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.BAD_RESPONSE
    assert "request_id" in error.message


async def test_queue_deadline_leaves_job_resumable(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "PROCESSING"}))
    _, error = await collect(queued(fake, deadline=0.1), request(model=SLUG))
    assert error is not None and error.kind is ErrorKind.JOB_TIMEOUT
    assert error.job_id == "job-1" and error.resumable
    assert "kept" in error.message and "press r" in error.message


async def test_cancel_stops_polling_and_resume_finishes(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "QUEUED"}))
    prov = queued(fake)
    seen: list[object] = []

    async def consume() -> None:
        async for event in prov.stream(request(model=SLUG)):
            seen.append(event)

    task = asyncio.create_task(consume())
    while len(fake.received("GET")) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    polls = len(fake.received("GET"))
    await asyncio.sleep(0.1)
    assert len(fake.received("GET")) == polls  # polling stopped
    job = of_type(seen, JobQueued)[0].job_id  # type: ignore[arg-type]

    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", "/v2/requests/job-1", result("Resumed."))
    events = [e async for e in prov.resume(job, SLUG)]
    await prov.aclose()
    assert text_of(events) == "Resumed."
    assert len(fake.received("POST")) == 1


async def test_result_output_not_double_encoded_is_tolerated(fake: FakeServer) -> None:
    fake.on("POST", f"/v2/{SLUG}", submitted())
    fake.on("GET", "/v2/requests/job-1/status", json_reply({"status": "COMPLETED"}))
    fake.on(
        "GET",
        "/v2/requests/job-1",
        json_reply({"status": "COMPLETED", "output": "plain text answer"}),
    )
    events, error = await collect(queued(fake), request(model=SLUG))
    assert error is None and text_of(events) == "plain text answer"


# --- demo -----------------------------------------------------------------------


async def test_demo_streams_offline_with_usage_and_credits() -> None:
    prov = build_provider(ProviderSettings(name="demo", kind="demo", tokens_per_second=20_000))
    events, error = await collect(prov, request("What can you do?", model=STREAM_MODEL))
    assert error is None
    assert "What can you do?" in text_of(events)
    assert len(of_type(events, TextDelta)) > 50
    usage = of_type(events, Usage)[0]
    assert usage.completion_tokens == len(of_type(events, TextDelta)) and usage.cost_usd
    assert of_type(events, Credits)[0].remaining_usd < 5.0
    assert prov.display_name == "Demo (offline)"


async def test_demo_queued_model_simulates_a_job() -> None:
    prov = build_provider(ProviderSettings(name="demo", kind="demo", poll_interval=0.01))
    events, error = await collect(prov, request(model=QUEUED_MODEL))
    assert error is None
    assert isinstance(events[0], JobQueued)
    assert [e.status for e in of_type(events, JobStatus)] == ["QUEUED", "PROCESSING", "COMPLETED"]
    assert len(of_type(events, TextDelta)) == 1


async def test_e2e_models_url_has_the_project_and_model_filled_in(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_TIR_API_KEY", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig")
    path = "/project/p-4242/genai/llama3_1_8b_instruct/v1/models"
    fake.on("GET", path, json_reply({"data": [{"id": "llama3_1_8b_instruct"}]}))
    prov = make_provider(
        "e2e",
        f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1",
        project_id="p-4242",
        default_model="llama3_1_8b_instruct",
    )
    models = await prov.list_models()
    await prov.aclose()
    assert "llama3_1_8b_instruct" in [m.id for m in models]
    (listed,) = fake.received("GET")
    assert listed.path == path and listed.query == "project_id=4242"
    assert "{" not in listed.path


async def test_e2e_models_without_project_id_is_one_sentence(fake: FakeServer) -> None:
    prov = make_provider(
        "e2e", f"{fake.url}/project/p-{{project_id}}/genai/{{model}}/v1", key="t-123456789"
    )
    with pytest.raises(ProviderError) as caught:
        await prov.list_models()
    assert caught.value.kind is ErrorKind.NOT_CONFIGURED and "project id" in caught.value.message
    assert fake.received() == []


@pytest.mark.parametrize("on_finish", [True, False], ids=["usage-on-finish", "usage-chunk"])
async def test_deepinfra_streamed_usage_either_way(fake: FakeServer, on_finish: bool) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "estimated_cost": 1.5e-06}
    fake.on(
        "POST",
        "/v1/openai/chat/completions",
        sse_reply(stream_events(["a", "b", "c"], usage=usage, usage_on_finish=on_finish)),
    )
    prov = make_provider("deepinfra", f"{fake.url}/v1/openai", key="di-key-1234567890")
    events, error = await collect(prov, request(model=DI_MODEL))
    await prov.aclose()
    assert error is None and text_of(events) == "abc"
    assert of_type(events, Usage) == [Usage(12, 3, 1.5e-06)]
    assert fake.received()[0].json["stream_options"] == {"include_usage": True}
