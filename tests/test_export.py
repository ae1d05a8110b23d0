"""Transcript exports, hostile content included, and the lossless JSON round trip."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from llamachat.store.db import Store
from llamachat.store.export import export, to_json_data
from llamachat.store.importer import ImportError_, import_data
from llamachat.store.models import MessageStatus

HOSTILE = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> [bold red]not markup[/] "
    "[link=https://evil.example]click[/link] \x1b[31mred\x1b[0m \x1b]52;c;cHduZWQ=\x07 "
    '<a href="javascript:alert(1)">js</a> [js](javascript:alert(1))'
)
CODE = "Here:\n\n```python\ndef f(x):\n    return x * 2  # <b>not bold</b>\n```\n\nDone."


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def build(store: Store) -> int:
    c = store.create_conversation(
        system_prompt="You are terse.",
        provider="deepinfra",
        model="m8b",
        params={"temperature": 0.3},
    )
    u1 = store.add_message(c.id, "user", "Show me code & <tags>")
    store.add_message(
        c.id, "assistant", "old branch", parent_id=u1.id, provider="deepinfra", model="m8b"
    )
    a1 = store.add_message(
        c.id,
        "assistant",
        CODE,
        parent_id=u1.id,
        provider="deepinfra",
        model="m8b",
        prompt_tokens=12,
        completion_tokens=30,
        cost_usd=0.000002,
        ttft=0.21,
        tokens_per_second=88.5,
        finish_reason="stop",
        raw={"timings": {"predicted_n": 30}},
    )
    u2 = store.add_message(
        c.id,
        "user",
        "Now something hostile",
        parent_id=a1.id,
        images=["data:image/png;base64,iVBORw0KGgo="],
    )
    store.add_message(
        c.id,
        "assistant",
        HOSTILE,
        parent_id=u2.id,
        provider="segmind",
        model="llama-v3p1-405b-instruct",
        status=MessageStatus.INTERRUPTED,
        error="Stopped before the reply was complete.",
        job_id="job-7",
        job_status="COMPLETED",
        credits_usd=4.2,
        cost_usd=0.001,
    )
    store.save_draft(c.id, "an unsent thought")
    store.set_pinned(c.id, True)
    return c.id


def test_markdown_front_matter_and_code_fences(store: Store) -> None:
    text = export(store.load(build(store)), "md")
    front = text.split("---")[1]
    assert 'title: "Show me code & <tags>"' in front
    assert 'providers: ["deepinfra", "segmind"]' in front
    assert "prompt_tokens: 12" in front and "completion_tokens: 30" in front
    assert "cost_usd: 0.001002" in front
    assert re.search(r'created: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', front)
    assert CODE in text  # fences intact
    assert "## Assistant (deepinfra / m8b)" in text
    assert "(interrupted: Stopped before the reply was complete.)" in text
    assert "old branch" not in text  # only the active branch


def test_markdown_closes_a_fence_a_reply_left_open(store: Store) -> None:
    from llamachat.store.export import close_fences

    c = store.create_conversation(title="unclosed")
    user = store.add_message(c.id, "user", "code?")
    reply = store.add_message(
        c.id, "assistant", "Start\n```python\nprint('x')\n", parent_id=user.id
    )
    store.add_message(c.id, "user", "thanks", parent_id=reply.id)
    text = export(store.load(c.id), "md")
    assert "print('x')\n```\n" in text
    after = text.split("print('x')\n```\n", 1)[1]
    assert "## You" in after and after.count("```") == 0  # the next heading is Markdown again
    assert close_fences("~~~~\nx\n~~~\n") == "~~~~\nx\n~~~\n~~~~"  # a shorter fence does not close
    assert close_fences("```\nx\n```\n") == "```\nx\n```\n"


def test_html_is_inert_and_themed(store: Store) -> None:
    page = export(store.load(build(store)), "html")
    lowered = page.lower()
    assert "<script" not in lowered
    assert "onerror=" not in lowered.replace("onerror=alert(1)&gt;", "")
    assert "<img" not in lowered
    assert 'href="javascript' not in lowered
    assert "&lt;script&gt;" in page
    assert "[bold red]not markup[/]" in page
    assert "\x1b" not in page and "\x07" not in page
    assert "default-src 'none'" in page
    assert "prefers-color-scheme: dark" in page
    assert '<code class="language-python">' in page
    assert page.count("<article") == 5  # system prompt + four messages of the active branch


def test_plain_text(store: Store) -> None:
    text = export(store.load(build(store)), "txt")
    assert text.startswith("Show me code & <tags>\nCreated ")
    assert "System prompt: You are terse." in text
    # Shown as typed, except that escape sequences are inert when the file is shown.
    assert "You, " in text and HOSTILE.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in text


def test_json_round_trip_is_lossless(store: Store, tmp_path: Path) -> None:
    original = to_json_data(store.load(build(store)))
    assert original["format"] == "llamachat.conversation" and original["version"] == 1
    assert (
        len(original["messages"]) == 5 and original["conversation"]["draft"] == "an unsent thought"
    )
    with Store(tmp_path / "other.sqlite3") as other:
        new_id = import_data(other, json.loads(json.dumps(original)))
        again = to_json_data(other.load(new_id))
    assert again == original


def test_large_message_exports(store: Store) -> None:
    c = store.create_conversation()
    big = ("lorem ipsum dolor sit amet " * 8000)[:200_000]
    store.add_message(c.id, "user", big)
    view = store.load(c.id)
    for fmt in ("md", "json", "html", "txt"):
        assert len(export(view, fmt)) >= 200_000


def test_import_openai_messages(store: Store) -> None:
    cid = import_data(
        store,
        {
            "title": "From another tool",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                    ],
                },
                {"role": "assistant", "content": "a cat"},
            ],
        },
    )
    view = store.load(cid)
    assert view.conversation.system_prompt == "Be brief."
    assert [(m.role, m.content) for m in view.path] == [
        ("user", "what is this"),
        ("assistant", "a cat"),
    ]
    assert view.path[0].images == ("data:image/png;base64,AA",)


@pytest.mark.parametrize(
    "data",
    [
        {"format": "llamachat.conversation", "version": 99, "conversation": {}, "messages": []},
        {"format": "llamachat.conversation", "version": 1, "messages": []},
        {"what": "ever"},
        [1, 2, 3],
    ],
)
def test_bad_imports_are_refused_cleanly(store: Store, data: object) -> None:
    with pytest.raises(ImportError_):
        import_data(store, data)


def test_no_secret_in_exports(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from llamachat.providers.errors import ErrorContext
    from llamachat.providers.reply_errors import http_error

    key = "di-secret-key-ABCDEF123456"
    error = http_error(
        ErrorContext("DeepInfra", "m", secrets=(key,)), 401, json.dumps({"error": f"bad key {key}"})
    )
    c = store.create_conversation()
    u = store.add_message(c.id, "user", "hi")
    store.add_message(
        c.id,
        "assistant",
        "",
        parent_id=u.id,
        status=MessageStatus.FAILED,
        error=error.message,
        error_detail=error.details(),
    )
    for fmt in ("md", "json", "html", "txt"):
        assert key not in export(store.load(c.id), fmt)
