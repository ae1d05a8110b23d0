"""The context core on its own: estimates, fitting, windows from config, listings,
``/props`` and refusals, and a summary branch built through ``chat.send``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from llamachat.chat import history, send
from llamachat.config import parse_config
from llamachat.config_errors import ConfigError
from llamachat.context.apply import ContextMeasured, ContextSummarized, ContextTrimmed, prepare
from llamachat.context.fit import fit, is_summary
from llamachat.context.meter import Meter, meter
from llamachat.context.policy import ContextRules, Overflow
from llamachat.context.settings import context_rules
from llamachat.context.tokens import TokenCache, estimate_text
from llamachat.context.window import (
    n_ctx_from_props,
    probe_window,
    prompt_from_error,
    window_from_error,
)
from llamachat.providers.base import GenerationParams
from llamachat.providers.openai_models import model_from_listing
from llamachat.providers.registry import build_provider
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, json_reply
from tests.helpers import WIRE, make_provider
from tests.small_model import SmallModel, props, server_tokens, words

CHAT = "/v1/chat/completions"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def grow(store: Store, exchanges: int) -> int:
    c = store.create_conversation(system_prompt="Be terse.")
    parent = None
    for i in range(exchanges):
        q = store.add_message(c.id, "user", f"Q{i} " + words(39, i), parent_id=parent)
        parent = store.add_message(c.id, "assistant", f"A{i} " + words(39), parent_id=q.id).id
    return c.id


def test_estimates_count_ascii_by_four_and_other_characters_one_each() -> None:
    assert estimate_text("") == 0
    assert estimate_text("abcd" * 25) == 25
    assert estimate_text("abcde") == 2
    assert estimate_text("你好世界") == 4  # CJK: about a token a character
    assert estimate_text("café") == 2  # "caf" and "é"


def test_fit_keeps_the_system_prompt_and_the_newest_turns_and_estimates_each_once(
    store: Store,
) -> None:
    conversation_id = grow(store, 30)
    path = store.load(conversation_id).path
    cache = TokenCache()
    whole = fit(path, "Be terse.", window=None, cache=cache)
    assert not whole.overflowing and len(whole.messages) == 61
    assert len(cache) == 60  # one estimate per message
    small = fit(path, "Be terse.", window=512, cache=cache)
    assert len(cache) == 60  # fitting again re-estimates nothing
    assert small.messages[0].role == "system" and small.messages[1].role == "user"
    assert small.messages[-1].text == path[-1].content
    assert small.used <= 512 - small.reserve
    assert len(small.left_out) + len(small.kept) == 60
    assert [m.id for m in small.left_out] == [m.id for m in path[: len(small.left_out)]]
    fuller = fit(path, "Be terse.", window=512, max_tokens=300, cache=cache)
    assert len(fuller.kept) < len(small.kept)  # room kept for a longer reply
    alone = fit(path[:1], "Be terse.", window=40, max_tokens=30)
    assert not alone.fits


def test_a_refusal_names_the_window_and_the_prompt_size() -> None:
    captured = (WIRE / "10-overlong-prompt.txt").read_text()  # a real server's 400
    assert window_from_error(captured) == 4096
    assert prompt_from_error(captured) == 6026
    native = (
        '{"error":{"code":400,"message":"the request exceeds the available context size, '
        'try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5210,'
        '"n_ctx":4096}}'
    )
    assert window_from_error(native) == 4096 and prompt_from_error(native) == 5210
    deepinfra = "Requested input length 140000 exceeds maximum input length 131072"
    assert window_from_error(deepinfra) == 131072 and prompt_from_error(deepinfra) == 140000
    assert window_from_error("Model busy, retry later") is None


def test_llama_cpp_reports_its_window_in_props_and_in_model_meta() -> None:
    assert n_ctx_from_props('{"default_generation_settings": {"n_ctx": 8192}}') == 8192
    assert n_ctx_from_props('{"n_ctx": 4096}') == 4096
    assert n_ctx_from_props("<html>") is None and n_ctx_from_props('{"n_ctx": true}') is None
    entry = {"id": "tiny", "object": "model", "meta": {"n_ctx_train": 131072, "n_vocab": 128256}}
    assert model_from_listing(entry, None).context_length == 131072


async def test_the_window_is_asked_of_the_server_props_first_then_models(
    fake: FakeServer,
) -> None:
    fake.on("GET", "/props", props(2048))
    provider = make_provider("openai", f"{fake.url}/v1")
    assert await probe_window(provider, "tiny") == 2048
    fake.on("GET", "/props", json_reply({"error": "not found"}, 404))
    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "tiny", "max_model_len": 1024}]}))
    assert await probe_window(provider, "tiny") == 1024
    assert await probe_window(provider, "other") is None
    await provider.aclose()


def test_config_sets_the_policy_the_summary_model_and_windows(tmp_path: Path) -> None:
    text = """
[defaults]
context_overflow = "summarize"
summary_model = "small-one"

[context]
"m-any" = 4096

[providers.tiny]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
context_overflow = "stop"

[providers.tiny.context]
"m" = 8192
"broken" = -5
"""
    config = parse_config(text, tmp_path / "config.toml")
    assert any("'broken'" in w and "whole number of tokens" in w for w in config.warnings)
    tiny = config.provider("tiny")
    provider = build_provider(tiny, config.network)
    rules = context_rules(config, tiny, provider, "m")
    assert rules == ContextRules(8192, Overflow.STOP, "small-one", probe=False, source="config")
    assert context_rules(config, tiny, provider, "m-any").window == 4096
    assert context_rules(config, tiny, provider, "m", "drop-oldest").policy is Overflow.DROP_OLDEST
    unknown = context_rules(config, tiny, provider, "other")
    assert unknown.window is None and unknown.probe
    deepinfra = config.provider("deepinfra")
    preset = context_rules(
        config, deepinfra, build_provider(deepinfra, config.network),
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
    )  # fmt: skip
    assert preset.window == 131_072 and preset.policy is Overflow.SUMMARIZE
    with pytest.raises(ConfigError, match="'context_overflow' in \\[defaults\\] must be one of"):
        parse_config('[defaults]\ncontext_overflow = "sometimes"\n', tmp_path / "c.toml")


async def test_send_summarises_into_a_new_branch_and_history_sends_the_summary(
    fake: FakeServer, store: Store
) -> None:
    model = SmallModel(512)
    fake.on("POST", CHAT, model)
    conversation_id = grow(store, 12)
    provider = make_provider("openai", f"{fake.url}/v1", name="tiny")
    leaf = store.conversation(conversation_id).active_leaf_id
    events = []
    rules = ContextRules(512, Overflow.SUMMARIZE)
    async with aclosing(
        send(
            store,
            provider,
            conversation_id=conversation_id,
            prompt="Next " + words(20),
            model="tiny",
            params=GenerationParams(),
            system_prompt="Be terse.",
            parent_id=leaf,
            context=rules,
        )
    ) as stream:
        async for event in stream:
            events.append(event)
    await provider.aclose()
    (summarized,) = [e for e in events if isinstance(e, ContextSummarized)]
    assert not [e for e in events if isinstance(e, ContextTrimmed)]
    (measure,) = [e for e in events if isinstance(e, ContextMeasured)]
    assert measure.window == 512 and not measure.estimated
    view = store.load(conversation_id)
    assert is_summary(view.path[0]) and view.path[0].id == summarized.summary_id
    assert view.path[-2].id == summarized.prompt_id
    assert view.path[-1].content.strip()  # the reply
    sent = history(view.path, "Be terse.")
    assert sent[0].text.startswith("Be terse.\n\nSummary of the earlier conversation:\nSUMMARY ")
    assert [m.role for m in sent[1:3]] == ["user", "assistant"]
    first_kept = int(view.path[1].content.split()[0][1:])  # "Q7 ...": turn 7 was copied
    assert len(model.summaries) > 1  # too long for one request: a run at a time
    runs = [body["messages"][1]["content"] for body in model.summaries]
    assert runs[0].startswith("Person: Q0 ")  # the oldest first, each with the summary so far
    assert all(
        run.startswith(f"Earlier summary: SUMMARY {n}: ") for n, run in enumerate(runs[1:], 1)
    )
    assert runs[-1].split("\n\n")[-1].startswith(f"Assistant: A{first_kept - 1} ")
    assert summarized.covered == sum(r.count("Person: ") + r.count("Assistant: ") for r in runs)
    assert summarized.covered == 2 * first_kept
    assert view.path[0].completion_tokens == 25 * len(runs)  # what every run cost
    for body in model.summaries:
        assert server_tokens(body) + body["max_tokens"] <= 512
    assert len(store.messages(conversation_id)) > 24  # the original branch is all there
    chat_request = fake.received("POST", CHAT)[-1].json
    assert server_tokens(chat_request) <= 512


def test_the_meter_is_the_last_reported_usage_plus_the_draft(store: Store) -> None:
    conversation_id = grow(store, 3)
    path = store.load(conversation_id).path
    estimate = meter(path, "Be terse.", 512)
    assert estimate.estimated and 250 < estimate.used < 512  # no usage reported: estimated
    store.update_message(path[-1].id, prompt_tokens=300, completion_tokens=70)
    path = store.load(conversation_id).path
    exact = meter(path, "Be terse.", 512)
    assert exact == Meter(370, 512, False) and not exact.warning
    typing = meter(path, "Be terse.", 512, draft="x" * 200)
    assert typing == Meter(370 + 4 + 50, 512, True) and typing.warning  # past 80%
    assert meter(path, None, None).share is None


async def test_summaries_are_never_queued_jobs_the_turns_are_left_out_instead(
    fake: FakeServer, store: Store
) -> None:
    conversation_id = grow(store, 12)
    path = store.load(conversation_id).path
    segmind = make_provider("segmind", fake.url, key="SG_testkey1234567", mode="async")
    assert segmind.capabilities.queued and not segmind.capabilities.streams
    prepared = await prepare(
        store,
        segmind,
        path=path,
        parent=path[-1],
        system_prompt=None,
        model="llama-v3p1-8b-instruct",
        max_tokens=None,
        rules=ContextRules(512, Overflow.SUMMARIZE),
    )
    await segmind.aclose()
    (trimmed,) = prepared.events
    assert isinstance(trimmed, ContextTrimmed) and trimmed.left_out == len(prepared.fit.left_out)
    assert "queued jobs are not used for summaries" in trimmed.sentence
    assert fake.received() == []  # no job was submitted (and billed)
    assert len(store.messages(conversation_id)) == 24  # and no branch was made
