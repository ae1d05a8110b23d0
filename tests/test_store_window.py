"""Reading a window of a long conversation's active path: the newest N, then older batches."""

from __future__ import annotations

from pathlib import Path

from llamachat.store.db import Store


def _chain(store: Store, count: int) -> tuple[int, list[int]]:
    conversation = store.create_conversation()
    ids: list[int] = []
    parent = None
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        parent = store.add_message(
            conversation.id,
            role,
            f"m{i}",
            parent_id=parent,
            prompt_tokens=i,
            completion_tokens=2 * i,
            cost_usd=0.5,
        ).id
        ids.append(parent)
    return conversation.id, ids


def test_windowed_load_is_the_tail_of_the_full_load_with_the_same_branches(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        cid, ids = _chain(store, 30)
        other = store.add_message(cid, "user", "another way", parent_id=ids[9])
        store.add_message(cid, "user", "a second root")
        store.switch_to(ids[29])
        full = store.load(cid)
        window = store.load(cid, last=7)
        assert [m.id for m in window.path] == [m.id for m in full.path][-7:]
        assert window.earlier is None  # some, left to path_totals to count
        assert {i: window.branches[i] for i in ids[-7:]} == {i: full.branches[i] for i in ids[-7:]}
        length, totals = store.path_totals(cid)
        assert length == 30
        assert totals == full.totals
        assert totals.cost_usd == 15.0  # 30 messages at $0.50 (the others cost nothing)
        older, branches = store.earlier(window.path[0].id, 5)
        assert [m.id for m in older] == ids[18:23]
        older, branches = store.earlier(ids[12], 100)  # stops at the root
        assert [m.id for m in older] == ids[:12]
        assert branches[ids[10]].count == 2 and other.id in branches[ids[10]].sibling_ids
        assert branches[ids[0]].count == 2  # two roots
        whole = store.load(cid, last=30)
        assert whole.earlier == 0 and len(whole.path) == 30 and whole.totals == full.totals


def test_distance_from_leaf_finds_messages_on_the_active_path_only(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        cid, ids = _chain(store, 10)
        side = store.add_message(cid, "assistant", "side", parent_id=ids[4], make_active=False)
        assert store.distance_from_leaf(cid, ids[9]) == 0
        assert store.distance_from_leaf(cid, ids[0]) == 9
        assert store.distance_from_leaf(cid, side.id) is None
