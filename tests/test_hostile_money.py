"""A cost a provider reports is taken only when the tokens it is for could come to it.

DeepInfra's ``usage.estimated_cost``, Segmind's ``x-cost`` header and its queued
``metrics.cost`` are refused past $1 per 1,000 tokens of the reply (or any cost
with no tokens): never shown, never stored, and the list-price estimate is used
instead when there is one. A cost is never shown as ``$-0.000000``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.config_write import write_config
from llamachat.locations import database_path
from llamachat.numbers import MAX_USD_PER_TOKEN, reported_cost
from llamachat.store.db import Store
from llamachat.store.models import Message, MessageStatus
from tests.fakeserver import FakeServer, Reply, chunk_event, completion_body, sse_reply

CHAT = "/v1/chat/completions"
SLUG = "llama-v3p1-8b-instruct"
#: A DeepInfra preset with a list price ($0.055 per million tokens in and out).
PRICED = "meta-llama/Meta-Llama-3.1-8B-Instruct"
NETWORK = {"max_retries": 0, "read_timeout": 5, "reply_timeout": 10}


def replies() -> list[Message]:
    with Store(database_path()) as store:
        return [
            m
            for c in store.list_conversations()
            for m in store.messages(c.id)
            if m.role == "assistant"
        ]


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["ask", *args, "hi"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deepinfra(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPINFRA_API_KEY", "di-abcdefghijkl")
    write_config(
        {
            "network": NETWORK,
            "providers": {"di": {"kind": "deepinfra", "base_url": f"{fake.url}/v1"}},
        }
    )


def priced_stream(usage: dict[str, Any]) -> Reply:
    """The adversarial reply: one token, then usage in a chunk of its own, as DeepInfra sends."""
    events = [chunk_event("paid"), chunk_event(finish="stop")]
    events.append(chunk_event(usage=usage, choices=False))
    return sse_reply([*events, "data: [DONE]\n\n"])


@pytest.mark.parametrize("cost", [999999999, 0.5, 6 * MAX_USD_PER_TOKEN * 1.01])
def test_a_cost_the_tokens_could_not_come_to_is_replaced_by_the_list_price(
    cost: float,
    fake: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deepinfra(fake, monkeypatch)
    usage = {"prompt_tokens": 5, "completion_tokens": 1, "estimated_cost": cost}
    fake.on("POST", CHAT, priced_stream(usage))
    code, out, err = ask(capsys, "-p", "di", "-m", PRICED)
    assert code == 0, err
    assert out == "paid\n"
    estimate = 6 * 0.055 / 1e6
    assert "cost: about $0.000000" in err and err.count("cost:") == 1, err
    [reply] = replies()
    assert reply.status is MessageStatus.COMPLETE
    assert reply.cost_usd == pytest.approx(estimate)


def test_a_cost_with_no_price_to_fall_back_on_is_not_shown_at_all(
    fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    usage = {"prompt_tokens": 5, "completion_tokens": 1, "estimated_cost": 999999999}
    fake.on("POST", CHAT, priced_stream(usage))
    code, out, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m")
    assert code == 0, err
    assert "cost:" not in err and "999999999" not in err
    assert [m.cost_usd for m in replies()] == [None]


def test_a_plausible_cost_is_kept_as_reported(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deepinfra(fake, monkeypatch)
    usage = {"prompt_tokens": 1000, "completion_tokens": 1000, "estimated_cost": 0.0042}
    fake.on("POST", CHAT, priced_stream(usage))
    code, _, err = ask(capsys, "-p", "di", "-m", PRICED)
    assert code == 0, err
    assert "cost: $0.004200" in err
    assert [m.cost_usd for m in replies()] == [0.0042]


@pytest.mark.parametrize("cost", [-0.0, "-0", "-0.0"])
def test_a_cost_of_minus_zero_is_shown_as_zero(
    cost: Any, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config({"network": NETWORK})
    fake.on("POST", CHAT, priced_stream({"prompt_tokens": 5, "estimated_cost": cost}))
    code, _, err = ask(capsys, "--base-url", f"{fake.url}/v1", "-m", "m")
    assert code == 0, err
    assert "cost: $0.000000" in err and "-0" not in err, err


def test_the_ceiling_is_per_token_and_a_few_dollars_when_no_tokens_are_reported() -> None:
    assert reported_cost(0.002, 1, 1) == 0.002
    assert reported_cost(0.0021, 1, 1) is None
    assert reported_cost(0.01, 0, 0) is None  # tokens reported as none: no cost either
    assert reported_cost(0.01, None, None) == 0.01  # Segmind's x-cost on a body without usage
    assert reported_cost(5.01, None, None) is None
    assert reported_cost(999_999_999, None, None) is None
    assert reported_cost(0, None, None) == 0.0
    # A real price, 405B at a few dollars per million tokens, is far below the ceiling.
    assert reported_cost(100_000 * 5 / 1e6, 90_000, 10_000) == 0.5


# --- Segmind: the x-cost header and a queued job's metrics -----------------------------------


@pytest.fixture
def segmind(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SEGMIND_API_KEY", "SG_abcdefghijkl")

    def configure(mode: str) -> None:
        sg = {"kind": "segmind", "base_url": fake.url, "mode": mode, "poll_interval": 0.02}
        write_config({"network": NETWORK, "providers": {"sg": sg}})

    return configure


@pytest.mark.parametrize("usage", [{"prompt_tokens": 5, "completion_tokens": 1}, None])
def test_segmind_x_cost_past_the_ceiling_is_ignored(
    usage: dict[str, int] | None,
    fake: FakeServer,
    segmind: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    segmind("sync")
    body = completion_body("Hi", usage=usage)
    headers = {"x-cost": "999999999"}
    fake.on("POST", f"/v1/{SLUG}", Reply(200, [json.dumps(body).encode()], headers=headers))
    code, out, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 0, err
    assert out == "Hi\n"
    assert "cost:" not in err and "999999999" not in err
    assert [m.cost_usd for m in replies()] == [None]


def test_segmind_queued_metrics_cost_past_the_ceiling_is_ignored(
    fake: FakeServer, segmind: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    segmind("async")
    submitted = {"request_id": "j1", "status": "QUEUED", "status_url": "x", "response_url": "y"}
    output = completion_body("queued hi", usage={"prompt_tokens": 3, "completion_tokens": 2})
    result = {"status": "COMPLETED", "metrics": {"cost": 5.0}, "output": json.dumps(output)}
    fake.on("POST", f"/v2/{SLUG}", Reply(200, [json.dumps(submitted).encode()]))
    fake.on("GET", "/v2/requests/j1/status", Reply(200, [b'{"status": "COMPLETED"}']))
    fake.on("GET", "/v2/requests/j1", Reply(200, [json.dumps(result).encode()]))
    code, out, err = ask(capsys, "-p", "sg", "-m", SLUG)
    assert code == 0, err
    assert out == "queued hi\n"
    assert "cost:" not in err
    assert [m.cost_usd for m in replies()] == [None]
