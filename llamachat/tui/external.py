"""Noticing what another llamachat process changed in the store (``ask``, ``history resume``).

SQLite's ``PRAGMA data_version`` changes only when another connection commits, so a
check every couple of seconds costs one tiny query at rest; the sidebar and the idle
open panes are read again only when it changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from llamachat.store.db import Store

#: Seconds between checks.
INTERVAL = 2.0


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
