"""In the TUI, a queued Segmind job is never paid for twice and never lost by quitting."""

from __future__ import annotations

from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.screens.dialogs import ChoiceScreen
from tests.fakeserver import FakeServer, json_reply
from tests.test_tui_jobs import SLUG, completes, job_polls
from tests.tui_helpers import SIZE, configure_segmind, make_app, pane, views, wait_for


def segmind(fake: FakeServer, deadline: float = 600) -> None:
    configure_segmind(fake, poll_interval=0.05, deadline=deadline, default_model=SLUG)
    fake.on(
        "POST",
        f"/v2/{SLUG}",
        json_reply(
            {"request_id": "job-5", "status": "QUEUED", "status_url": "s", "response_url": "r"}
        ),
    )
    fake.on("GET", "/v2/requests/job-5/status", json_reply({"status": "PROCESSING"}))


def stored_reply() -> object:
    with Store.open_default() as store:
        conversation = store.latest_conversation_id()
        assert conversation is not None
        return store.load(conversation).path[-1]


async def test_quitting_while_queued_leaves_the_job_for_the_next_start(fake: FakeServer) -> None:
    segmind(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"slow question", "enter")
        await wait_for(lambda: app.status_bar.status.job_status == "PROCESSING", pilot)
        await pilot.press("ctrl+q")
    reply = stored_reply()
    assert reply.status is MessageStatus.QUEUED and reply.job_id == "job-5"  # type: ignore[attr-defined]
    assert reply.job_status != "stopped"  # type: ignore[attr-defined]

    fake.on("GET", "/v2/requests/job-5/status", json_reply({"status": "COMPLETED"}))
    completes(fake, "job-5", "fetched after the restart")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:  # polled again on its own
        await wait_for(lambda: views(app)[-1].text == "fetched after the restart", pilot)
    assert len(fake.received("POST")) == 1


async def test_esc_stops_waiting_and_says_how_to_resume(fake: FakeServer) -> None:
    segmind(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"slow question", "enter")
        await wait_for(lambda: app.status_bar.status.job_status == "PROCESSING", pilot)
        await pilot.press("escape")
        await wait_for(lambda: not pane(app).busy, pilot)
        await wait_for(lambda: views(app)[-1].error_text() is not None, pilot)
        view = views(app)[-1]
        assert "job job-5" in str(view.badge_text()) and "stopped" in str(view.badge_text())
        assert "press r to resume" in str(view.error_text())
    assert stored_reply().job_status == "stopped"  # type: ignore[attr-defined]


async def test_a_job_past_its_deadline_is_kept_and_r_resumes_it(fake: FakeServer) -> None:
    segmind(fake, deadline=0.2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"slow question", "enter")
        await wait_for(lambda: not pane(app).busy and len(views(app)) == 2, pilot)
        await wait_for(lambda: "paused" in str(views(app)[-1].badge_text()), pilot)
        view = views(app)[-1]
        assert view.message.status is MessageStatus.QUEUED
        assert "press r" in str(view.error_text())
        assert pane(app).prompt.text == ""  # not put back: sending it again would pay twice

        fake.on("GET", "/v2/requests/job-5/status", json_reply({"status": "COMPLETED"}))
        completes(fake, "job-5", "patience rewarded")
        view.focus()
        await pilot.press("r")
        await wait_for(lambda: views(app)[-1].text == "patience rewarded", pilot)
        assert views(app)[-1].message.status is MessageStatus.COMPLETE
    assert len(fake.received("POST")) == 1


async def test_ctrl_r_over_a_job_that_may_run_asks_before_paying_again(fake: FakeServer) -> None:
    segmind(fake, deadline=0.2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"slow question", "enter")
        await wait_for(lambda: "paused" in str(views(app)[-1].badge_text()), pilot)
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)

        await pilot.press("ctrl+r")  # resume is the first, focused answer
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        polls = len(job_polls(fake))
        await pilot.press("enter")
        await wait_for(lambda: len(job_polls(fake)) > polls, pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
        assert len(fake.received("POST")) == 1  # resumed, not submitted

        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("escape")  # cancel: nothing happens
        await wait_for(lambda: not isinstance(app.screen, ChoiceScreen), pilot)
        assert len(fake.received("POST")) == 1 and not pane(app).busy

        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.click("#choice-submit")  # asked for: a new, billed job
        await wait_for(lambda: len(fake.received("POST")) == 2, pilot)
        await wait_for(lambda: not pane(app).busy, pilot)
