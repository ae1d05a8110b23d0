"""Noticing what another llamachat process changed in the store (``ask``, ``history resume``).

SQLite's ``PRAGMA data_version`` changes only when another connection commits, so a
check every couple of seconds costs one tiny query at rest; the sidebar and the idle
open panes are read again only when it changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from llamachat.store.db import Store
from llamachat.store.models import Message, MessageStatus

#: Seconds between checks.
INTERVAL = 2.0
_LIVE = (MessageStatus.QUEUED, MessageStatus.STREAMING)


def changed_elsewhere(store: Store, conversation_id: int, shown: Sequence[Message]) -> bool:
    """Whether the branch ``shown`` of a conversation is no longer what the store holds:
    another message at its end, or a reply that was queued or streaming has moved on."""
    try:
        conversation = store.conversation(conversation_id)
    except KeyError:
        return False  # deleted elsewhere: the open pane keeps what it shows
    leaf = shown[-1].id if shown else None
    if conversation.active_leaf_id is not None and conversation.active_leaf_id != leaf:
        return True
    for message in shown:
        if message.status in _LIVE and message.id:
            try:
                stored = store.message(message.id)
            except KeyError:
                return True
            if (stored.status, stored.content, stored.job_status) != (
                message.status,
                message.content,
                message.job_status,
            ):
                return True
    return False


class StoreWatcher:
    """Checks the store's ``data_version`` and calls ``changed`` when another process wrote."""

    def __init__(self, store: Store, changed: Callable[[], None]) -> None:
        self.store = store
        self.changed = changed
        self.version = self._version()

    def _version(self) -> int | None:
        try:
            return self.store.data_version()
        except sqlite3.Error:
            return None

    def check(self) -> None:
        """Call ``changed`` if another process changed the store since the last check."""
        version = self._version()
        if version is None or version == self.version:
            return
        self.version = version
        self.changed()
