"""``llamachat import`` against hostile files: checked before writing, all or nothing, fast.

Every test drives the real command (``llamachat.cli.main`` or a subprocess) against a
real SQLite file in the test's data dir, and reads the result back with ``sqlite3``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from tests.fakeserver import FakeServer
from tests.tui_helpers import SIZE, configure_segmind, db_path, make_app, pane, views, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "import"
NOW = time.time()


def message(
    number: int, role: str = "user", parent: int | None = None, **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": number,
        "parent": parent,
        "role": role,
        "content": f"message number {number}",
        "status": "complete",
        "created_at": NOW - 100 + number,
    }
    entry.update(extra)
    return entry


def export(messages: int = 3) -> dict[str, Any]:
    """A valid llamachat export of ``messages`` alternating messages in one chain."""
    return {
        "format": "llamachat.conversation",
        "version": 1,
        "conversation": {
            "title": "Imported",
            "created_at": NOW - 200,
            "updated_at": NOW - 50,
            "params": {"temperature": 0.5},
            "active_leaf": messages,
        },
        "messages": [
            message(n, "user" if n % 2 else "assistant", n - 1 if n > 1 else None)
            for n in range(1, messages + 1)
        ],
    }


def counts() -> tuple[int, int]:
    """Conversations and messages in the store file (0, 0 when there is no file yet)."""
    if not db_path().exists():
        return 0, 0
    with sqlite3.connect(db_path()) as db:
        return (
            db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
        )


def write(tmp_path: Path, data: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN is written as NaN, as Python does
    return path


def set_in(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


BAD_VALUES = {
    "conversation time as text": (
        set_in(("conversation", "created_at"), "yesterday"), "conversation", "created_at"),
    "message time 1e300": (set_in(("messages", 1, "created_at"), 1e300), "message 2", "created_at"),
    "message time NaN": (
        set_in(("messages", 1, "created_at"), float("nan")), "message 2", "created_at"),
    "tokens as text": (set_in(("messages", 2, "prompt_tokens"), "12"), "message 3", "prompt_tokens"),
    "negative tokens": (
        set_in(("messages", 1, "completion_tokens"), -5), "message 2", "completion_tokens"),
    "cost NaN": (set_in(("messages", 1, "cost_usd"), float("nan")), "message 2", "cost_usd"),
    "cost as text": (set_in(("messages", 1, "cost_usd"), "0.01"), "message 2", "cost_usd"),
    "negative cost": (set_in(("messages", 1, "credits_usd"), -1.0), "message 2", "credits_usd"),
    "params a list": (set_in(("conversation", "params"), [1, 2]), "conversation", "params"),
    "message params a list": (set_in(("messages", 0, "params"), ["x"]), "message 1", "params"),
    "version as text": (set_in(("version",), "1"), "version", "version"),
    "unknown role": (set_in(("messages", 2, "role"), "wizard"), "message 3", "role"),
    "absurd nesting": (set_in(("messages", 1, "raw"), deep(200)), "message 2", "nested"),
    "content a number": (set_in(("messages", 0, "content"), 123), "message 1", "content"),
    "parent unknown": (set_in(("messages", 2, "parent"), 99), "message 3", "parent"),
    # An OSC 0 in a provider name renamed the terminal window from `history list`.
    "escape in a provider": (
        set_in(("messages", 1, "provider"), "p\x1b]0;PWNED\x07"), "message 2", "provider"),
    "escape in a model": (
        set_in(("conversation", "model"), "m\x1b]52;c;ZXZpbA==\x07"), "conversation", "model"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_bad_values_are_refused_before_anything_is_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, where, field = BAD_VALUES[case]
    data = export()
    change(data)
    path = write(tmp_path, data)
    assert main(["import", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert where in err and field in err and "Nothing was imported" in err
    assert "Traceback" not in err
    assert counts() == (0, 0)


def test_a_file_nested_absurdly_deep_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nests its JSON too deeply" in err and len(err.strip().splitlines()) == 1


def test_a_file_over_the_size_cap_is_refused_and_the_cap_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = export()
    data["conversation"]["draft"] = "x" * (2 * 1024 * 1024)
    path = write(tmp_path, data)
    assert main(["import", "--max-size", "1", str(path)]) == 2
    err = capsys.readouterr().err
    assert "larger than 1 MB" in err and "--max-size" in err
    assert counts() == (0, 0)
    assert main(["import", "--max-size", "3", str(path)]) == 0  # raised: it goes in


def test_a_device_is_not_read_for_ever(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", "import", "/dev/zero"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_a_file_bad_at_its_third_message_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open_default() as store:
        kept = store.create_conversation(title="already here")
        store.add_message(kept.id, "user", "hello")
    before = counts()
    data = export(5)
    data["messages"][2]["role"] = "wizard"
    assert main(["import", str(write(tmp_path, data))]) == 2
    assert "message 3" in capsys.readouterr().err
    assert counts() == before == (1, 1)


def test_a_large_import_is_fast_searchable_and_shows_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = export(20_000)
    data["messages"][-1]["content"] = "the zanzibarquux is last"
    path = write(tmp_path, data)
    assert main(["import", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "Imported as conversation 1.\n"  # stdout stays clean
    assert "Importing: 20,000 of 20,000 messages (100%)" in err
    assert "Indexing for search: 20,000 of 20,000 messages (100%)" in err
    assert counts() == (1, 20_000)
    with Store.open_default() as store:
        hits = store.search("zanzibarquux")
        view = store.load(1)
    assert [h.message_id for h in hits] == [view.path[-1].id]
    assert len(view.path) == 20_000 and view.conversation.params == {"temperature": 0.5}
    with sqlite3.connect(db_path()) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    with Store.open_default() as store:  # the store's own triggers work as before
        later = store.add_message(1, "user", "a quokkaplatypus afterwards", parent_id=20_000)
        store.delete_conversation(1)
        again = store.add_message(store.create_conversation().id, "user", "next")
        assert later.id == 20_001 and again.id == 20_002  # ids are not given twice
        assert store.search("quokkaplatypus") == [] and store.search("zanzibarquux") == []
        assert again.id in [h.message_id for h in store.search("next")]
        assert store._read("PRAGMA foreign_keys") == [(1,)]  # checked again after the import


def test_an_import_round_trips_every_branch(tmp_path: Path) -> None:
    data = export(3)
    data["messages"].append(message(4, "assistant", 1, content="another reply", cost_usd=0.25))
    data["conversation"]["active_leaf"] = 4
    assert main(["import", str(write(tmp_path, data))]) == 0
    with Store.open_default() as store:
        view = store.load(1)
    assert [m.content for m in view.path] == ["message number 1", "another reply"]
    assert view.path[-1].cost_usd == 0.25 and view.branches[view.path[-1].id].count == 2


# --- an imported queued job ------------------------------------------------------------


def job_polls(fake: FakeServer) -> list[object]:
    return [r for r in fake.received() if r.path.startswith("/v2/requests/")]


def test_an_imported_queued_job_is_never_polled_with_the_persons_key(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_segmind(fake)
    data = json.loads((FIXTURES / "queued_segmind_job.json").read_text(encoding="utf-8"))
    for entry in data["messages"]:  # young by this machine's clock: the most tempting case
        entry["created_at"] = time.time() - 5
    assert main(["import", str(write(tmp_path, data))]) == 0
    assert main(["history", "resume"]) == 0
    assert "No queued jobs to resume." in capsys.readouterr().out
    assert job_polls(fake) == []

    async def start_the_app() -> None:  # the app resumes left jobs at start-up
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.active_pane is not None and len(views(app)) == 2, pilot)
            assert not pane(app).busy

    asyncio.run(start_the_app())
    assert job_polls(fake) == []
    with Store.open_default() as store:
        reply = store.messages(1)[-1]
    assert reply.status == "failed" and "does not fetch jobs from an imported file" in (
        reply.error or ""
    )
    assert reply.job_id == data["messages"][-1]["job_id"]  # kept, for the record


def test_a_stored_job_from_the_future_is_not_resumable(tmp_path: Path) -> None:
    with Store.open_default() as store:
        c = store.create_conversation()
        user = store.add_message(c.id, "user", "q")
        reply = store.add_message(
            c.id,
            "assistant",
            "",
            parent_id=user.id,
            status=MessageStatus.QUEUED,
            job_id="j",
            provider="sg",
        )
    with sqlite3.connect(db_path()) as db:
        db.execute(
            "UPDATE messages SET created_at = ?, owner = NULL WHERE id = ?",
            (time.time() + 86_400, reply.id),
        )
    with Store(db_path()) as store:
        assert store.resumable_jobs() == []
        assert store.recover().resumable == 0
        error = store.message(reply.id).error or ""
        assert "later than this machine's clock" in error  # not "more than an hour old"
