"""``llamachat history resume`` on a full disk: one sentence per job, no traceback, and the
job keeps its id so that the next resume (with room again) fetches and saves its reply.

The disk is really full: the command runs with a small file-size limit (as in
``test_store_faults``), so SQLite's writes past it fail as they would on a full disk.
"""

from __future__ import annotations

import json
import socket

from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, json_reply
from tests.test_store_faults import db_file, existing_store, run, small_disk
from tests.tui_helpers import configure_segmind

SLUG = "llama-v3p1-8b-instruct"
DEAD_OWNER = f"{socket.gethostname()}:999999999"
ANSWER = "".join(f"word{i:05d} " * 20 for i in range(600))  # 120 KB: more than the disk takes


def left_job(job_id: str) -> int:
    """A queued reply whose process died before the job finished."""
    with Store.open_default() as store:
        c = store.create_conversation(provider="sg", model=SLUG)
        user = store.add_message(c.id, "user", "slow question", provider="sg")
        reply = store.add_message(
            c.id, "assistant", "", parent_id=user.id, status=MessageStatus.QUEUED,
            provider="sg", model=SLUG, job_id=job_id, job_status="QUEUED",
        )  # fmt: skip
        store._read("UPDATE messages SET owner = ? WHERE id = ?", (DEAD_OWNER, reply.id))
        return reply.id


def test_history_resume_on_a_full_disk_says_so_and_keeps_the_job(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    configure_segmind(fake)
    existing_store(subprocess_env)
    reply_id = left_job("job-disk")
    output = json.dumps({"choices": [{"message": {"content": ANSWER}, "finish_reason": "stop"}]})
    fake.on("GET", "/v2/requests/job-disk/status", json_reply({"status": "COMPLETED"}))
    fake.on("GET", "/v2/requests/job-disk", json_reply({"status": "COMPLETED", "output": output}))

    full = run("history", "resume", env=subprocess_env, preexec=small_disk)
    assert "Traceback" not in full.stderr + full.stdout
    lines = full.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"message {reply_id}: ")
    assert "could not be saved" in lines[0] and "full" in lines[0], full.stdout
    with Store(db_file(subprocess_env)) as store:
        kept = store.message(reply_id)
        assert store.integrity_check() == "ok"
    assert kept.status is MessageStatus.QUEUED and kept.job_id == "job-disk"

    again = run("history", "resume", env=subprocess_env)  # room again: fetched, not re-paid
    assert again.stdout == f"message {reply_id}: reply received.\n", again.stderr
    with Store(db_file(subprocess_env)) as store:
        done = store.message(reply_id)
    assert done.status is MessageStatus.COMPLETE and done.content == ANSWER
    assert fake.received("POST") == []
