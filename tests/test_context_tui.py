"""A conversation continued from a summary branch (made by ``ask``) in the TUI: it opens,
shows the summary, and what the TUI sends carries the summary, not the turns it covers."""

from __future__ import annotations

from llamachat.context.fit import SUMMARY_MARK
from llamachat.store.db import Store
from llamachat.store.models import Conversation
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.small_model import SmallModel, words
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
        await wait_for(lambda: not pane(app).busy and views(app)[-1].text == "fine", pilot)
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


def _ten_windows_long(fake: FakeServer) -> tuple[SmallModel, Conversation]:
    """A 512-token model on the fake server and a stored conversation of about 5,300 of its
    tokens (60 exchanges): ten times its window."""
    model = SmallModel(window=512)
    fake.on("POST", CHAT, model)
    table = {"kind": "openai", "base_url": f"{fake.url}/v1", "default_model": "fake-model"}
    configure(fake, providers={"fake": {**table, "context": {"fake-model": 512}}})
    with Store.open_default() as store:
        c = store.create_conversation(provider="fake", model="fake-model")
        parent = None
        for index in range(60):
            prompt = store.add_message(c.id, "user", f"Q{index} " + words(39), parent_id=parent)
            parent = store.add_message(
                c.id, "assistant", f"A{index} " + words(39, 3), parent_id=prompt.id,
                provider="fake", model="fake-model",
            ).id  # fmt: skip
    return model, c


async def test_a_conversation_ten_times_the_window_keeps_answering_in_the_tui(
    fake: FakeServer,
) -> None:
    """drop-oldest in the TUI: each request fits, a notice says what was left out, and the
    status bar's meter shows the server's figure after the reply."""
    from llamachat.tui.widgets.status_bar import context_meter

    model, _ = _ten_windows_long(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: pane(app).status.context_used is not None, pilot)
        before = pane(app).status
        assert before.context_window == 512 and before.context_estimated
        assert str(context_meter(before)).startswith("ctx ~")  # an estimate, marked
        for turn in range(1, 4):  # it failed with "longer than the context window" every time
            await pilot.press(*f"question {turn}", "enter")
            await wait_for(lambda n=turn: not pane(app).busy and len(model.sizes) == n, pilot)
            assert views(app)[-1].message.status.value == "complete"
        assert model.refused == [] and all(size <= 512 for size in model.sizes)
        assert any("left out" in n.message for n in app._notifications)
        after = pane(app).status
        assert after.context_used == model.sizes[-1] + 40  # the server's usage, exact
        assert not after.context_estimated and "~" not in str(context_meter(after))
        shown = f"ctx {after.context_used}/512 {after.context_used / 512:.0%}"
        assert shown in str(app.status_bar.render_status())
        assert (after.context_used > 0.8 * 512) == ("yellow" in str(context_meter(after).style))


async def test_a_conversations_own_policy_is_set_in_settings_and_kept(fake: FakeServer) -> None:
    """Settings gives this conversation `stop`: the next send past the window is refused
    (nothing reaches the server), and the choice is kept with the conversation for `ask -c`."""
    from textual.widgets import Select

    from llamachat.context.settings import conversation_policy
    from llamachat.tui.screens.settings import SettingsScreen

    model, c = _ten_windows_long(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) > 0, pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#conv--context_overflow", Select).value = "stop"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert pane(app).session.context_overflow == "stop"
        await pilot.press(*"one more", "enter")
        await wait_for(lambda: not pane(app).busy and pane(app).notice.display, pilot)
        said = str(views(app)[-1].error_text()) + str(pane(app).notice.render())
        assert "context window" in said and "drop-oldest" in said, said
    assert model.sizes == [] and model.refused == []  # refused before anything was sent
    with Store.open_default() as store:
        assert conversation_policy(store.conversation(c.id).params) == "stop"
