"""The store under faults: a full disk, a lock, a read-only or damaged file, file modes.

A full disk is real: ``ask`` runs with a small file-size limit (``RLIMIT_FSIZE``), so
SQLite's writes past it fail as they would on a full disk. Read-only is real too: the
files are chmod-ed, and a test running as root drops its power to ignore file modes.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llamachat.config_write import write_config
from llamachat.store.db import Store, StoreError
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events

CHAT = "/v1/chat/completions"
#: The shared-memory index SQLite keeps beside a WAL database is 32 KiB: the limit lets
#: it be made, and only a few pages of the write-ahead log.
SMALL_DISK = 32 * 1024


def db_file(env: dict[str, str]) -> Path:
    return Path(env["LLAMACHAT_DATA_DIR"]) / "llamachat.sqlite3"


def run(
    *args: str,
    env: dict[str, str],
    stdin: str = "",
    preexec: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        preexec_fn=preexec,
    )


def small_disk() -> None:
    """In the child: files cannot grow past :data:`SMALL_DISK` (writes fail, no signal)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (SMALL_DISK, SMALL_DISK))


def file_modes_apply() -> None:
    """In the child: root loses its power to write files it may not write (mode bits count)."""
    if os.getuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl")


def existing_store(env: dict[str, str]) -> Path:
    """A database made (and closed) beforehand, as a person's would be."""
    path = db_file(env)
    Store(path).close()
    return path


# --- 1. a full disk ------------------------------------------------------------------


def test_disk_full_during_a_reply_ask_prints_it_all(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    path = existing_store(subprocess_env)
    tokens = [f"word{i:05d} " * 20 for i in range(600)]  # 120 KB: more than the disk takes
    fake.on("POST", CHAT, sse_reply(stream_events(tokens), delay=0.001))
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "tell me",
        env=subprocess_env, preexec=small_disk,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    assert result.stdout == "".join(tokens).rstrip(" ") + " \n" or result.stdout.startswith(
        "".join(tokens)
    )
    assert result.returncode == 0
    lines = [line for line in result.stderr.splitlines() if "could not be saved" in line]
    assert len(lines) == 1 and "full" in lines[0] and "free some space" in lines[0]
    assert "move it aside" not in result.stderr
    # What was saved is sound, and the reply is not left "streaming" (the next start
    # takes it out of that state if the full disk kept even that from being written).
    shown = run("history", "show", "1", "--json", env=subprocess_env)
    assert shown.returncode == 0, shown.stderr
    statuses = [m["status"] for m in json.loads(shown.stdout)["messages"]]
    assert "streaming" not in statuses
    with Store(path) as store:
        assert store.integrity_check() == "ok"


def test_disk_full_before_a_reply_ask_still_answers(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    existing_store(subprocess_env)
    fake.on("POST", CHAT, sse_reply(stream_events(["The ", "answer."])))
    prompt = "a long question " * 4000  # 64 KB: the prompt itself does not fit
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "-",
        env=subprocess_env, stdin=prompt, preexec=small_disk,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    assert result.stdout == "The answer.\n"
    assert result.returncode == 0
    assert result.stderr.count("could not be saved") == 1 and "full" in result.stderr
    assert fake.received()[0].json["messages"][-1]["content"] == prompt


# --- 2. locked, read-only, damaged ------------------------------------------------------


def test_a_locked_database_says_locked_not_move_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with Store(path, busy_timeout=0.2) as store:  # opening only reads: it works
            assert store.list_conversations() == []
            with pytest.raises(StoreError) as caught:
                store.create_conversation(title="x")
        message = str(caught.value)
        assert "locked by another program" in message and "move it aside" not in message
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_history_reads_while_another_program_holds_the_lock(
    subprocess_env: dict[str, str],
) -> None:
    path = existing_store(subprocess_env)
    with Store(path) as store:
        store.add_message(store.create_conversation().id, "user", "kept words")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        listed = run("history", "list", env=subprocess_env)
        assert listed.returncode == 0 and "kept words" in listed.stdout, listed.stderr
    finally:
        other.execute("ROLLBACK")
        other.close()


def make_read_only(data: Path) -> None:
    for item in data.iterdir():
        item.chmod(0o444)
    data.chmod(0o555)


def test_read_only_data_dir_still_lists_shows_searches_exports(
    subprocess_env: dict[str, str],
) -> None:
    path = existing_store(subprocess_env)
    with Store(path) as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "remember the lighthouse")
    make_read_only(path.parent)
    try:
        for args in (
            ("history", "list"),
            ("history", "show", "1"),
            ("history", "search", "lighthouse"),
            ("export", "1", "--format", "md"),
        ):
            result = run(*args, env=subprocess_env, preexec=file_modes_apply)
            assert result.returncode == 0, (args, result.stderr)
            assert "lighthouse" in result.stdout and "Traceback" not in result.stderr
        deleted = run(
            "history", "delete", "1", "--yes", env=subprocess_env, preexec=file_modes_apply
        )
        assert deleted.returncode != 0 and "Traceback" not in deleted.stderr
        assert "read-only" in deleted.stderr and "move it aside" not in deleted.stderr
    finally:
        path.parent.chmod(0o755)
    with Store(path) as store:
        assert store.list_conversations()[0].id == 1


def damaged_store(path: Path) -> None:
    """A database of many messages with pages in its middle overwritten."""
    with Store(path) as store:
        for c in range(20):
            conversation = store.create_conversation(title=f"chat {c}")
            for m in range(40):
                store.add_message(conversation.id, "user", f"message {c} {m} " + "x" * 300)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for offset in range(size // 3, 2 * size // 3, 8192):
            handle.seek(offset)
            handle.write(os.urandom(2048))


def test_damage_found_while_running_is_reported_once_and_stops_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite3"
    damaged_store(path)
    store = Store(path)
    errors: list[str] = []
    for conversation_id in range(1, 21):
        try:
            store.load(conversation_id)
        except StoreError as error:
            errors.append(str(error))
    assert errors, "the damaged pages were never read"
    assert "is damaged" in errors[0] and "move it aside" in errors[0]
    assert store.broken == errors[0]
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is damaged"):
        store.create_conversation(title="not into a damaged file")
    store.close()
    assert path.read_bytes() == before


def test_history_show_on_a_damaged_file_is_one_sentence(subprocess_env: dict[str, str]) -> None:
    path = db_file(subprocess_env)
    path.parent.mkdir(parents=True)
    damaged_store(path)
    outputs = [run("history", "show", str(i), env=subprocess_env) for i in range(1, 21)]
    assert all("Traceback" not in r.stderr for r in outputs)
    failed = [r for r in outputs if r.returncode != 0]
    assert failed and all("is damaged" in r.stderr for r in failed)


# --- 3. file modes ------------------------------------------------------------------------


def test_history_and_exports_are_private(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["hi"])))
    os.umask(0o022)
    result = run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hello", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    data = db_file(subprocess_env).parent
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(db_file(subprocess_env).stat().st_mode) == 0o600
    exported = data.parent / "out.md"
    assert run("export", "1", "-o", str(exported), env=subprocess_env).returncode == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600


def test_wal_files_are_private_while_open(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "data" / "h.sqlite3"
    with Store(path) as store:
        store.create_conversation(title="x")
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert stat.S_IMODE(side.stat().st_mode) == 0o600


def test_a_config_with_a_key_readable_by_others_is_warned_about(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    config = Path(subprocess_env["LLAMACHAT_CONFIG"])
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    providers = {"f": {"kind": "openai", "base_url": f"{fake.url}/v1", "api_key": "k" * 20}}
    write_config({"default_provider": "f", "providers": providers})
    quiet = run("ask", "-m", "m", "hi", env=subprocess_env)
    assert "chmod" not in quiet.stderr
    config.chmod(0o644)
    warned = run("ask", "-m", "m", "hi", env=subprocess_env)
    assert warned.returncode == 0 and warned.stdout == "ok\n"
    assert f"chmod 600 {config}" in warned.stderr and "k" * 20 not in warned.stderr


# --- 4. nothing left behind; --base-url conversations continue --------------------------


def test_a_failed_first_ask_leaves_no_conversation(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["first"])))
    assert run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", "keep me",
               env=subprocess_env).returncode == 0  # fmt: skip
    fake.on("POST", CHAT, json_reply({"error": {"message": "bad model"}}, status=400))
    failed = run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", "lost", env=subprocess_env)
    assert failed.returncode == 1
    listed = json.loads(run("history", "list", "--json", env=subprocess_env).stdout)
    assert [c["id"] for c in listed] == [1]
    # With --continue the conversation (and the person's words) stay.
    cont = run("ask", "-c", "1", "-m", "m", "again", env=subprocess_env)
    assert cont.returncode == 1
    shown = json.loads(run("history", "show", "1", "--json", env=subprocess_env).stdout)
    assert [m["content"] for m in shown["messages"] if m["role"] == "user"] == ["keep me", "again"]


def test_a_base_url_conversation_can_be_continued_without_a_configured_key(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    providers = {"deepinfra": {"kind": "deepinfra", "api_key": "di-secret-key-12345"}}
    write_config({"default_provider": "deepinfra", "providers": providers})
    fake.on("POST", CHAT, sse_reply(stream_events(["one"])))
    base = f"{fake.url}/v1".replace("http://", "http://user:pw@")
    first = run("ask", "--base-url", base, "-m", "m", "first", env=subprocess_env)
    assert first.returncode == 0, first.stderr
    fake.on("POST", CHAT, sse_reply(stream_events(["two"])))
    second = run("ask", "--continue", "second", env=subprocess_env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "two\n"
    sent = fake.received()[-1]
    assert [m["content"] for m in sent.json["messages"]] == ["first", "one", "second"]
    assert sent.json["model"] == "m"
    assert "di-secret-key-12345" not in json.dumps(sent.headers)
    stored = db_file(subprocess_env).read_bytes()
    assert b"user:pw@" not in stored


def test_a_history_that_cannot_even_be_opened_still_answers(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    """A full disk at the first start: the database cannot be made at all."""

    def tiny_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    fake.on("POST", CHAT, sse_reply(stream_events(["The ", "answer."])))
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "question",
        env=subprocess_env, preexec=tiny_disk,
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    assert result.stdout == "The answer.\n"  # it exited 2 with nothing when the disk was full
    assert result.returncode == 0
    assert result.stderr.count("will not be saved") == 1, result.stderr
    continued = run("ask", "--continue", "again", env=subprocess_env, preexec=tiny_disk)
    assert continued.returncode == 2 and "Traceback" not in continued.stderr
