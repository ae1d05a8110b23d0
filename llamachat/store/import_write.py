"""Writing a checked import: one transaction, batched, the per-row triggers' work done once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llamachat.store.db import Store
from llamachat.store.import_file import collector_paused

#: Messages written per ``executemany``; progress is reported after each batch.
BATCH = 10_000
#: Messages added to the search index per statement (progress is reported after each).
INDEX_BATCH = 100_000

#: Called as ``progress(what, messages_done, messages_in_all)`` after each batch, where
#: ``what`` is "Importing" (writing the messages) or "Indexing for search".
Progress = Callable[[str, int, int], None]

COLUMNS = (
    "id", "conversation_id", "parent_id", "role", "content", "images", "provider", "model",
    "params", "status", "finish_reason", "prompt_tokens", "completion_tokens", "cost_usd",
    "credits_usd", "job_id", "job_status", "error", "error_detail", "raw", "created_at",
    "completed_at", "ttft", "tokens_per_second", "reasoning", "reasoning_seconds",
)  # fmt: skip
#: The triggers an import does the work of once, for all its messages (see :func:`write`).
_PER_ROW_TRIGGERS = ("messages_fts_insert", "messages_high_water")
#: Where ``created_at`` sits in a planned row (which starts at ``parent_id``).
_CREATED = COLUMNS.index("created_at") - 2


@dataclass
class Plan:
    """A checked import, ready to write: nothing in it can fail a column's rules."""

    title: str
    created_at: float
    updated_at: float | None
    system_prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    pinned: bool = False
    draft: str = ""
    #: Index (into ``messages``) of the active leaf, or ``None`` for the last message.
    active_leaf: int | None = None
    #: One row per message: parent index (or ``None``), then the values of ``COLUMNS[3:]``.
    messages: list[tuple[Any, ...]] = field(default_factory=list)


def write(store: Store, checked: Plan, progress: Progress | None = None) -> int:
    """Write a checked import in one transaction; the new conversation's id."""
    total = len(checked.messages)
    with collector_paused(), store.transaction(bulk=True) as db:
        conversation_id = _next_id(db, "conversations")
        db.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, system_prompt, "
            "provider, model, params, archived, pinned, draft) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (conversation_id, checked.title, checked.created_at, checked.created_at,
             checked.system_prompt, checked.provider, checked.model,
             json.dumps(checked.params, ensure_ascii=False), int(checked.archived),
             int(checked.pinned), checked.draft),
        )  # fmt: skip
        first = _next_id(db, "messages")
        # Per-row triggers made the import 5x slower: within this transaction (no other
        # connection ever sees it) they are set aside, their work is done once for the
        # whole batch below, and they are put back exactly as they were.
        set_aside = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)",
            _PER_ROW_TRIGGERS,
        ).fetchall()
        for name, _ in set_aside:
            db.execute(f"DROP TRIGGER {name}")
        sql = (
            f"INSERT INTO messages ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})"
        )
        for start in range(0, total, BATCH):
            batch = checked.messages[start : start + BATCH]
            db.executemany(
                sql,
                (
                    (first + start + offset, conversation_id,
                     None if row[0] is None else first + row[0], *row[1:])
                    for offset, row in enumerate(batch)
                ),
            )  # fmt: skip
            if progress is not None:
                progress("Importing", start + len(batch), total)
        dropped = {name for name, _ in set_aside}
        if total and "messages_high_water" in dropped:
            db.execute(
                "UPDATE id_high_water SET last = MAX(last, ?) WHERE tbl = 'messages'",
                (first + total - 1,),
            )
        for start in range(0, total if "messages_fts_insert" in dropped else 0, INDEX_BATCH):
            end = min(start + INDEX_BATCH, total)
            db.execute(  # imported messages are never live (queued, streaming): all are indexed
                "INSERT INTO messages_fts (rowid, content) "
                "SELECT id, content FROM messages WHERE id BETWEEN ? AND ?",
                (first + start, first + end - 1),
            )
            if progress is not None:
                progress("Indexing for search", end, total)
        for _, trigger in set_aside:
            db.execute(trigger)
        leaf = checked.active_leaf if checked.active_leaf is not None else total - 1
        updated = checked.updated_at
        if updated is None:
            updated = max((row[_CREATED] for row in checked.messages), default=checked.created_at)
        db.execute(
            "UPDATE conversations SET active_leaf_id = ?, updated_at = ? WHERE id = ?",
            (first + leaf if total else None, updated, conversation_id),
        )
    return conversation_id


def _next_id(db: Any, table: str) -> int:
    row = db.execute("SELECT last FROM id_high_water WHERE tbl = ?", (table,)).fetchone()
    return int(row[0]) + 1
