"""The conversation store: one SQLite file that never loses a word.

:class:`Store` is conversations, messages and branches; its connection, search and
recovery live in :mod:`.base`, :mod:`.search` and :mod:`.recovery`.

WAL mode, foreign keys, a busy timeout and ``BEGIN IMMEDIATE`` write
transactions let the TUI and an ``ask`` in another terminal write at once
without "database is locked". Replies being written carry their owner (host
and pid), so a restart can tell a reply another live process is still
streaming from one whose process died (marked ``interrupted``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from llamachat import locations
from llamachat.store import validate
from llamachat.store.base import BUSY_TIMEOUT, StoreBase, StoreError, _statements, this_owner
from llamachat.store.health import Fault
from llamachat.store.models import (
    Conversation,
    ConversationSummary,
    Message,
    MessageStatus,
)
from llamachat.store.reading import ReadingMixin
from llamachat.store.recovery import JOB_LIFETIME, Recovery, RecoveryMixin
from llamachat.store.rows import (
    json_text,
    title_from,
)
from llamachat.store.schema import NEXT_ID
from llamachat.store.search import SearchMixin, fts_query

NEXT_CONVERSATION_ID = NEXT_ID.format(table="conversations")
NEXT_MESSAGE_ID = NEXT_ID.format(table="messages")


_UPDATABLE = {
    "content",
    "status",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "credits_usd",
    "job_id",
    "job_status",
    "error",
    "error_detail",
    "raw",
    "completed_at",
    "ttft",
    "tokens_per_second",
    "provider",
    "model",
    "reasoning",
    "reasoning_seconds",
}
_CONVERSATION_SETTINGS = {"system_prompt", "provider", "model", "params", "title"}


#: Names other modules import from here.
__all__ = [
    "BUSY_TIMEOUT",
    "JOB_LIFETIME",
    "Recovery",
    "Store",
    "StoreBase",
    "StoreError",
    "_statements",
    "fts_query",
    "this_owner",
    "title_from",
]


class Store(ReadingMixin, SearchMixin, RecoveryMixin):
    """All access to the conversation database. Safe to share between threads."""

    @classmethod
    def open_default(cls) -> Store:
        """The store in the data dir (``LLAMACHAT_DATA_DIR`` overrides it), recovered.

        Every command opens the store through here, so the first one after a crash
        already shows a reply its dead process left ``streaming`` as ``interrupted``.
        A store that cannot be written now (read-only, locked, full) is opened without
        recovering: the next start that can write does it.
        """
        store = cls(locations.database_path())
        if store.read_only:
            return store
        try:
            store.recover()
        except StoreError as error:
            if error.fault in (Fault.READ_ONLY, Fault.LOCKED, Fault.FULL):
                return store
            store.close()
            raise
        return store

    # --- plumbing ---------------------------------------------------------------

    # --- conversations ------------------------------------------------------------

    def create_conversation(
        self,
        *,
        title: str = "",
        system_prompt: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        created_at: float | None = None,
    ) -> Conversation:
        """A new, empty conversation; ``ValueError`` for a value the store cannot keep."""
        now = time.time() if created_at is None else validate.required_time(created_at)
        validate.check_texts(title=title, system_prompt=system_prompt, provider=provider,
                             model=model)  # fmt: skip
        validate.check_json("params", params)
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, system_prompt, "
                f"provider, model, params) VALUES ({NEXT_CONVERSATION_ID}, ?, ?, ?, ?, ?, ?, ?)",
                (title, now, now, system_prompt, provider, model, json.dumps(params or {})),
            )
            conversation_id = cursor.lastrowid
        assert conversation_id is not None
        return self.conversation(conversation_id)

    def latest_conversation_id(self) -> int | None:
        """The most recently updated conversation, archived ones left out."""
        rows = self._read(
            "SELECT id FROM conversations WHERE archived = 0 ORDER BY updated_at DESC LIMIT 1"
        )
        return rows[0][0] if rows else None

    def list_conversations(
        self, limit: int = 100, *, archived: bool = False, pinned_first: bool = False
    ) -> list[ConversationSummary]:
        """Conversations, newest first (pinned ones on top if asked), with counts and providers.

        Reads one page of conversations through an index, and the counts kept beside them:
        as fast with a million messages as with ten.
        """
        order = "pinned DESC, updated_at DESC" if pinned_first else "updated_at DESC"
        rows = self._read(
            "SELECT id, title, updated_at, pinned, archived, message_count FROM conversations "
            f"WHERE archived = ? ORDER BY {order} LIMIT ?",
            (int(archived), limit),
        )
        providers: dict[int, list[str]] = {}
        if rows:
            for conversation_id, provider in self._read(
                "SELECT conversation_id, provider FROM conversation_providers "
                f"WHERE conversation_id IN ({', '.join('?' for _ in rows)}) "
                "ORDER BY conversation_id, provider",
                [r[0] for r in rows],
            ):
                providers.setdefault(conversation_id, []).append(validate.text(provider) or "")
        return [
            ConversationSummary(
                id=r[0],
                title=validate.text(r[1]) or "",
                updated_at=validate.timestamp(r[2]),
                pinned=bool(r[3]),
                archived=bool(r[4]),
                message_count=validate.count(r[5]) or 0,
                providers=tuple(providers.get(r[0], ())),
            )
            for r in rows
        ]

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title."""
        self._update_conversation(conversation_id, "title = ?", (" ".join(title.split()),))

    def set_archived(self, conversation_id: int, archived: bool) -> None:
        """Archive or unarchive a conversation."""
        self._update_conversation(conversation_id, "archived = ?", (int(archived),))

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pin or unpin a conversation."""
        self._update_conversation(conversation_id, "pinned = ?", (int(pinned),))

    def save_draft(self, conversation_id: int, draft: str) -> None:
        """Keep the unsent prompt of a conversation."""
        self._update_conversation(conversation_id, "draft = ?", (draft,))

    def update_settings(self, conversation_id: int, **settings: Any) -> None:
        """Change the system prompt, provider, model or generation parameters."""
        unknown = set(settings) - _CONVERSATION_SETTINGS
        if unknown:
            raise ValueError(f"not conversation settings: {sorted(unknown)}")
        if "params" in settings:
            settings["params"] = json.dumps(settings["params"] or {})
        assignments = ", ".join(f"{name} = ?" for name in settings)
        self._update_conversation(conversation_id, assignments, tuple(settings.values()))

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and all its messages."""
        with self._write() as db:
            # Cut the chain first: each message's ON DELETE CASCADE would otherwise delete
            # its reply inside the same statement, one level deeper each time, and a chain
            # of more than 1,000 messages failed with "too many levels of trigger recursion".
            db.execute("UPDATE messages SET parent_id = NULL WHERE conversation_id = ?",
                       (conversation_id,))  # fmt: skip
            cursor = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cursor.rowcount == 0:
                raise KeyError(conversation_id)

    # --- messages -----------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        parent_id: int | None = None,
        images: Sequence[str] = (),
        status: MessageStatus = MessageStatus.COMPLETE,
        provider: str | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        created_at: float | None = None,
        make_active: bool = True,
        **fields: Any,
    ) -> Message:
        """Store a message (as a child of ``parent_id``) and, by default, make it the active leaf.

        The first user message of an untitled conversation gives it its title.
        """
        now = time.time() if created_at is None else validate.required_time(created_at)
        status = MessageStatus(status)
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not message fields: {sorted(unknown)}")
        if role not in ("user", "assistant", "system"):
            raise ValueError(f"not a message role: {role!r}")
        validate.check_texts(content=content, provider=provider, model=model)
        validate.check_json("params", params)
        extra = validate.message_fields(fields)
        if "raw" in extra:
            extra["raw"] = json_text(extra["raw"])
        live = status in (MessageStatus.QUEUED, MessageStatus.STREAMING)
        columns = [
            "conversation_id", "parent_id", "role", "content", "images", "provider", "model",
            "params", "status", "created_at", "owner", "heartbeat_at", *extra,
        ]  # fmt: skip
        values = [
            conversation_id, parent_id, role, content, json_text(list(images)) if images else None,
            provider, model, json_text(params), status.value, now,
            self.owner if live else None, now if live else None, *extra.values(),
        ]  # fmt: skip
        with self._write() as db:
            cursor = db.execute(
                f"INSERT INTO messages (id, {', '.join(columns)}) "
                f"VALUES ({NEXT_MESSAGE_ID}, {', '.join('?' for _ in columns)})",
                values,
            )
            message_id = cursor.lastrowid
            db.execute(
                "UPDATE conversations SET updated_at = ?, "
                "active_leaf_id = CASE WHEN ? THEN ? ELSE active_leaf_id END, "
                "title = CASE WHEN title = '' AND ? = 'user' THEN ? ELSE title END "
                "WHERE id = ?",
                (now, make_active, message_id, role, title_from(content), conversation_id),
            )
        assert message_id is not None
        return self.message(message_id)

    def update_message(self, message_id: int, **fields: Any) -> None:
        """Change a message's content, status, usage, job state or error fields."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not message fields: {sorted(unknown)}")
        fields = validate.message_fields(fields)
        if "raw" in fields:
            fields["raw"] = json_text(fields["raw"])
        if "status" in fields:
            fields["status"] = MessageStatus(fields["status"]).value
        now = time.time()
        assignments = [f"{name} = ?" for name in fields]
        values = list(fields.values())
        assignments.append("heartbeat_at = ?")
        values.append(now)
        with self._write() as db:
            db.execute(
                f"UPDATE messages SET {', '.join(assignments)} WHERE id = ?", (*values, message_id)
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? "
                "WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                (now, message_id),
            )

    def delete_message(self, message_id: int) -> None:
        """Delete a message and every message below it."""
        with self._write() as db:
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    # --- search ---------------------------------------------------------------------

    # --- recovery -------------------------------------------------------------------
