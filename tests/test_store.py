"""The conversation store: schema, migrations, branches, search, recovery."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llamachat.store.db import JOB_LIFETIME, Store, StoreError, _statements, fts_query
from llamachat.store.models import MATCH_END, MATCH_START, MessageStatus
from llamachat.store.schema import MIGRATIONS, SCHEMA_VERSION


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_pragmas_and_schema(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store._read("PRAGMA journal_mode")[0][0] == "wal"
    assert store._read("PRAGMA foreign_keys")[0][0] == 1
    assert store._read("PRAGMA busy_timeout")[0][0] >= 5000
    assert store.integrity_check() == "ok"


def test_migrates_a_first_release_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in _statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Old chat about herons', 1, 2)"
    )
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, created_at, status) "
        "VALUES (1, 'user', 'Tell me about grey herons', 1, 'complete'), "
        "(1, 'assistant', 'half a rep', 2, 'streaming')"
    )
    db.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        hits = store.search("herons")
        assert {h.message_id for h in hits} == {None, 1}  # title and message, backfilled
        recovery = store.recover()
        assert recovery.interrupted == 1  # an owner-less streaming row from the old schema
        assert store.message(2).status is MessageStatus.INTERRUPTED
        assert store.integrity_check() == "ok"


def test_refuses_a_newer_schema_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer llamachat"):
        Store(path)
    assert path.read_bytes() == before


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=r"is damaged .*move it aside"):
        Store(path)


def test_conversation_fields_and_flags(store: Store) -> None:
    c = store.create_conversation(
        system_prompt="Be kind.", provider="deepinfra", model="m", params={"temperature": 0.2}
    )
    assert c.title == ""
    store.add_message(c.id, "user", "\n  What is the   capital of France?\nThanks")
    assert store.conversation(c.id).title == "What is the capital of France?"
    store.add_message(c.id, "user", "A second prompt does not retitle")
    assert store.conversation(c.id).title == "What is the capital of France?"
    store.rename(c.id, "  Paris  question ")
    store.set_pinned(c.id, True)
    store.save_draft(c.id, "unsent\ndraft")
    store.update_settings(c.id, model="m2", params={"max_tokens": 5})
    got = store.conversation(c.id)
    assert (got.title, got.pinned, got.draft, got.model, got.params) == (
        "Paris question",
        True,
        "unsent\ndraft",
        "m2",
        {"max_tokens": 5},
    )
    assert got.system_prompt == "Be kind."
    store.set_archived(c.id, True)
    assert store.list_conversations() == []
    assert [s.id for s in store.list_conversations(archived=True)] == [c.id]
    with pytest.raises(KeyError):
        store.rename(999, "x")


def test_long_titles_are_cut(store: Store) -> None:
    c = store.create_conversation()
    store.add_message(c.id, "user", "word " * 50)
    title = store.conversation(c.id).title
    assert len(title) <= 60 and title.endswith("…")


def test_list_newest_first_with_counts_and_providers(store: Store) -> None:
    a = store.create_conversation(created_at=1)
    b = store.create_conversation(created_at=2)
    u = store.add_message(a.id, "user", "hi", created_at=10)
    store.add_message(
        a.id, "assistant", "hello", parent_id=u.id, provider="deepinfra", created_at=11
    )
    store.add_message(a.id, "assistant", "hey", parent_id=u.id, provider="segmind", created_at=12)
    store.add_message(b.id, "user", "yo", created_at=5)
    rows = store.list_conversations()
    assert [r.id for r in rows] == [a.id, b.id]
    assert rows[0].message_count == 3 and rows[0].providers == ("deepinfra", "segmind")
    store.set_pinned(b.id, True)
    assert [r.id for r in store.list_conversations(pinned_first=True)] == [b.id, a.id]
    assert store.latest_conversation_id() == a.id


def test_branches_regenerate_edit_and_switch(store: Store) -> None:
    c = store.create_conversation()
    u1 = store.add_message(c.id, "user", "first question")
    a1 = store.add_message(c.id, "assistant", "answer one", parent_id=u1.id)
    a2 = store.add_message(c.id, "assistant", "answer two (regenerated)", parent_id=u1.id)
    u2 = store.add_message(c.id, "user", "follow up", parent_id=a2.id)
    view = store.load(c.id)
    assert [m.id for m in view.path] == [u1.id, a2.id, u2.id]
    assert view.branches[a2.id].index == 2 and view.branches[a2.id].count == 2
    assert view.branches[u1.id].count == 1
    # An edited first prompt is a sibling of the original.
    e1 = store.add_message(c.id, "user", "first question, edited")
    view = store.load(c.id)
    assert [m.id for m in view.path] == [e1.id]
    assert view.branches[e1.id].sibling_ids == (u1.id, e1.id)
    # Step back to the original branch: down to its newest leaf.
    store.switch_to(u1.id)
    assert [m.id for m in store.load(c.id).path] == [u1.id, a2.id, u2.id]
    store.switch_to(a1.id)
    assert [m.id for m in store.load(c.id).path] == [u1.id, a1.id]
    assert [m.id for m in store.path_to(u2.id)] == [u1.id, a2.id, u2.id]
    assert len(store.load(c.id).all_messages) == 5


def test_delete_cascades_and_unindexes(store: Store) -> None:
    c = store.create_conversation()
    u = store.add_message(c.id, "user", "ephemeral pelican")
    store.add_message(c.id, "assistant", "pelican reply", parent_id=u.id)
    assert store.search("pelican")
    store.delete_conversation(c.id)
    assert store.search("pelican") == []
    assert store._read("SELECT COUNT(*) FROM messages")[0][0] == 0
    assert store.integrity_check() == "ok"


def test_search_ranking_snippets_and_prefixes(store: Store) -> None:
    c1 = store.create_conversation()
    store.add_message(c1.id, "user", "Something about cooking rice")
    c2 = store.create_conversation()
    u = store.add_message(c2.id, "user", "kangaroo kangaroo kangaroo facts")
    store.add_message(
        c2.id, "assistant", "Kangaroos live in Australia. A kangaroo can hop fast.", parent_id=u.id
    )
    c3 = store.create_conversation()
    store.add_message(
        c3.id,
        "user",
        "unrelated, but one kangaroo among many many other words here " + "filler " * 40,
    )
    hits = store.search("kangaroo")
    message_hits = [h for h in hits if h.message_id]
    assert message_hits[0].message_id == u.id  # densest match first
    assert [h.rank for h in message_hits] == sorted(h.rank for h in message_hits)
    assert f"{MATCH_START}kangaroo{MATCH_END}" in message_hits[0].snippet
    assert any(h.message_id is None and h.conversation_id == c2.id for h in hits)  # title hit
    assert store.search("kangar")  # prefix of the last word
    assert store.search("AUSTRALIA")  # case-insensitive
    assert store.search("hop australia")  # all words, any order
    assert store.search("hop antarctica") == []


def test_search_ignores_diacritics_and_syntax(store: Store) -> None:
    c = store.create_conversation()
    store.add_message(c.id, "user", "Un café très naïve")
    assert store.search("cafe naive")
    for hostile in [
        '"',
        "AND OR NOT",
        "(",
        "*",
        "col:value",
        "NEAR(a b)",
        "'; DROP TABLE messages; --",
        "",
    ]:
        store.search(hostile)  # never an FTS syntax error
    assert fts_query("a-b cd") == '"a" "b" "cd"*'
    assert fts_query("x y") == '"x" "y"'
    pasted = " ".join(f"word{i}" for i in range(500)) + " " + "z" * 5000
    query = fts_query(pasted)  # a pasted page: its first 16 words
    assert query.count('"') == 32 and len(query) < 200
    assert fts_query("y" * 100) == f'"{"y" * 64}"*'  # an enormous word: a prefix of it
    store.search(pasted)
    assert store._read("SELECT COUNT(*) FROM messages")[0][0] == 1


def test_streaming_rows_are_indexed_only_when_final(store: Store) -> None:
    c = store.create_conversation()
    reply = store.add_message(c.id, "assistant", "", status=MessageStatus.STREAMING)
    store.update_message(reply.id, content="partial walrus")
    assert store.search("walrus") == []
    store.update_message(reply.id, content="complete walrus reply", status="complete")
    assert [h.message_id for h in store.search("walrus")] == [reply.id]
    store.update_message(reply.id, content="edited narwhal")
    assert store.search("walrus") == [] and store.search("narwhal")
    assert store.integrity_check() == "ok"
    store._read("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")


def test_recover_marks_only_orphans(store: Store, tmp_path: Path) -> None:
    c = store.create_conversation()
    mine = store.add_message(
        c.id, "assistant", "mine, still streaming", status=MessageStatus.STREAMING
    )
    dead = store.add_message(c.id, "assistant", "orphan text", status=MessageStatus.STREAMING)
    old_job = store.add_message(
        c.id,
        "assistant",
        "",
        status=MessageStatus.QUEUED,
        job_id="old",
        created_at=time.time() - JOB_LIFETIME - 5,
    )
    young_job = store.add_message(
        c.id, "assistant", "", status=MessageStatus.QUEUED, job_id="young"
    )
    unconfirmed = store.add_message(c.id, "assistant", "", status=MessageStatus.QUEUED)
    # Pretend the last four were written by a process that has died.
    store._read(
        "UPDATE messages SET owner = ? WHERE id != ?",
        (f"{socket.gethostname()}:999999999", mine.id),
    )
    recovery = store.recover()
    assert (recovery.interrupted, recovery.expired, recovery.resumable) == (1, 2, 1)
    assert store.message(mine.id).status is MessageStatus.STREAMING
    orphan = store.message(dead.id)
    assert orphan.status is MessageStatus.INTERRUPTED and orphan.content == "orphan text"
    assert store.message(old_job.id).status is MessageStatus.FAILED
    assert "more than an hour" in (store.message(old_job.id).error or "")
    assert store.message(unconfirmed.id).status is MessageStatus.FAILED
    assert [m.id for m in store.resumable_jobs()] == [young_job.id]
    assert store.claim(young_job.id)


def test_ids_of_deleted_rows_are_never_given_again(store: Store) -> None:
    first = store.create_conversation(title="first")
    newest = store.create_conversation(title="newest")
    message = store.add_message(newest.id, "user", "hello")
    store.delete_conversation(newest.id)
    again = store.create_conversation(title="after the delete")
    assert again.id > newest.id  # not the id of the deleted one
    assert store.add_message(again.id, "user", "hi").id > message.id
    assert first.id < newest.id


def test_scripts_without_spaces_and_emoji_are_found_inside_a_run(store: Store) -> None:
    from llamachat.store.models import MATCH_END, MATCH_START

    c = store.create_conversation(title="日本語の会話")
    store.add_message(c.id, "user", "これは日本語のテストです。 I love 🦙 llamas")
    store.add_message(c.id, "user", "100% 中文_测试")
    hits = store.search("テスト")
    assert [h.message_id is not None for h in hits] == [True]
    assert f"{MATCH_START}テスト{MATCH_END}" in hits[0].snippet
    assert store.search("本語 テスト")[0].conversation_id == c.id  # every term must match
    assert store.search("🦙")[0].snippet.count(MATCH_START) == 1
    assert [h.message_id for h in store.search("会話")] == [None]  # the title
    assert len(store.search("中文_测")) == 1 and store.search("中文%测") == []  # LIKE is escaped
    assert store.search("テスト 不在") == []
