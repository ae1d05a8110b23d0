"""A conversation continued from a summary branch (made by ``ask``) in the TUI: it opens,
shows the summary, and what the TUI sends carries the summary, not the turns it covers."""

from __future__ import annotations

from llamachat.context.fit import SUMMARY_MARK
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_a_summary_branch_opens_and_is_sent_as_part_of_the_system_message(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["fine"])))
    configure(fake)
    with Store.open_default() as store:
        c = store.create_conversation(
            system_prompt="Be terse.", provider="fake", model="fake-model"
        )
        old = store.add_message(c.id, "user", "old question")
        store.add_message(c.id, "assistant", "old answer", parent_id=old.id)
        summary = store.add_message(
            c.id, "system", "They talked about llamas.", make_active=False,
            provider="fake", model="fake-model", raw={"llamachat": SUMMARY_MARK},
        )  # fmt: skip
        kept = store.add_message(c.id, "user", "kept question", parent_id=summary.id)
        store.add_message(c.id, "assistant", "kept answer", parent_id=kept.id)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 3, pilot)
        first = views(app)[0]
        assert first.message.content == "They talked about llamas."
        assert first.branch is not None and first.branch.count == 2  # the original is a step away
        await pilot.press(*"next", "enter")
        await wait_for(lambda: not pane(app).busy and views(app)[-1].body.text == "fine", pilot)
    body = fake.received("POST", CHAT)[-1].json
    assert body["messages"] == [
        {
            "role": "system",
            "content": "Be terse.\n\nSummary of the earlier conversation:\nThey talked about llamas.",
        },
        {"role": "user", "content": "kept question"},
        {"role": "assistant", "content": "kept answer"},
        {"role": "user", "content": "next"},
    ]
