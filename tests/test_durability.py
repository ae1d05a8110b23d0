"""Nothing lost: SIGKILL mid-reply, two processes writing at once, a queued job after a restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from llamachat.config_write import write_config
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events

CHAT = "/v1/chat/completions"


def db_path(env: dict[str, str]) -> Path:
    return Path(env["LLAMACHAT_DATA_DIR"]) / "llamachat.sqlite3"


def _stored_words(env: dict[str, str]) -> int:
    """How many words of the reply being streamed are in the database so far."""
    path = db_path(env)
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchall()
        except sqlite3.Error:  # not made yet, or busy
            return 0
    return sum(str(row[0]).count("word") for row in rows)


def kill_mid_reply(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    """Start ``ask`` on a long streamed reply and SIGKILL it after 80 words arrived."""
    tokens = [f"word{i} " for i in range(300)]
    fake.on("POST", CHAT, sse_reply(stream_events(tokens), delay=0.01))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llamachat",
            "ask",
            "--base-url",
            f"{fake.url}/v1",
            "-m",
            "m",
            "-q",
            "Please write a long answer",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    )
    assert proc.stdout is not None
    received = b""
    while received.count(b"word") < 80:
        received += os.read(proc.stdout.fileno(), 4096)
    # Wait for a flush (every 250 ms) to have stored most of it: a condition, not a clock.
    deadline = time.monotonic() + 30
    while _stored_words(subprocess_env) < 60:
        assert time.monotonic() < deadline, "the streaming reply was never flushed"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_stream_keeps_prompt_and_partial_reply(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    kill_mid_reply(fake, subprocess_env)
    with Store(db_path(subprocess_env)) as store:
        assert store.integrity_check() == "ok"
        rows = store._read("SELECT role, content, status FROM messages ORDER BY id")
        assert rows[0] == ("user", "Please write a long answer", "complete")
        role, content, status = rows[1]
        assert role == "assistant" and status == "streaming"
        assert content.startswith("word0 word1 ") and content.count("word") >= 60
        assert "word299" not in content
        recovery = store.recover()  # what the next start does
        assert recovery.interrupted == 1
        reply = store.message(2)
        assert reply.status is MessageStatus.INTERRUPTED and reply.content == content

    # And the next `ask` start does the same on its own; the CLI shows the state.
    shown = subprocess.run(
        [sys.executable, "-m", "llamachat", "history", "show", "1"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=30,
    )
    assert "(interrupted: " in shown.stdout


def test_a_killed_reply_reads_interrupted_in_the_first_command_after(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    kill_mid_reply(fake, subprocess_env)

    def llamachat(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "llamachat", *args],
            capture_output=True,
            text=True,
            env=subprocess_env,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    # No TUI and no ask ran since the kill: the first reader already sees the truth.
    shown = json.loads(llamachat("history", "show", "1", "--json"))
    assert [m["status"] for m in shown["messages"]] == ["complete", "interrupted"]
    assert shown["messages"][1]["content"].startswith("word0 word1 ")
    assert "(interrupted: " in llamachat("history", "show", "1")
    exported = json.loads(llamachat("export", "1", "--format", "json"))
    assert exported["messages"][1]["status"] == "interrupted"
    assert "interrupted" in llamachat("export", "1", "--format", "md")


WRITER = textwrap.dedent(
    """
    import sys
    from llamachat.store.db import Store
    store = Store.open_default()
    name = sys.argv[1]
    c = store.create_conversation(title=name)
    parent = None
    for i in range(int(sys.argv[2])):
        parent = store.add_message(c.id, "user", f"{name} message {i}", parent_id=parent).id
        store.update_message(parent, content=f"{name} message {i} edited")
    print(c.id)
    """
)


def test_two_processes_write_at_once(subprocess_env: dict[str, str]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, "250"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env,
        )
        for name in ("tui", "ask")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    with Store(db_path(subprocess_env)) as store:
        counts = dict(
            store._read(
                "SELECT c.title, COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id GROUP BY c.title"
            )
        )
        assert counts == {"tui": 250, "ask": 250}
        assert len(store.search("tui edited")) == 20
        assert store.integrity_check() == "ok"


def test_queued_job_resumed_after_a_kill(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    slug = "llama-v3p1-70b-instruct"
    write_config(
        {
            "providers": {
                "sg": {
                    "kind": "segmind",
                    "base_url": fake.url,
                    "mode": "async",
                    "poll_interval": 0.05,
                    "default_model": slug,
                }
            }
        }
    )
    env = {**subprocess_env, "SEGMIND_API_KEY": "SG_abcdefghijklmnop"}
    fake.on(
        "POST",
        f"/v2/{slug}",
        json_reply(
            {"request_id": "job-42", "status": "QUEUED", "status_url": "s", "response_url": "r"}
        ),
    )
    fake.on("GET", "/v2/requests/job-42/status", json_reply({"status": "QUEUED"}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "ask", "-p", "sg", "Summarise War and Peace"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.time() + 20
    while len(fake.received("GET")) < 3 and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with Store(db_path(env)) as store:
        row = store.message(2)
        assert row.status is MessageStatus.QUEUED and row.job_id == "job-42"

    output = json.dumps(
        {
            "choices": [
                {"message": {"content": "A very long Russian novel."}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 8},  # a cost needs its tokens
        }
    )
    fake.on(
        "GET",
        "/v2/requests/job-42/status",
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "COMPLETED"}),
    )
    fake.on(
        "GET",
        "/v2/requests/job-42",
        json_reply({"status": "COMPLETED", "output": output, "metrics": {"cost": 0.01}}),
    )
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "history", "resume"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "reply received" in result.stdout
    with Store(db_path(env)) as store:
        row = store.message(2)
        assert row.status is MessageStatus.COMPLETE and row.content == "A very long Russian novel."
        assert row.cost_usd == 0.01
    assert len(fake.received("POST")) == 1
