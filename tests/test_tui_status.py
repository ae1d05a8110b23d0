"""What the pane and status bar say about retries, credits and keys stays true."""

from __future__ import annotations

from llamachat.tui.screens.picker import key_state
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


async def test_stopping_during_a_retry_wait_clears_the_countdown(fake: FakeServer) -> None:
    limited = json_reply({"error": {"message": "slow down"}}, 429, {"Retry-After": "5"})
    fake.on("POST", CHAT, limited)
    configure(fake, network={"max_retries": 2})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        notice = pane(app).notice
        await wait_for(lambda: notice.display and "Retrying in" in str(notice.render()), pilot)
        await pilot.press("escape")
        await wait_for(lambda: not pane(app).busy, pilot)
        await pilot.pause(0.05)
        assert not notice.display
        assert views(app)[-1].message.status.value == "interrupted"


async def test_credits_are_only_those_of_the_provider_in_use(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["from fake"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.switch_model("demo", "llama-3.1-8b-demo")  # the demo reports a balance
        await pilot.press(*"one", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert app.status_bar.status.credits is not None
        app.switch_model("fake", "fake-model")  # this one reports none
        await pilot.press(*"two", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        assert app.status_bar.status.credits is None
        assert "credits" not in str(app.status_bar.render())
    app = make_app()  # opened again: the demo's balance is in the history, not the status bar
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 4, pilot)
        await pilot.pause(0.1)
        assert pane(app).session.provider_name == "fake"
        assert app.status_bar.status.credits is None


async def test_picker_says_a_configured_key_is_there(fake: FakeServer) -> None:
    configure(fake)
    from llamachat.config import load_config
    from llamachat.config_write import write_config

    raw = dict(load_config().raw)
    raw["providers"]["fake"]["api_key"] = "sk-local-0123456789"
    write_config(raw)
    app = make_app()
    async with app.run_test(size=SIZE):
        assert key_state(app.workspace.provider("fake")) == "key from config"
        assert key_state(app.workspace.provider("local")) == "no key needed"
        assert key_state(app.workspace.provider("demo")) == "no key needed"


def test_next_poll_counts_on_while_the_job_keeps_its_state() -> None:
    import time

    from llamachat.tui.widgets.status_bar import PaneStatus, StatusBar

    bar = StatusBar()
    now = time.time()
    bar.status = PaneStatus(
        provider="Segmind", job_id="job-1", job_status="QUEUED", job_since=now - 9,
        next_poll_at=now - 2.6, poll_interval=2.0,
    )  # fmt: skip
    shown = str(bar.render_status())
    assert "queue: queued job job-1 · 9 s · next poll 1 s" in shown
