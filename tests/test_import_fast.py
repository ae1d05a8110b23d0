"""The fast import path: checked a field at a time, it must agree with the careful one.

``import_columns.check`` may only accept what ``importer.one_by_one`` accepts, and must
produce the very same columns; at any doubt it hands over (returns ``None``), and the
careful check names the bad message. The write that follows stores NULL for ``None``
and leaves an existing store untouched when it fails half-way.
"""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.store import import_columns, import_write
from llamachat.store.db import Store
from llamachat.store.importer import _IMPORTED_LIVE, ImportError_, one_by_one, plan
from tests.test_import import deep, export, message, write
from tests.tui_helpers import db_path

NOW = 1_700_000_000.0


def varied() -> list[dict[str, Any]]:
    """Valid messages using every shape the exporter (or a person) may write."""
    return [
        message(1, content=None, created_at=1_600_000_000, images=["data:image/png;base64,AA"]),
        message(
            2,
            "assistant",
            1,
            provider="segmind",
            model="m",
            cost_usd=1,
            credits_usd=0.5,
            prompt_tokens=0,
            completion_tokens=10**12,
            ttft=0,
            tokens_per_second=1e9,
            completed_at=1_600_000_001.5,
            raw={"id": "x", "usage": [1, 2.5, None]},
            params={"temperature": 0.2},
            reasoning="hm",
            reasoning_seconds=3,
            finish_reason="stop",
            status=None,
        ),
        message(3, "user", 2, created_at=None, images=[], status=""),
        message(4, "assistant", 3, status="queued", job_id="j1", job_status="QUEUED"),
        message(5, "assistant", 3, status="streaming", error_detail="d", content="part"),
        message(6, "system", None, status="failed", error="it broke", params=None),
        message(7, "user", 5, status="interrupted", created_at=0.0, cost_usd=999_999_999.5),
    ]


def test_the_fast_path_takes_every_shape_and_agrees_with_the_careful_one() -> None:
    messages = varied()
    fast = import_columns.check(copy.deepcopy(messages), NOW, _IMPORTED_LIVE)
    assert fast is not None  # it did not hand over: this file is the fast path's to take
    assert fast == one_by_one(copy.deepcopy(messages), NOW)
    columns, position = fast
    assert position == {n: n - 1 for n in range(1, 8)}
    assert columns[0] == [None, 0, 1, 2, 2, None, 4]  # parents, as positions


def test_a_message_without_some_fields_is_still_read_right() -> None:
    messages = varied()
    del messages[1]["raw"], messages[2]["status"], messages[5]["content"]
    fast = import_columns.check(copy.deepcopy(messages), NOW, _IMPORTED_LIVE)
    assert fast is not None and fast == one_by_one(messages, NOW)


BAD = {
    "id as text": (1, "id", "1"),
    "id true": (1, "id", True),
    "id twice": (2, "id", 1),
    "parent later": (0, "parent", 3),
    "parent itself": (2, "parent", 3),
    "parent unknown": (2, "parent", 99),
    "parent as float": (2, "parent", 1.0),
    "role wizard": (2, "role", "wizard"),
    "role a list": (2, "role", ["user"]),
    "content a number": (0, "content", 5),
    "images text": (0, "images", "a.png"),
    "images of numbers": (0, "images", [1]),
    "provider a number": (1, "provider", 3),
    "params a list": (1, "params", [1]),
    "params NaN inside": (1, "params", {"t": float("nan")}),
    "raw too deep": (1, "raw", deep(40)),
    "status unknown": (1, "status", "done"),
    "status a list": (1, "status", ["complete"]),
    "status a number": (1, "status", 3),
    "tokens negative": (1, "prompt_tokens", -1),
    "tokens too many": (1, "completion_tokens", 10**12 + 1),
    "tokens float": (1, "prompt_tokens", 3.0),
    "tokens true": (1, "prompt_tokens", True),
    "cost NaN": (1, "cost_usd", float("nan")),
    "cost infinite": (1, "cost_usd", float("inf")),
    "cost a billion": (1, "cost_usd", 1e9),
    "cost huge int": (1, "cost_usd", 10**400),
    "cost as text": (1, "cost_usd", "0.01"),
    "ttft negative": (1, "ttft", -0.1),
    "speed NaN": (1, "tokens_per_second", float("nan")),
    "created before 1970": (0, "created_at", -1.0),
    "created after 9999": (0, "created_at", 1e12),
    "created NaN": (0, "created_at", float("nan")),
    "created as text": (0, "created_at", "now"),
    "completed huge": (1, "completed_at", 1e300),
    "finish reason a number": (1, "finish_reason", 1),
    "reasoning a list": (1, "reasoning", ["x"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_the_fast_path_hands_over_whatever_the_careful_one_refuses(case: str) -> None:
    number, name, value = BAD[case]
    messages = varied()
    messages[number][name] = value
    assert import_columns.check(copy.deepcopy(messages), NOW, _IMPORTED_LIVE) is None
    with pytest.raises(ImportError_, match=f"message {number + 1}"):
        one_by_one(messages, NOW)


def test_a_message_that_is_not_an_object_is_handed_over() -> None:
    messages: list[Any] = [*varied(), "not a message"]
    assert import_columns.check(messages, NOW, _IMPORTED_LIVE) is None
    with pytest.raises(ImportError_, match="Message 8 is a text"):
        one_by_one(messages, NOW)


def test_missing_values_are_stored_as_null_not_as_nan(tmp_path: Path) -> None:
    data = export(2)
    data["messages"] = varied()
    data["conversation"]["active_leaf"] = 7
    assert main(["import", str(write(tmp_path, data))]) == 0
    with sqlite3.connect(db_path()) as db:
        kinds = db.execute(
            "SELECT typeof(parent_id), typeof(cost_usd), typeof(raw), typeof(job_id), "
            "typeof(images), typeof(reasoning) FROM messages ORDER BY id"
        ).fetchall()
    assert kinds[0] == ("null", "null", "null", "null", "text", "null")
    assert kinds[1] == ("integer", "real", "text", "null", "null", "text")
    assert kinds[2][:5] == ("integer", "null", "null", "null", "null")


# --- a write that fails half-way ----------------------------------------------------------


def search_state(store: Store) -> dict[str, Any]:
    """What searching the store finds, and the search index's own settings."""
    found = {w: [h.message_id for h in store.search(w)] for w in ("heron", "sourdough", "lamp")}
    config = store._read("SELECT k, v FROM messages_fts_config ORDER BY k")
    triggers = store._read("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    return {"found": found, "config": config, "triggers": sorted(triggers)}


def test_an_import_failing_while_indexing_leaves_the_store_and_its_search_as_they_were() -> None:
    with Store.open_default() as store:
        for words in ("a heron by the river", "sourdough bread", "a heron and a lamp"):
            c = store.create_conversation()
            store.add_message(c.id, "user", words)
        before = search_state(store)
        checked = plan({**export(3), "messages": [
            message(n, "user", n - 1 if n > 1 else None, content=f"heron lamp {n}")
            for n in range(1, 4)
        ]})  # fmt: skip

        def interrupt(what: str, done: int, total: int) -> None:
            if what == "Indexing for search":  # Ctrl-C once the words are being indexed
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            import_write.write(store, checked, interrupt)
        assert search_state(store) == before
        assert store._read("PRAGMA foreign_keys") == [(1,)]
        assert store._read("PRAGMA ignore_check_constraints") == [(0,)]
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # they hold again
            store._db.execute(
                "INSERT INTO messages (conversation_id, role, created_at) VALUES (1, 'wizard', 0)"
            )
    with sqlite3.connect(db_path()) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 3
        db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    with Store.open_default() as store:  # and the next import goes in whole
        assert import_write.write(store, checked) == 4
        assert len([hit for hit in store.search("lamp") if hit.message_id]) == 1 + 3
        assert search_state(store)["config"] == before["config"]  # the index's memory as it was


def test_a_large_import_uses_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llamachat.store import importer

    def careful(*args: Any) -> Any:
        raise AssertionError("the careful check ran on a valid export")

    monkeypatch.setattr(importer, "one_by_one", careful)
    assert main(["import", str(write(tmp_path, export(5_000)))]) == 0
    with Store.open_default() as store:
        assert len(store.load(1).path) == 5_000
