"""Queued jobs left by an earlier run: resumed live in the open pane, and a stopped one waits."""

from __future__ import annotations

import json
import socket

from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, json_reply
from tests.tui_helpers import SIZE, configure_segmind, make_app, pane, views, wait_for

SLUG = "llama-v3p1-8b-instruct"
DEAD_OWNER = f"{socket.gethostname()}:999999999"


def left_job(job_id: str, *, stopped: bool = False) -> int:
    """A conversation whose last reply is a queued job of a process that died."""
    with Store.open_default() as store:
        c = store.create_conversation(provider="sg", model=SLUG)
        user = store.add_message(c.id, "user", "slow question", provider="sg")
        reply = store.add_message(
            c.id,
            "assistant",
            "",
            parent_id=user.id,
            status=MessageStatus.QUEUED,
            provider="sg",
            model=SLUG,
            job_id=job_id,
            job_status="stopped" if stopped else "QUEUED",
        )
        store._read("UPDATE messages SET owner = ? WHERE id = ?", (DEAD_OWNER, reply.id))
        return reply.id


def job_polls(fake: FakeServer) -> list[object]:
    return [r for r in fake.received("GET") if r.path.startswith("/v2/requests/")]


def completes(fake: FakeServer, job_id: str, text: str) -> None:
    output = json.dumps({"choices": [{"message": {"content": text}, "finish_reason": "stop"}]})
    fake.on("GET", f"/v2/requests/{job_id}", json_reply({"status": "COMPLETED", "output": output}))


async def test_a_left_job_is_resumed_in_its_pane_with_live_status_and_esc(
    fake: FakeServer,
) -> None:
    configure_segmind(fake)
    reply_id = left_job("job-9")
    fake.on("GET", "/v2/requests/job-9/status", json_reply({"status": "PROCESSING"}))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: pane(app).busy, pilot)
        await wait_for(lambda: "job job-9" in str(app.status_bar.render_status()), pilot)
        await wait_for(lambda: "processing" in str(app.status_bar.render_status()), pilot)
        await pilot.press("escape")  # a resumed job can be stopped like any other
        await wait_for(lambda: not pane(app).busy, pilot)
    with Store.open_default() as store:
        stopped = store.message(reply_id)
    assert stopped.status is MessageStatus.QUEUED and stopped.job_status == "stopped"

    polls = len(job_polls(fake))
    completes(fake, "job-9", "worth the wait")
    fake.on("GET", "/v2/requests/job-9/status", json_reply({"status": "COMPLETED"}))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) == 2, pilot)
        await pilot.pause(0.4)
        assert not pane(app).busy and len(job_polls(fake)) == polls  # stopped: it waits
        await pilot.press("shift+tab", "r")  # asked for: resumed
        await wait_for(lambda: views(app)[-1].text == "worth the wait", pilot)
        assert len(fake.received("POST")) == 0  # fetched, never paid for twice


async def test_left_jobs_of_other_conversations_finish_in_the_background(
    fake: FakeServer,
) -> None:
    configure_segmind(fake)
    background = left_job("job-bg")
    with Store.open_default() as store:  # newer: the one opened at start
        store.add_message(store.create_conversation().id, "user", "something else")
    fake.on("GET", "/v2/requests/job-bg/status", json_reply({"status": "COMPLETED"}))
    completes(fake, "job-bg", "done meanwhile")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: any("job-bg" in n.message for n in app._notifications), pilot)
        assert not pane(app).busy
    with Store.open_default() as store:
        done = store.message(background)
    assert done.status is MessageStatus.COMPLETE and done.content == "done meanwhile"
