"""The active path of a conversation, read a window at a time.

A conversation of a million messages opens by walking parent ids in SQL from its
active leaf and stopping after the newest N (a recursive CTE with a LIMIT), so
only those rows are read and turned into :class:`Message` objects. What the
window leaves out is counted and summed in SQL (a second walk that reads three
numbers per row), and branch positions are asked for the window's messages only.
Every walk is bounded by the conversation's size, so a damaged store whose parent
ids form a cycle cannot make one loop for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llamachat.store.models import Branch, Message, Totals

#: ``Store._read``: runs one query under the store's lock.
Read = Callable[[str, Sequence[Any]], list[Any]]

#: Ids per ``IN (...)`` list (SQLite allows at least 999 parameters).
_CHUNK = 500


def size(read: Read, conversation_id: int) -> int:
    """How many messages the conversation has, every branch (read from an index only)."""
    rows = read("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,))
    return int(rows[0][0])


def bound(read: Read) -> int:
    """More steps than any path has: the number of message ids ever given (read at once)."""
    rows = read("SELECT last FROM id_high_water WHERE tbl = 'messages'", ())
    return int(rows[0][0]) + 1 if rows else 1 << 62


def active_leaf(read: Read, conversation_id: int, leaf: int | None) -> int | None:
    """``leaf`` if it is a message of the conversation, else its newest message, else None."""
    if leaf is not None:
        rows = read(
            "SELECT id FROM messages WHERE id = ? AND conversation_id = ?", (leaf, conversation_id)
        )
        if rows:
            return leaf
    rows = read("SELECT MAX(id) FROM messages WHERE conversation_id = ?", (conversation_id,))
    return rows[0][0] if rows else None


def window(read: Read, columns: str, leaf: int, last: int | None) -> list[Sequence[Any]]:
    """The rows of the newest ``last`` messages of the path ending at ``leaf`` (``None``:
    all of them), oldest first."""
    prefixed = ", ".join("m." + c.strip() for c in columns.split(","))
    return read(
        f"""
        WITH RECURSIVE chain(id, depth) AS (
            SELECT ?, 0
            UNION ALL
            SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
            WHERE m.parent_id IS NOT NULL
            LIMIT ?
        )
        SELECT {prefixed} FROM chain JOIN messages m ON m.id = chain.id ORDER BY chain.depth DESC
        """,
        (leaf, -1 if last is None else max(0, last)),  # LIMIT -1: no limit
    )


def totals_from(read: Read, message_id: int | None, bound: int) -> tuple[int, int, int]:
    """Messages, prompt tokens and completion tokens from ``message_id`` up to the root."""
    if message_id is None:
        return 0, 0, 0
    rows = read(
        """
        WITH RECURSIVE chain(parent, depth, tokens_in, tokens_out) AS (
            SELECT parent_id, 1, prompt_tokens, completion_tokens FROM messages WHERE id = ?
            UNION ALL
            SELECT m.parent_id, chain.depth + 1, m.prompt_tokens, m.completion_tokens
            FROM messages m JOIN chain ON m.id = chain.parent
            WHERE chain.depth < ?
        )
        SELECT COUNT(*), COALESCE(SUM(tokens_in), 0), COALESCE(SUM(tokens_out), 0) FROM chain
        """,
        (message_id, bound),
    )
    count, tokens_in, tokens_out = rows[0]
    return int(count), int(tokens_in), int(tokens_out)


def cost(read: Read, conversation_id: int) -> float:
    """What the whole conversation cost, every branch."""
    rows = read(
        "SELECT TOTAL(cost_usd) FROM messages WHERE conversation_id = ?", (conversation_id,)
    )
    return float(rows[0][0])


def path_totals(read: Read, conversation_id: int, leaf: int | None) -> tuple[int, Totals]:
    """The length of the path ending at ``leaf``, its tokens, and the conversation's cost.

    This walks the whole path: a second or more on a million messages, so the TUI asks
    for it in a thread (see :meth:`Store.path_totals`).
    """
    length, tokens_in, tokens_out = totals_from(read, leaf, bound(read))
    return length, Totals(tokens_in, tokens_out, cost(read, conversation_id))


def branches(read: Read, conversation_id: int, path: Sequence[Message]) -> dict[int, Branch]:
    """Where each message of ``path`` sits among its siblings (siblings in id order)."""
    parents = sorted({m.parent_id for m in path if m.parent_id is not None})
    children: dict[int | None, list[int]] = {}
    for start in range(0, len(parents), _CHUNK):
        chunk = parents[start : start + _CHUNK]
        rows = read(
            f"SELECT parent_id, id FROM messages WHERE parent_id IN "
            f"({', '.join('?' for _ in chunk)}) ORDER BY id",
            chunk,
        )
        for parent, child in rows:
            children.setdefault(parent, []).append(child)
    if any(m.parent_id is None for m in path):
        rows = read(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS NULL ORDER BY id",
            (conversation_id,),
        )
        children[None] = [r[0] for r in rows]
    result: dict[int, Branch] = {}
    for m in path:
        siblings = children.get(m.parent_id) or [m.id]
        if m.id not in siblings:
            siblings = [m.id]
        result[m.id] = Branch(siblings.index(m.id) + 1, len(siblings), tuple(siblings))
    return result


def distance(read: Read, leaf: int, message_id: int, bound: int) -> int | None:
    """How many steps above ``leaf`` ``message_id`` is (0: the leaf), or None if not above it."""
    rows = read(
        """
        WITH RECURSIVE chain(id, depth) AS (
            SELECT ?, 0
            UNION ALL
            SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
            WHERE m.parent_id IS NOT NULL AND chain.id != ? AND chain.depth < ?
        )
        SELECT depth FROM chain WHERE id = ?
        """,
        (leaf, message_id, bound, message_id),
    )
    return int(rows[0][0]) if rows else None
