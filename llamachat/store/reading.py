"""Reading conversations: one conversation or message, a branch (a window of it for a
long conversation), its siblings and totals, and switching the branch shown."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from llamachat.store import paths
from llamachat.store.base import StoreBase
from llamachat.store.models import Branch, Conversation, ConversationView, Message, Totals
from llamachat.store.rows import CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_of, message_of

#: The longest prompt recalled with Up (a pasted file is not worth browsing through).
RECALLED_CHARS = 20_000


class ReadingMixin(StoreBase):
    """Conversations and their branches, as read from the store."""

    def conversation(self, conversation_id: int) -> Conversation:
        """One conversation; ``KeyError`` if there is none with that id."""
        rows = self._read(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        )
        if not rows:
            raise KeyError(conversation_id)
        return conversation_of(rows[0])

    def message(self, message_id: int) -> Message:
        """One message; ``KeyError`` if there is none with that id."""
        rows = self._read(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise KeyError(message_id)
        return message_of(rows[0])

    def replies_to(self, message_id: int) -> list[Message]:
        """The messages whose parent is ``message_id``, oldest first."""
        rows = self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE parent_id = ? ORDER BY id",
            (message_id,),
        )
        return [message_of(r) for r in rows]

    def messages(self, conversation_id: int) -> list[Message]:
        """Every message of a conversation, every branch, oldest first."""
        rows = self._read(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [message_of(r) for r in rows]

    def load(self, conversation_id: int, last: int | None = None) -> ConversationView:
        """A conversation with its active path and where each message sits among its siblings.

        With ``last``, only the newest ``last`` messages of the active path are read (a
        million-message conversation opens at once); ``earlier`` counts the rest, which
        :meth:`earlier` reads a batch at a time. Without it, every message of every branch.
        """
        conversation = self.conversation(conversation_id)
        if last is not None:
            return self._load_window(conversation, last)
        messages = self.messages(conversation_id)
        by_id = {m.id: m for m in messages}
        children: dict[int | None, list[int]] = {}
        for m in messages:
            children.setdefault(m.parent_id, []).append(m.id)
        leaf = conversation.active_leaf_id
        if leaf not in by_id:
            leaf = messages[-1].id if messages else None
        path: list[Message] = []
        seen: set[int] = set()
        while leaf is not None and leaf in by_id and leaf not in seen:
            seen.add(leaf)
            path.append(by_id[leaf])
            leaf = by_id[leaf].parent_id
        path.reverse()
        branches: dict[int, Branch] = {}
        for m in path:
            siblings = children.get(m.parent_id, [m.id])
            branches[m.id] = Branch(siblings.index(m.id) + 1, len(siblings), tuple(siblings))
        return ConversationView(conversation, path, branches, messages)

    def _load_window(self, conversation: Conversation, last: int) -> ConversationView:
        leaf = paths.active_leaf(self._read, conversation.id, conversation.active_leaf_id)
        path = [] if leaf is None else self.path_to(leaf, last=last + 1)
        branches = paths.branches(self._read, conversation.id, path[-last:] if last else [])
        if len(path) <= last:  # the whole path
            if paths.size(self._read, conversation.id) == len(path):  # and no other branch
                return ConversationView(conversation, path, branches, path, 0)
            totals = paths.path_totals(self._read, conversation.id, leaf)[1]
            return ConversationView(conversation, path, branches, path, 0, totals)
        path = path[-last:] if last else []
        return ConversationView(conversation, path, branches, path, None)

    def path_totals(self, conversation_id: int) -> tuple[int, Totals]:
        """The active path's length and tokens, and what the conversation cost.

        It reads through a connection of its own, without the store's lock, so a thread
        can count a million messages while the TUI keeps using the store.
        """
        db = sqlite3.connect(self.path, timeout=15.0)
        try:
            db.execute("PRAGMA query_only = ON")

            def read(sql: str, args: Sequence[Any] = ()) -> list[Any]:
                return db.execute(sql, args).fetchall()

            rows = read("SELECT active_leaf_id FROM conversations WHERE id = ?", (conversation_id,))
            leaf = paths.active_leaf(read, conversation_id, rows[0][0] if rows else None)
            return paths.path_totals(read, conversation_id, leaf)
        finally:
            db.close()

    def earlier(self, message_id: int, count: int) -> tuple[list[Message], dict[int, Branch]]:
        """The ``count`` messages before ``message_id`` on its path, oldest first, with
        where each sits among its siblings (loading more of a windowed conversation)."""
        parent = self.message(message_id).parent_id
        if parent is None or count <= 0:
            return [], {}
        path = self.path_to(parent, last=count)
        conversation_id = path[0].conversation_id if path else 0
        return path, paths.branches(self._read, conversation_id, path)

    def distance_from_leaf(self, conversation_id: int, message_id: int) -> int | None:
        """How far above the active leaf ``message_id`` is (0: it is the leaf), or None
        when it is not on the active path."""
        conversation = self.conversation(conversation_id)
        leaf = paths.active_leaf(self._read, conversation_id, conversation.active_leaf_id)
        if leaf is None:
            return None
        return paths.distance(self._read, leaf, message_id, paths.bound(self._read))

    def path_to(self, message_id: int, last: int | None = None) -> list[Message]:
        """The messages from the root down to ``message_id`` (only the newest ``last``)."""
        rows = paths.window(self._read, MESSAGE_COLUMNS, message_id, last)
        return [message_of(r) for r in rows]

    def set_active_leaf(self, conversation_id: int, message_id: int | None) -> None:
        """Make the branch ending at ``message_id`` the one shown and continued."""
        self._update_conversation(conversation_id, "active_leaf_id = ?", (message_id,))

    def switch_to(self, message_id: int) -> None:
        """Show the branch through ``message_id``, down to its newest descendant."""
        rows = self._read("SELECT conversation_id FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise KeyError(message_id)
        leaf = message_id
        while True:
            child = self._read(
                "SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", (leaf,)
            )
            if not child:
                break
            leaf = child[0][0]
        self.set_active_leaf(rows[0][0], leaf)

    def recent_prompts(self, conversation_id: int | None, limit: int) -> list[str]:
        """Prompts typed before, newest first: those of ``conversation_id`` first, then those
        of every conversation; each text once, at most ``limit`` of them, none longer than
        :data:`RECALLED_CHARS`. Two index walks from the newest message back, each
        stopping at ``limit`` rows: as fast with a million messages as with ten."""
        rows: list[Any] = []
        if conversation_id is not None:
            rows += self._read(
                "SELECT content FROM messages WHERE conversation_id = ? AND role = 'user' "
                "AND content != '' AND length(content) <= ? ORDER BY id DESC LIMIT ?",
                (conversation_id, RECALLED_CHARS, limit),
            )
        # Every conversation's, this one's included (listed once, above): leaving them out
        # would walk past all of them when this conversation holds the newest messages.
        rows += self._read(
            "SELECT content FROM messages WHERE role = 'user' "
            "AND content != '' AND length(content) <= ? ORDER BY id DESC LIMIT ?",
            (RECALLED_CHARS, limit),
        )
        return list(dict.fromkeys(row[0] for row in rows))[:limit]

    def _update_conversation(self, conversation_id: int, sql: str, args: Sequence[Any]) -> None:
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE conversations SET {sql} WHERE id = ?", (*args, conversation_id)
            )
            if cursor.rowcount == 0:
                raise KeyError(conversation_id)
