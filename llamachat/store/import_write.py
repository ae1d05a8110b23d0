"""Writing a checked import: one transaction, batched, the per-row triggers' work done once.

Where the time went, and what this does about it (a million messages, measured):

* Binding ``None`` costs the ``sqlite3`` module an adapter lookup per value, about
  sixteen per message: most of ``executemany``'s time. A NaN is bound as a plain float,
  and SQLite stores a NaN as NULL, so every ``None`` is bound as NaN (no value an
  import writes can be NaN: the checks refuse it).
* The ``CHECK (role IN (...))`` and ``CHECK (status IN (...))`` constraints build their
  lists again for every row ``executemany`` inserts: the import checked both fields
  itself, so the bulk transaction does not check them a second time.
* The search index keeps 1 MB of new words in memory before writing a segment, then
  merges segments again and again: while the import indexes, that is raised to
  :data:`INDEX_MEMORY`, and put back before the commit.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice, repeat
from typing import Any

from llamachat.store.db import Store
from llamachat.store.import_file import collector_paused

#: Messages written per ``executemany``; progress is reported after each batch.
BATCH = 10_000
#: Messages added to the search index per statement (progress is reported after each).
INDEX_BATCH = 100_000
#: Bytes of new words the search index gathers in memory while an import indexes
#: (FTS5's ``hashsize``; its default is 1 MB). Twice as fast on 100,000 messages.
INDEX_MEMORY = 64 * 1024 * 1024
_DEFAULT_INDEX_MEMORY = 1024 * 1024

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
_PER_ROW_TRIGGERS = ("messages_fts_insert", "messages_high_water", "messages_tally_insert")
#: Where ``created_at`` sits among a plan's columns (which start at ``parent_id``).
_CREATED = COLUMNS.index("created_at") - 2
_PROVIDER = COLUMNS.index("provider") - 2
#: ``None`` as SQLite's sqlite3 module binds it fastest (see the module's docstring).
_NULL = float("nan")
_AS_BOUND = {None: _NULL}.get


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
    #: Index (into the messages) of the active leaf, or ``None`` for the last message.
    active_leaf: int | None = None
    #: The messages a field at a time, one list per field with a value per message: the
    #: parent's index (or ``None``), then the values of ``COLUMNS[3:]``.
    columns: list[list[Any]] = field(default_factory=lambda: [[] for _ in COLUMNS[2:]])

    @property
    def count(self) -> int:
        """How many messages the import holds."""
        return len(self.columns[0])


def columns_of(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows (the parent's index, then the values of ``COLUMNS[3:]``) as a plan's columns."""
    if not rows:
        return [[] for _ in COLUMNS[2:]]
    return [list(values) for values in zip(*rows, strict=True)]


def write(store: Store, checked: Plan, progress: Progress | None = None) -> int:
    """Write a checked import in one transaction; the new conversation's id."""
    total = checked.count
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
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            f"AND name IN ({', '.join('?' for _ in _PER_ROW_TRIGGERS)})",
            _PER_ROW_TRIGGERS,
        ).fetchall()
        for name, _ in set_aside:
            db.execute(f"DROP TRIGGER {name}")
        _insert(db, checked, conversation_id, first, progress)
        dropped = {name for name, _ in set_aside}
        if total and "messages_high_water" in dropped:
            db.execute(
                "UPDATE id_high_water SET last = MAX(last, ?) WHERE tbl = 'messages'",
                (first + total - 1,),
            )
        if "messages_tally_insert" in dropped:
            _tally(db, checked, conversation_id)
        if "messages_fts_insert" in dropped:
            _index(db, first, total, progress)
        for _, trigger in set_aside:
            db.execute(trigger)
        leaf = checked.active_leaf if checked.active_leaf is not None else total - 1
        updated = checked.updated_at
        if updated is None:
            updated = max(checked.columns[_CREATED], default=checked.created_at)
        db.execute(
            "UPDATE conversations SET active_leaf_id = ?, updated_at = ? WHERE id = ?",
            (first + leaf if total else None, updated, conversation_id),
        )
    return conversation_id


def _insert(
    db: sqlite3.Connection, checked: Plan, conversation_id: int, first: int,
    progress: Progress | None,
) -> None:  # fmt: skip
    """The messages, :data:`BATCH` at a time; ``None`` bound as NaN (stored as NULL)."""
    total = checked.count
    parents = [None if index is None else first + index for index in checked.columns[0]]
    rows = zip(
        range(first, first + total),
        repeat(conversation_id),
        *(map(_AS_BOUND, values, values) for values in (parents, *checked.columns[1:])),
    )
    sql = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    for start in range(0, total, BATCH):
        db.executemany(sql, islice(rows, BATCH))
        if progress is not None:
            progress("Importing", min(start + BATCH, total), total)


def _tally(db: sqlite3.Connection, checked: Plan, conversation_id: int) -> None:
    """The sidebar's counts of the new conversation: its messages, and each provider's."""
    db.execute(
        "UPDATE conversations SET message_count = message_count + ? WHERE id = ?",
        (checked.count, conversation_id),
    )
    providers = Counter(checked.columns[_PROVIDER])
    providers.pop(None, None)
    db.executemany(
        "INSERT INTO conversation_providers (conversation_id, provider, messages) VALUES (?, ?, ?)",
        [(conversation_id, provider, count) for provider, count in providers.items()],
    )


def _index(db: sqlite3.Connection, first: int, total: int, progress: Progress | None) -> None:
    """Add the new messages to the search index, with room for their words in memory."""
    config = "INSERT INTO messages_fts (messages_fts, rank) VALUES ('hashsize', ?)"
    kept = db.execute("SELECT v FROM messages_fts_config WHERE k = 'hashsize'").fetchone()
    try:
        db.execute(config, (INDEX_MEMORY,))
        roomy = True
    except sqlite3.OperationalError:  # an SQLite whose FTS5 lacks the setting: only slower
        roomy = False
    for start in range(0, total, INDEX_BATCH):
        end = min(start + INDEX_BATCH, total)
        db.execute(  # imported messages are never live (queued, streaming): all are indexed
            "INSERT INTO messages_fts (rowid, content) "
            "SELECT id, content FROM messages WHERE id BETWEEN ? AND ?",
            (first + start, first + end - 1),
        )
        if progress is not None:
            progress("Indexing for search", end, total)
    if not roomy:
        return
    db.execute(config, (kept[0] if kept else _DEFAULT_INDEX_MEMORY,))
    if kept is None:  # as it was: no setting of its own
        db.execute("DELETE FROM messages_fts_config WHERE k = 'hashsize'")


def _next_id(db: Any, table: str) -> int:
    row = db.execute("SELECT last FROM id_high_water WHERE tbl = ?", (table,)).fetchone()
    return int(row[0]) + 1
