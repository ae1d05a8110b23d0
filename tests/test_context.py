"""A conversation that outgrows its model's window goes on: ``ask --continue`` against a
small-window fake llama.cpp (tests/small_model.py) with a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llamachat.config_write import write_config
from llamachat.context.fit import is_summary
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, chunk_event, json_reply, sse_reply
from tests.helpers import run_cli
from tests.small_model import SmallModel, props, server_tokens, words

CHAT = "/v1/chat/completions"
WINDOW = 512
EXCHANGES = 60  # about 5,300 of the server's tokens: ten times the window


def configure(fake: FakeServer, tmp_path: Path, **tiny: object) -> None:
    write_config(
        {
            "network": {"max_retries": 0},
            "providers": {
                "tiny": {
                    "kind": "openai",
                    "base_url": f"{fake.url}/v1",
                    "default_model": "llama-tiny",
                    **tiny,
                }
            },
        },
        tmp_path / "config" / "config.toml",
    )


def seed(exchanges: int = EXCHANGES) -> int:
    """A stored conversation with ``tiny`` far longer than the window."""
    with Store.open_default() as store:
        conversation = store.create_conversation(
            system_prompt="Be terse.", provider="tiny", model="llama-tiny"
        )
        parent = None
        for index in range(exchanges):
            prompt = store.add_message(
                conversation.id, "user", f"Q{index} " + words(39, index), parent_id=parent
            )
            answer = store.add_message(
                conversation.id, "assistant", f"A{index} " + words(39, index + 3),
                parent_id=prompt.id, provider="tiny", model="llama-tiny",
            )  # fmt: skip
            parent = answer.id
        return conversation.id


def sent(fake: FakeServer) -> list[dict[str, Any]]:
    return [r.json for r in fake.received("POST", CHAT)]


def ask(env: dict[str, str], *flags: str, turn: int) -> dict[str, Any]:
    result = run_cli("ask", "-p", "tiny", "-c", "--json", *flags, f"T{turn} " + words(30), env=env)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    assert "error" not in out and out["content"].strip()
    out["stderr"] = result.stderr
    return out


def test_drop_oldest_keeps_a_long_conversation_answering(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    model = SmallModel(WINDOW)
    fake.on("POST", CHAT, model)
    fake.on("GET", "/props", props(WINDOW))  # the window is learned from llama.cpp's /props
    configure(fake, tmp_path)
    conversation_id = seed()
    for turn in range(3):
        out = ask(subprocess_env, turn=turn)
        assert "earlier messages were left out of this request" in out["stderr"]
        assert out["stderr"].count("left out") == 1
        body = sent(fake)[-1]
        messages = body["messages"]
        assert isinstance(messages, list)
        assert messages[0] == {"role": "system", "content": "Be terse."}
        assert messages[1]["role"] == "user"  # the kept history opens with a prompt
        assert messages[-1]["content"].startswith(f"T{turn} ")
        assert server_tokens(body) <= WINDOW - 64  # room left for the reply
        usage = out["usage"]
        assert isinstance(usage, dict)
        assert out["context"] == {
            "window": WINDOW,
            "used": usage["prompt_tokens"] + usage["completion_tokens"],
            "estimated": False,
            "left_out": out["context"]["left_out"],
        }
        assert out["context"]["left_out"] > 100
    assert model.refused == []
    with Store.open_default() as store:  # nothing was deleted
        view = store.load(conversation_id)
        assert len(view.all_messages) == 2 * EXCHANGES + 6
        assert view.path[0].content.startswith("Q0 ")


def test_summarize_continues_from_a_summary_branch_and_keeps_the_original(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    model = SmallModel(WINDOW)
    fake.on("POST", CHAT, model)
    fake.on("GET", "/props", props(WINDOW))
    configure(fake, tmp_path, context_overflow="summarize")
    conversation_id = seed()
    branches = 0
    for turn in range(4):
        out = ask(subprocess_env, turn=turn)
        assert "left out of this request" not in out["stderr"]
        branches += "summarised into a new branch" in out["stderr"]
        chat = [b for b in sent(fake) if b.get("stream")][-1]
        system = chat["messages"][0]["content"]
        assert system.startswith("Be terse.\n\nSummary of the earlier conversation:\nSUMMARY ")
        assert chat["messages"][-1]["content"].startswith(f"T{turn} ")
        usage, context = out["usage"], out["context"]
        assert isinstance(usage, dict) and isinstance(context, dict)
        assert context["window"] == WINDOW and context["estimated"] is False
        assert context["used"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert model.refused == [] and branches >= 2
    for body in sent(fake):
        assert server_tokens(body) + int(body.get("max_tokens") or 0) <= WINDOW
    # The second summary folds in the first.
    assert "Earlier summary: SUMMARY 1:" in model.summaries[1]["messages"][1]["content"]
    with Store.open_default() as store:
        view = store.load(conversation_id)
        count = len(model.summaries)
        assert is_summary(view.path[0]) and view.path[0].content.startswith(f"SUMMARY {count}:")
        assert view.path[0].completion_tokens  # the summary's own usage is kept
        roots = [m for m in view.all_messages if m.parent_id is None]
        assert [m.role for m in roots] == ["user"] + ["system"] * branches
        assert view.branches[view.path[0].id].count == branches + 1  # the branch keys step

        original = store.path_to(roots[0].id)
        assert original[0].content.startswith("Q0 ")
        store.switch_to(roots[0].id)
        old = store.load(conversation_id).path
        assert len(old) == 2 * EXCHANGES  # the original branch is whole
        assert not any(m.content.startswith("T") for m in old)  # the prompts moved


def test_stop_refuses_with_one_sentence_and_sends_nothing(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, SmallModel(WINDOW))
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    seed()
    result = run_cli(
        "ask", "-p", "tiny", "-c", "--context-overflow", "stop", "one more", env=subprocess_env
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("llamachat: The conversation is longer than 'llama-tiny'")
    assert "(its context window of 512 tokens)" in lines[0]
    assert "drop-oldest" in lines[0] and "summarize" in lines[0]
    assert fake.received("POST", CHAT) == []


def test_a_conversations_own_policy_applies_to_ask_continue_under_the_flag(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    """A policy chosen for the conversation in Settings (kept with its parameters)."""
    fake.on("POST", CHAT, SmallModel(WINDOW))
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    conversation_id = seed()
    with Store.open_default() as store:
        store.update_settings(conversation_id, params={"context_overflow": "stop"})
    refused = run_cli("ask", "-p", "tiny", "-c", "one more", env=subprocess_env)
    assert refused.returncode == 1 and "drop-oldest" in refused.stderr
    assert fake.received("POST", CHAT) == []
    flag = run_cli(
        "ask", "-p", "tiny", "-c", "--context-overflow", "drop-oldest", "one more",
        env=subprocess_env,
    )  # fmt: skip
    assert flag.returncode == 0, flag.stderr  # the flag wins for this one ask


@pytest.mark.parametrize("refuse", ["error", "empty"])
def test_a_refusal_for_length_is_retried_once_under_the_policy(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str], refuse: str
) -> None:
    # The server counts each word as several tokens: llamachat's estimate is too low, so
    # its first request is refused (a 400 naming the sizes, or llama.cpp's empty 200).
    model = SmallModel(WINDOW, refuse=refuse, per_word=3)
    fake.on("POST", CHAT, model)
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    conversation_id = seed()
    out = ask(subprocess_env, turn=0)
    assert len(model.refused) == 1 and len(model.sizes) == 1
    assert len(fake.received("POST", CHAT)) == 2
    assert "sending it once more under drop-oldest" in out["stderr"]
    with Store.open_default() as store:  # the refused attempt left no failed reply behind
        statuses = {m.status for m in store.messages(conversation_id)}
        assert statuses == {MessageStatus.COMPLETE}


def test_a_second_refusal_is_not_retried_again(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    error = {"message": "Prompt is too long.", "code": "context_length_exceeded"}
    fake.on("POST", CHAT, json_reply({"error": error}, 400))  # whatever is sent
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    seed(10)
    result = run_cli("ask", "-p", "tiny", "-c", "once more", env=subprocess_env)
    assert result.returncode == 1
    assert len(fake.received("POST", CHAT)) == 2
    assert "longer than" in result.stderr.strip().splitlines()[-1]


def test_a_reply_that_began_is_never_sent_again(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    error = 'data: {"error": {"message": "context length exceeded", "code": 400}}\n\n'
    fake.on("POST", CHAT, sse_reply([chunk_event(" some"), chunk_event(" text"), error]))
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    seed(10)
    result = run_cli("ask", "-p", "tiny", "-c", "go on", env=subprocess_env)
    assert result.returncode == 1 and "some text" in result.stdout
    assert len(fake.received("POST", CHAT)) == 1


def test_a_server_without_usage_gives_an_estimate_marked_as_one(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, SmallModel(WINDOW, usage=False))
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    seed(2)
    out = ask(subprocess_env, turn=0)
    context = out["context"]
    assert isinstance(context, dict)
    assert context["window"] == WINDOW and context["estimated"] is True
    # five messages of about forty words, and the reply: a few hundred tokens
    assert 250 < context["used"] < WINDOW


@pytest.mark.parametrize("per_word", [1, 2])
def test_a_prompt_that_looks_too_long_alone_is_sent_and_refused_only_by_the_server(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str], per_word: int
) -> None:
    model = SmallModel(WINDOW, per_word=per_word)
    fake.on("POST", CHAT, model)
    configure(fake, tmp_path, context={"llama-tiny": WINDOW})
    # About 540 estimated tokens: more than the window leaves for a prompt (384), by estimate.
    result = run_cli("ask", "-p", "tiny", words(400), env=subprocess_env)
    assert len(fake.received("POST", CHAT)) == 1  # sent, and never again
    if per_word == 1:  # the server counts fewer tokens than estimated: it answers
        assert result.returncode == 0 and result.stdout.strip()
    else:
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("llamachat: The prompt alone is longer than 'llama-tiny' can read")


def test_a_summary_request_refused_as_too_long_leaves_the_turns_out_instead(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    model = SmallModel(WINDOW, refuse_summaries=True)
    fake.on("POST", CHAT, model)
    configure(fake, tmp_path, context_overflow="summarize", context={"llama-tiny": WINDOW})
    conversation_id = seed(20)
    out = ask(subprocess_env, turn=0)
    assert "request for a summary was itself refused as too long" in out["stderr"]
    assert "earlier messages were left out of this request" in out["stderr"]
    assert len(model.refused) == 1 and len(model.sizes) == 1  # one summary asked, one reply
    with Store.open_default() as store:  # no summary branch was made
        assert not any(m.role == "system" for m in store.messages(conversation_id))


def test_a_failed_summary_after_a_refusal_leaves_the_conversation_able_to_go_on(
    fake: FakeServer, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    too_long = {
        "message": "This model's maximum context length is 512 tokens. However, you requested "
        "2000 tokens (2000 in the messages, 0 in the completion).",
        "code": "context_length_exceeded",
    }
    model = SmallModel(WINDOW)
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": too_long}, 400),  # the reply, refused
        json_reply({"error": {"message": "overloaded"}}, 500),  # the summary, failed
        model,
    )
    configure(fake, tmp_path, context_overflow="summarize", context={"llama-tiny": 4096})
    conversation_id = seed(12)
    failed = run_cli("ask", "-p", "tiny", "-c", "first try", env=subprocess_env)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    (line,) = [s for s in failed.stderr.splitlines() if "failed" in s]
    assert line.startswith("llamachat: Summarising the earlier conversation failed:")
    again = ask(subprocess_env, turn=1)  # the branch still ends where it should
    assert again["content"].strip()
    with Store.open_default() as store:
        leaf = store.conversation(conversation_id).active_leaf_id
        assert leaf is not None and store.message(leaf).role == "assistant"
