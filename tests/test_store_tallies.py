"""The sidebar's counts kept beside the conversations (schema version 7).

Listing conversations reads a page of them and their kept counts, never the messages; the
counts must follow every way a message comes and goes, and a database of the previous
schema must gain them in place, losing nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llamachat.cli import main
from llamachat.store.db import Store, _statements
from llamachat.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.test_import import export, write


def recounted(db: sqlite3.Connection | Store) -> dict[int, tuple[int, tuple[str, ...]]]:
    """Each conversation's messages and providers counted from the messages themselves."""
    sql = (
        "SELECT c.id, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id), "
        "(SELECT GROUP_CONCAT(p, ',') FROM (SELECT DISTINCT provider AS p FROM messages m "
        "WHERE m.conversation_id = c.id AND provider IS NOT NULL ORDER BY p)) "
        "FROM conversations c"
    )
    rows = db._read(sql) if isinstance(db, Store) else db.execute(sql).fetchall()
    return {r[0]: (r[1], tuple(r[2].split(",")) if r[2] else ()) for r in rows}


def listed(store: Store) -> dict[int, tuple[int, tuple[str, ...]]]:
    rows = store.list_conversations(1000) + store.list_conversations(1000, archived=True)
    return {r.id: (r.message_count, r.providers) for r in rows}


def old_database(path: Path) -> None:
    """A database as llamachat with schema version 6 left it, written as it wrote it."""
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:6]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 6")
    conversations = [
        (1, "herons", 10, 0, 0), (2, "bread", 20, 1, 0), (3, "old", 5, 0, 1), (4, "", 30, 0, 0)
    ]  # fmt: skip
    for cid, title, updated, pinned, archived in conversations:
        db.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, pinned, archived) "
            "VALUES ((SELECT last + 1 FROM id_high_water WHERE tbl = 'conversations'), "
            "?, 1, ?, ?, ?)",
            (title, updated, pinned, archived),
        )
        assert db.execute("SELECT MAX(id) FROM conversations").fetchone()[0] == cid
    messages = [
        (1, None, "user", "tell me about herons", None, "complete"),
        (1, 1, "assistant", "herons wade", "deepinfra", "complete"),
        (1, 1, "assistant", "herons fish", "segmind", "complete"),
        (1, 3, "user", "and egrets?", None, "complete"),
        (1, 4, "assistant", "egrets too", "segmind", "streaming"),
        (2, None, "user", "sourdough", None, "complete"),
        (2, 6, "assistant", "flour, water", "local", "complete"),
        (3, None, "system", "be brief", None, "complete"),
    ]
    for cid, parent, role, content, provider, status in messages:
        db.execute(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, provider, "
            "status, created_at) VALUES ((SELECT last + 1 FROM id_high_water WHERE tbl = "
            "'messages'), ?, ?, ?, ?, ?, ?, 1)",
            (cid, parent, role, content, provider, status),
        )
    db.close()


def dump(path: Path) -> dict[str, list[Any]]:
    """Every row of every table the old schema had, as it is."""
    with sqlite3.connect(path) as db:
        return {
            "conversations": db.execute(
                "SELECT id, title, created_at, updated_at, system_prompt, provider, model, "
                "params, archived, pinned, draft, active_leaf_id FROM conversations ORDER BY id"
            ).fetchall(),
            "messages": db.execute("SELECT * FROM messages ORDER BY id").fetchall(),
            "high water": db.execute("SELECT * FROM id_high_water ORDER BY tbl").fetchall(),
            "found": db.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'herons OR egrets' "
                "ORDER BY rowid"
            ).fetchall(),
        }


def test_a_version_6_database_gains_the_counts_in_place_and_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v6.sqlite3"
    old_database(path)
    before = dump(path)
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 7
        assert listed(store) == recounted(store) == {
            1: (5, ("deepinfra", "segmind")), 2: (2, ("local",)), 3: (1, ()), 4: (0, ()),
        }  # fmt: skip
        assert [r.id for r in store.list_conversations(pinned_first=True)] == [2, 4, 1]
        assert store.integrity_check() == "ok"
    assert dump(path) == before
    with Store(path) as store:  # and the counts go on from there
        store.add_message(4, "user", "first words")
        store.add_message(1, "assistant", "more", parent_id=2, provider="groq")
        store.delete_message(3)  # a segmind reply with its subtree: three messages
        assert listed(store) == recounted(store)
        assert listed(store)[1] == (3, ("deepinfra", "groq"))
        assert listed(store)[4] == (1, ())


def test_the_counts_follow_every_change(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        a = store.create_conversation()
        b = store.create_conversation()
        u = store.add_message(a.id, "user", "hi")
        r1 = store.add_message(a.id, "assistant", "one", parent_id=u.id, provider="deepinfra")
        r2 = store.add_message(a.id, "assistant", "two", parent_id=u.id, provider="deepinfra")
        store.add_message(b.id, "user", "yo")
        assert listed(store) == recounted(store) == {
            a.id: (3, ("deepinfra",)), b.id: (1, ()),
        }  # fmt: skip
        store.update_message(r2.id, provider="segmind")  # a retry with another provider
        assert listed(store)[a.id] == (3, ("deepinfra", "segmind"))
        store.update_message(r1.id, provider=None)
        assert listed(store)[a.id] == (3, ("segmind",))
        store.delete_message(r2.id)
        assert listed(store)[a.id] == (2, ())
        store.update_message(r1.id, content="edited")  # other changes leave the counts
        store.set_archived(a.id, True)
        assert listed(store) == recounted(store)
        store.delete_conversation(a.id)
        assert listed(store) == recounted(store) == {b.id: (1, ())}
        assert store._read("SELECT * FROM conversation_providers") == []


def test_an_import_keeps_the_counts_too(tmp_path: Path) -> None:
    data = export(6)
    for entry in data["messages"][1::2]:
        entry["provider"] = "deepinfra"
    data["messages"][-1]["provider"] = "segmind"
    with Store.open_default() as store:
        store.add_message(store.create_conversation().id, "user", "before", provider="local")
    assert main(["import", str(write(tmp_path, data))]) == 0
    with Store.open_default() as store:
        assert listed(store) == recounted(store)
        assert listed(store)[2] == (6, ("deepinfra", "segmind"))
        store.delete_conversation(2)
        assert listed(store) == recounted(store) == {1: (1, ("local",))}


def test_the_listing_reads_a_page_through_an_index_and_never_the_messages(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        for number in range(5):
            c = store.create_conversation()
            store.add_message(c.id, "user", f"message {number}", provider="p")
        store.set_archived(c.id, True)
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        for archived in (False, True):
            for pinned_first in (False, True):
                store.list_conversations(3, archived=archived, pinned_first=pinned_first)
        store._db.set_trace_callback(None)
        plans = [
            " / ".join(str(row[3]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements
        ]
    assert len(plans) == 8
    for plan in plans:
        assert "messages" not in plan, plan  # the counts are kept: no message is read
        assert "TEMP B-TREE" not in plan, plan  # the order comes from an index: no sort
        assert "SCAN conversations " not in plan + " ", plan


@pytest.mark.parametrize("pinned_first", [False, True])
def test_the_listing_order_and_page(tmp_path: Path, pinned_first: bool) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        ids = [store.create_conversation(created_at=float(n)).id for n in range(1, 8)]
        store.set_pinned(ids[1], True)
        store.set_pinned(ids[4], True)
        store.set_archived(ids[6], True)
        got = [r.id for r in store.list_conversations(4, pinned_first=pinned_first)]
    if pinned_first:
        assert got == [ids[4], ids[1], ids[5], ids[3]]
    else:
        assert got == [ids[5], ids[4], ids[3], ids[2]]


def test_start_up_finds_live_replies_through_an_index(tmp_path: Path) -> None:
    """Every start asks for replies still arriving: that read must not scan every message."""
    with Store(tmp_path / "db.sqlite3") as store:
        c = store.create_conversation()
        store.add_message(c.id, "user", "q")
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        store.recover()
        store.resumable_jobs()
        store.resumable_jobs(conversation_id=c.id, include_stopped=False)
        store._db.set_trace_callback(None)
        plans = [
            " / ".join(str(row[3]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            for sql in statements
            if "FROM messages" in sql
        ]
    assert len(plans) == 3
    for plan in plans:  # resumable_jobs scanned the whole table
        assert "messages_live" in plan and "SCAN messages" not in plan, plan
