"""Reasoning models: thoughts in every wire form, kept apart from the answer everywhere."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from llamachat.chat import send
from llamachat.providers.base import GenerationParams, ProviderEvent, ReasoningDelta, TextDelta
from llamachat.providers.thinking import ThinkSplitter, split_thinking
from llamachat.store.db import Store
from llamachat.store.export import export, to_json_data
from llamachat.store.importer import import_data
from tests.fakeserver import (
    FakeServer,
    chunk_event,
    completion_body,
    json_reply,
    sse_reply,
    stream_events,
)
from tests.helpers import collect, make_provider, of_type, request, text_of

CHAT = "/v1/chat/completions"
THOUGHT = "The user greets me. I should greet back."
ANSWER = "Hello there!"


def reasoning_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in of_type(events, ReasoningDelta))


def field_stream(name: str, thoughts: list[str], answer: list[str]) -> list[str]:
    """A stream whose thoughts come in ``delta[name]``, then the answer as content."""
    events = [chunk_event(role="assistant")]
    for piece in thoughts:
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {name: piece, "content": None}}],
        }
        events.append(f"data: {json.dumps(chunk)}\n\n")
    return events + stream_events(answer)[1:]


# --- the splitter ------------------------------------------------------------------


def split_pieces(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    events: list[ProviderEvent] = []
    for piece in pieces:
        events += splitter.feed(piece)
    events += splitter.close()
    return reasoning_of(events), text_of(events)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 1000])
def test_inline_think_split_at_every_boundary(size: int) -> None:
    whole = f"\n <think>\n{THOUGHT}\n</think>\n\n{ANSWER}"
    pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
    assert split_pieces(pieces) == (f"{THOUGHT}\n", ANSWER)


def test_think_only_counts_at_the_start() -> None:
    assert split_pieces(["Use ", "<think>", " tags"]) == ("", "Use <think> tags")
    assert split_pieces(["<thi", "s is"]) == ("", "<this is")
    assert split_pieces(["  <th"]) == ("", "  <th")  # ended while it could still open
    assert split_pieces(["<think>a < b </thin", "g> c"]) == ("a < b </thing> c", "")


def test_unclosed_think_stays_reasoning() -> None:
    assert split_pieces(["<think>still", " going </thi"]) == ("still going </thi", "")
    assert split_thinking("<think>x</think>y") == [ReasoningDelta("x"), TextDelta("y")]


def test_splitter_is_linear() -> None:
    """A long stream of one-character pieces goes through quickly (no re-scanning)."""
    splitter = ThinkSplitter()
    count = 0
    for char in "<think>" + "why? " * 40_000 + "</think>" + "ok " * 40_000:
        count += len(splitter.feed(char))
    assert count > 300_000 and splitter.passthrough


# --- the wire ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reasoning_content", "reasoning"])
async def test_streamed_reasoning_fields(fake: FakeServer, name: str) -> None:
    fake.on("POST", CHAT, sse_reply(field_stream(name, ["The user ", "greets me."], ["Hi", "!"])))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    assert reasoning_of(events) == "The user greets me."
    assert text_of(events) == "Hi!"
    first = next(i for i, e in enumerate(events) if isinstance(e, ReasoningDelta | TextDelta))
    assert isinstance(events[first], ReasoningDelta)


async def test_streamed_inline_think_split_across_chunks(fake: FakeServer) -> None:
    pieces = ["<thi", "nk>", THOUGHT, "</th", "ink>", "\n\n", ANSWER]
    fake.on("POST", CHAT, sse_reply(stream_events(pieces), split=5))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    assert (reasoning_of(events), text_of(events)) == (THOUGHT, ANSWER)


async def test_streamed_unclosed_think_stays_reasoning(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["<think>", "Hmm, ", "let me s"])))
    events, error = await collect(make_provider("openai", f"{fake.url}/v1"), request())
    assert error is None
    assert (reasoning_of(events), text_of(events)) == ("Hmm, let me s", "")


@pytest.mark.parametrize("form", ["reasoning_content", "reasoning", "inline"])
async def test_whole_reply_reasoning(fake: FakeServer, form: str) -> None:
    body = completion_body(ANSWER)
    if form == "inline":
        body["choices"][0]["message"]["content"] = f"<think>{THOUGHT}</think>{ANSWER}"
    else:
        body["choices"][0]["message"][form] = THOUGHT
    fake.on("POST", CHAT, json_reply(body))
    provider = make_provider("openai", f"{fake.url}/v1")
    events, error = await collect(provider, request(stream=False))
    assert error is None
    assert (reasoning_of(events), text_of(events)) == (THOUGHT, ANSWER)


# --- stored apart, never sent back ---------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


async def ask_once(store: Store, fake: FakeServer, conversation_id: int, prompt: str) -> None:
    provider = make_provider("openai", f"{fake.url}/v1", name="local")
    events = send(
        store,
        provider,
        conversation_id=conversation_id,
        prompt=prompt,
        model="m",
        params=GenerationParams(),
        system_prompt=None,
        parent_id=store.conversation(conversation_id).active_leaf_id,
    )
    async with aclosing(events):
        async for _ in events:
            pass
    await provider.aclose()


async def test_reasoning_stored_apart_and_not_sent_back(fake: FakeServer, store: Store) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(field_stream("reasoning_content", ["Secret ", "musings."], ["Hi", "!"])),
    )
    c = store.create_conversation()
    await ask_once(store, fake, c.id, "Hello?")
    with sqlite3.connect(store.path) as db:
        row = db.execute(
            "SELECT content, reasoning, reasoning_seconds FROM messages WHERE role = 'assistant'"
        ).fetchone()
    assert row[:2] == ("Hi!", "Secret musings.")
    assert row[2] is not None and row[2] >= 0
    reply_ = store.messages(c.id)[-1]
    assert (reply_.content, reply_.reasoning) == ("Hi!", "Secret musings.")

    fake.reset()
    fake.on("POST", CHAT, sse_reply(stream_events(["Fine."])))
    await ask_once(store, fake, c.id, "And now?")
    body = fake.received("POST", CHAT)[0].body.decode()
    assert "musings" not in body
    assert json.loads(body)["messages"][1] == {"role": "assistant", "content": "Hi!"}


# --- exports, history, import ------------------------------------------------------


def stored_conversation(store: Store) -> int:
    c = store.create_conversation(title="Thinking")
    user = store.add_message(c.id, "user", "Why is the sky blue?")
    store.add_message(
        c.id,
        "assistant",
        "Rayleigh scattering.",
        parent_id=user.id,
        reasoning="Short wavelengths <b>scatter</b> more.",
        reasoning_seconds=12.4,
    )
    return c.id


def test_exports_show_reasoning_apart(store: Store) -> None:
    view = store.load(stored_conversation(store))
    md = export(view, "md")
    assert "> **Reasoning (12 s)**" in md
    assert "> Short wavelengths <b>scatter</b> more." in md
    assert md.index("Short wavelengths") < md.index("Rayleigh scattering.")
    page = export(view, "html")
    assert '<details class="reasoning"><summary>Reasoning (12 s)</summary>' in page
    assert "&lt;b&gt;scatter&lt;/b&gt;" in page and "<b>scatter" not in page
    assert page.index("Short wavelengths") < page.index("Rayleigh scattering.")
    txt = export(view, "txt")
    assert "Rayleigh scattering." in txt and "wavelengths" not in txt


def test_json_export_carries_reasoning_and_import_keeps_it(store: Store) -> None:
    data = to_json_data(store.load(stored_conversation(store)))
    reply_ = data["messages"][1]
    assert reply_["reasoning"] == "Short wavelengths <b>scatter</b> more."
    assert reply_["reasoning_seconds"] == 12.4
    assert data["messages"][0]["reasoning"] == ""
    imported = store.messages(import_data(store, json.loads(json.dumps(data))))
    assert [m.reasoning for m in imported] == ["", "Short wavelengths <b>scatter</b> more."]
    assert imported[1].reasoning_seconds == 12.4


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_history_show_json_and_ask(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    pieces = ["<think>", "Pondering", " deeply", "</think>", "Forty", "-two"]
    fake.on("POST", CHAT, sse_reply(stream_events(pieces)))
    base = ["ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q"]
    quiet = run_cli(*base, "What is it?", env=subprocess_env)
    assert quiet.returncode == 0
    assert (quiet.stdout, quiet.stderr) == ("Forty-two\n", "")
    loud = run_cli(*base, "--reasoning", "What is it?", env=subprocess_env)
    assert loud.returncode == 0
    assert loud.stdout == "Forty-two\n"
    assert loud.stderr == "Pondering deeply\n"
    shown = run_cli("history", "show", "1", "--json", env=subprocess_env)
    assert shown.returncode == 0
    messages: list[dict[str, Any]] = json.loads(shown.stdout)["messages"]
    assert [(m["content"], m["reasoning"]) for m in messages] == [
        ("What is it?", ""),
        ("Forty-two", "Pondering deeply"),
    ]
