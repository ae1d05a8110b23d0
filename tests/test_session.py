"""The conversation's rules, in the core ChatSession: a real store, real HTTP to the fake server.

Both faces (the TUI's pane and ``ask``) are tested elsewhere; these pin the rules they share
without any terminal: where a prompt attaches, stepping between branches, never paying twice
for a queued job, the totals, the settings a conversation keeps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from llamachat.config import load_config
from llamachat.config_write import write_config
from llamachat.context.tokens import TokenCache
from llamachat.providers.base import Credits, GenerationParams, TextDelta, Usage
from llamachat.providers.errors import ProviderError
from llamachat.session import Events, ResumeOrPay, new_session
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.workspace import Workspace
from tests.fakeserver import FakeServer, chunk_event, json_reply, sse_reply, stream_events

CHAT = "/v1/chat/completions"
PRICED = "meta-llama/Meta-Llama-3.1-8B-Instruct"  # a DeepInfra preset with a list price
SLUG = "llama-v3p1-8b-instruct"


@pytest.fixture
async def workspace(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Workspace]:
    monkeypatch.setenv("DEEPINFRA_API_KEY", "di-abcdefghijkl")
    write_config(
        {
            "network": {"max_retries": 0, "read_timeout": 5},
            "default_provider": "local",
            "defaults": {"temperature": 0.3},
            "providers": {
                "local": {
                    "kind": "openai",
                    "base_url": f"{fake.url}/v1",
                    "default_model": "m",
                    "defaults": {"max_tokens": 50},
                },
                "di": {"kind": "deepinfra", "base_url": f"{fake.url}/v1"},
                "sg": {
                    "kind": "segmind",
                    "base_url": fake.url,
                    "mode": "async",
                    "poll_interval": 0.02,
                    "api_key": "SG_testkey1234567",
                },
            },
        }
    )
    space = Workspace(load_config(), Store.open_default())
    yield space
    await space.aclose()
    assert space.store is not None
    space.store.close()


async def drain(events: Events) -> list[object]:
    async with aclosing(events):
        return [event async for event in events]


def answers(fake: FakeServer, *texts: str) -> None:
    fake.on("POST", CHAT, *(sse_reply(stream_events([t])) for t in texts))


def sent_history(fake: FakeServer) -> list[list[str]]:
    return [[m["content"] for m in r.json["messages"]] for r in fake.received("POST", CHAT)]


async def test_a_new_session_takes_the_default_provider_model_and_parameters(
    workspace: Workspace, fake: FakeServer
) -> None:
    session = new_session(workspace)
    assert (session.provider_name, session.model) == ("local", "m")
    assert session.params == GenerationParams(temperature=0.3, max_tokens=50)
    answers(fake, "Hello.")
    events = await drain(session.send("Hi", keep_unsaved=False).events)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello."]
    assert workspace.store is not None and session.conversation_id is not None
    stored = workspace.store.conversation(session.conversation_id)
    assert stored.params == {"temperature": 0.3, "max_tokens": 50}
    assert (stored.provider, stored.model) == ("local", "m")


async def test_a_failed_prompt_sent_again_takes_its_place_rather_than_branching(
    workspace: Workspace, fake: FakeServer
) -> None:
    session = new_session(workspace)
    answers(fake, "First answer.")
    await drain(session.send("one", keep_unsaved=False).events)
    session.reload(200)
    fake.on("POST", CHAT, json_reply({"error": {"message": "bad request"}}, 400))
    with pytest.raises(ProviderError):
        await drain(session.send("two", keep_unsaved=False).events)
    assert workspace.store is not None and session.conversation_id is not None
    failed = [m for m in workspace.store.messages(session.conversation_id) if m.content == "two"]
    session.prompt_failed(failed[0].id)  # what a face does when it puts the prompt back
    answers(fake, "Second answer.")
    sending = session.send("two, again", keep_unsaved=False)
    assert not sending.branching  # it follows the first exchange, where the failed one was
    await drain(sending.events)
    contents = [m.content for m in workspace.store.messages(session.conversation_id)]
    assert contents == ["one", "First answer.", "two, again", "Second answer."]
    assert sent_history(fake)[-1] == ["one", "First answer.", "two, again"]


async def test_an_edit_is_a_new_branch_and_the_branches_can_be_stepped(
    workspace: Workspace, fake: FakeServer
) -> None:
    session = new_session(workspace)
    answers(fake, "A1", "B1", "A2")
    await drain(session.send("question A", keep_unsaved=False).events)
    session.reload(200)
    first_prompt = session.path[0]
    session.begin_edit(first_prompt, draft="half-typed")
    assert session.editing
    sending = session.send("question B", keep_unsaved=False)
    assert sending.branching and sending.draft_set_aside == "half-typed"
    await drain(sending.events)
    session.reload(200)
    assert [m.content for m in session.path] == ["question B", "B1"]
    assert sent_history(fake)[-1] == ["question B"]  # not A's exchange
    shown = session.path[0]
    assert session.branches[shown.id].count == 2
    target = session.step_branch(shown, -1)
    assert target == first_prompt.id
    session.reload(200)
    assert [m.content for m in session.path] == ["question A", "A1"]
    # Cancelling an edit gives the draft back and the next prompt follows the branch shown.
    session.begin_edit(session.path[0], draft="kept", images=["https://example.com/b.png"])
    assert session.cancel_edit() == ("kept", ("https://example.com/b.png",))
    assert not session.editing
    sending = session.send("follow-up", keep_unsaved=False)
    assert not sending.branching
    await drain(sending.events)
    assert sent_history(fake)[-1] == ["question A", "A1", "follow-up"]


async def test_regenerating_while_a_queued_job_may_run_asks_before_paying_again(
    workspace: Workspace, fake: FakeServer
) -> None:
    store = workspace.store
    assert store is not None
    c = store.create_conversation(provider="sg", model=SLUG)
    prompt = store.add_message(c.id, "user", "slow question", provider="sg")
    store.add_message(
        c.id,
        "assistant",
        "",
        parent_id=prompt.id,
        status=MessageStatus.QUEUED,
        provider="sg",
        model=SLUG,
        job_id="job-1",
        job_status="stopped",
    )
    session = new_session(workspace, c.id)
    session.open(c.id, last=200)
    assert session.provider_name == "sg"
    question = session.regenerate(prompt)
    assert isinstance(question, ResumeOrPay) and question.running.job_id == "job-1"
    assert "billed" in question.question
    assert fake.received("POST") == []  # nothing was submitted
    submitted = {"request_id": "job-2", "status": "QUEUED", "status_url": "s", "response_url": "r"}
    fake.on("POST", f"/v1/{SLUG}", json_reply(submitted))
    fake.on("POST", f"/v2/{SLUG}", json_reply(submitted))
    output = json.dumps({"choices": [{"message": {"content": "paid twice"}}]})
    fake.on("GET", "/v2/requests/job-2/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", "/v2/requests/job-2", json_reply({"status": "COMPLETED", "output": output}))
    paid = session.regenerate(prompt, pay_again=True)
    assert not isinstance(paid, ResumeOrPay)
    events = await drain(paid)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["paid twice"]
    assert len(fake.received("POST")) == 1  # one new job, because it was asked for


async def test_totals_count_usage_cost_and_credits_as_replies_report_them(
    workspace: Workspace, fake: FakeServer
) -> None:
    session = new_session(workspace)
    session.switch_model("di", PRICED)
    usage: dict[str, Any] = {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "estimated_cost": 0.002,
    }
    stream = [
        chunk_event("paid"),
        chunk_event(finish="stop"),
        chunk_event(usage=usage, choices=False),
    ]
    fake.on("POST", CHAT, sse_reply(stream), sse_reply(stream))
    for prompt in ("one", "two"):
        events = await drain(session.send(prompt, keep_unsaved=False).events)
        session.reload(200)
        assert any(isinstance(e, Usage) for e in events)
    t = session.totals
    assert (t.prompt_tokens, t.completion_tokens) == (20, 8)
    assert t.cost_usd == pytest.approx(0.004) and workspace.spent_usd == pytest.approx(0.004)
    assert workspace.store is not None and session.conversation_id is not None
    stored = workspace.store.load(session.conversation_id).totals
    assert (stored.prompt_tokens, stored.completion_tokens) == (20, 8)
    assert stored.cost_usd == pytest.approx(t.cost_usd)  # what is shown is what is stored

    # A balance belongs to its provider: switching provider forgets it.
    async def balance() -> Events:
        yield Credits(1.5)

    await drain(session._counted(balance()))
    assert t.credits_usd == 1.5
    session.switch_model("di", "another-model")
    assert t.credits_usd == 1.5
    session.switch_model("local", "m")
    assert t.credits_usd is None
    assert workspace.store.conversation(session.conversation_id).provider == "local"


async def test_a_conversations_settings_are_adopted_and_kept(
    workspace: Workspace, fake: FakeServer
) -> None:
    store = workspace.store
    assert store is not None
    c = store.create_conversation(
        provider="local",
        model="other",
        system_prompt="Be brief.",
        params={"max_tokens": 7, "context_overflow": "stop"},
    )
    session = new_session(workspace, c.id)
    session.open(c.id, last=200)
    assert (session.model, session.system_prompt, session.context_overflow) == (
        "other",
        "Be brief.",
        "stop",
    )
    assert session.params == GenerationParams(temperature=0.3, max_tokens=7)
    session.apply_settings(
        system_prompt="", params=GenerationParams(top_p=0.5), context_overflow="summarize"
    )
    kept = store.conversation(c.id)
    assert kept.system_prompt is None
    # The config's defaults cleared here stay cleared when the conversation is read again.
    assert kept.params == {
        "top_p": 0.5,
        "temperature": None,
        "max_tokens": None,
        "context_overflow": "summarize",
    }
    again = new_session(workspace, c.id)
    again.open(c.id, last=200)
    assert again.params == GenerationParams(top_p=0.5)
    assert await session.pick_model(None, kept) == "other"  # on its own provider
    assert await session.pick_model("explicit", kept) == "explicit"
    session.provider_name = "di"
    assert await session.pick_model(None, kept) == PRICED  # the preset, not "other"


async def test_the_meter_knows_a_preset_window_without_building_the_provider(
    workspace: Workspace,
) -> None:
    """Opening a stored conversation measures its context before the first paint: building
    the provider for that would import the HTTP stack first (about 50 ms of the paint)."""
    rules = workspace.context_rules("di", PRICED)
    assert rules.window == 131072 and rules.source == "preset"
    assert not workspace.is_built("di")
    workspace.provider("di")  # once built, its own knowledge (a listing too) is used
    assert workspace.context_rules("di", PRICED).window == 131072


async def test_an_edited_prompt_keeps_its_images_and_the_draft_set_aside_keeps_its_own(
    workspace: Workspace, fake: FakeServer
) -> None:
    store = workspace.store
    assert store is not None
    c = store.create_conversation(provider="local", model="m")
    prompt = store.add_message(c.id, "user", "what is this?", images=["https://example.com/a.png"])
    store.add_message(c.id, "assistant", "A cat.", parent_id=prompt.id)
    session = new_session(workspace, c.id)
    session.open(c.id, last=200)
    images = session.begin_edit(session.path[0], "half a thought", ["https://example.com/b.png"])
    assert images == ("https://example.com/a.png",)  # they go with the edit unless removed
    answers(fake, "A dog.")
    sending = session.send("what animal is this?", images, keep_unsaved=False)
    assert sending.draft_set_aside == "half a thought"
    assert sending.images_set_aside == ("https://example.com/b.png",)
    await drain(sending.events)
    sent = fake.received("POST", CHAT)[-1].json["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in sent), sent


async def test_a_window_a_request_found_is_remembered_for_the_meter(
    workspace: Workspace,
) -> None:
    """A server's window is learnt by a request (llama.cpp's /props): the meter keeps it
    afterwards, for that provider and model only, even if the model was switched meanwhile."""
    from llamachat.context.apply import ContextMeasured

    session = new_session(workspace)
    assert session.context_rules() is not None
    assert workspace.context_rules("local", "m").window is None  # nothing known yet

    async def measured() -> Events:
        session.switch_model("local", "other")  # mid-reply, as Ctrl+L may
        yield ContextMeasured(window=4096, used=120, estimated=True, left_out=0)

    await drain(session._counted(measured()))
    rules = workspace.context_rules("local", "m")
    assert (rules.window, rules.source, rules.probe) == (4096, "server", False)
    assert workspace.context_rules("local", "other").window is None
    assert session.meter("", TokenCache()).window is None  # the model now in use: unknown


async def test_what_another_process_changed_is_seen_and_which_prompt_is_answered_again(
    workspace: Workspace,
) -> None:
    store = workspace.store
    assert store is not None
    c = store.create_conversation(provider="local", model="m", title="Llamas")
    prompt = store.add_message(c.id, "user", "hello")
    answer = store.add_message(c.id, "assistant", "hi", parent_id=prompt.id)
    session = new_session(workspace, c.id)
    session.open(c.id, last=200)
    assert session.changes_elsewhere() == (False, False)
    with Store(store.path) as other:  # another process, as `ask --continue` would be
        other.rename(c.id, "Alpacas")
    assert session.changes_elsewhere() == (False, True) and session.title == "Alpacas"
    with Store(store.path) as other:
        other.add_message(c.id, "user", "more?", parent_id=answer.id)
    assert session.changes_elsewhere() == (True, False)
    # A regenerate answers the prompt again, whether asked on the prompt or on its reply.
    assert session.prompt_of(answer) == prompt and session.prompt_of(prompt) == prompt
