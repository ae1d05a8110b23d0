"""Conversations with a server named only by ``ask --base-url``, continued in the TUI; the
TUI with no terminal."""

from __future__ import annotations

import json
import subprocess
import sys

from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"
KEY = "di-secret-key-12345678"


async def test_a_base_url_conversation_continues_in_the_tui(fake: FakeServer) -> None:
    configure(providers={"deepinfra": {"api_key": KEY}}, default_provider="deepinfra")
    url = f"{fake.url}/v1"
    with Store.open_default() as store:
        conversation = store.create_conversation(provider=url, model="m")
        user = store.add_message(conversation.id, "user", "first")
        store.add_message(
            conversation.id, "assistant", "one", parent_id=user.id, provider=url, model="m"
        )
    fake.on("POST", CHAT, sse_reply(stream_events(["two"])))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        await pilot.press(*"second", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        assert views(app)[-1].text == "two"  # it said "There is no provider named 'http…'"
    sent = fake.received()[-1]
    assert [m["content"] for m in sent.json["messages"]] == ["first", "one", "second"]
    assert KEY not in json.dumps(dict(sent.headers))  # no configured key goes to that server


def test_the_tui_with_no_terminal_refuses_in_one_sentence(
    subprocess_env: dict[str, str],
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llamachat"],
        input="hello\n",
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert result.returncode == 2  # it drew the app into the pipe and waited for ever
    assert "needs a terminal" in result.stderr and "llamachat ask" in result.stderr
    assert result.stdout == ""
