"""The chat window against replies whose encoding is hostile: it finishes, never hangs."""

from __future__ import annotations

from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, chunk_event, sse_reply
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_a_lone_surrogate_reply_finishes_with_a_replacement_character(
    fake: FakeServer,
) -> None:
    # It used to stay on "waiting for first token" for ever, the row left "streaming".
    lone = r'data: {"choices":[{"delta":{"content":"lone \ud800 surrogate"}}]}' + "\n\n"
    fake.on("POST", CHAT, sse_reply([lone, chunk_event(finish="stop"), "data: [DONE]\n\n"]))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hi", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot, limit=10)
        reply = views(app)[1]
        assert reply.message.status is MessageStatus.COMPLETE
        assert reply.text == "lone \ufffd surrogate"
    with Store.open_default() as store:
        rows = store._read("SELECT content, status FROM messages WHERE role = 'assistant'")
    assert rows == [("lone \ufffd surrogate", "complete")]
