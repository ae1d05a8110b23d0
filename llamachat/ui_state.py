"""What the terminal UI leaves for its next start: the open tabs and the last export folder.

A small JSON file in the data directory (no Textual here: the core keeps it). A file
that is missing, unreadable or not understood is an empty state: never an error at
start. Writing it is best effort too: a full disk loses the tabs, not a conversation.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from llamachat import locations


@dataclass(frozen=True)
class UiState:
    """The open conversations' tabs in order, the active one, where exports last went."""

    tabs: tuple[int, ...] = ()
    active: int | None = None
    export_dir: str | None = None


def state_path() -> Path:
    """The file the state is kept in."""
    return locations.data_dir() / "ui-state.json"


def load() -> UiState:
    """The state the last run left (an empty one when there is none that can be read)."""
    try:
        raw: Any = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UiState()
    if not isinstance(raw, dict):
        return UiState()
    tabs = raw.get("tabs")
    ids = tuple(t for t in tabs if _is_id(t)) if isinstance(tabs, list) else ()
    active = raw.get("active")
    export_dir = raw.get("export_dir")
    return UiState(
        tabs=tuple(dict.fromkeys(ids)),  # each once, in order
        active=active if _is_id(active) else None,
        export_dir=export_dir if isinstance(export_dir, str) and export_dir else None,
    )


def save(state: UiState) -> bool:
    """Write ``state`` whole (atomically, owner-only); ``False`` if it could not be."""
    path = state_path()
    try:
        locations.private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".ui-state-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({**asdict(state), "tabs": list(state.tabs)}, handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


def update(**changes: Any) -> UiState:
    """Change some of the state kept (re-read first: another window may have written)."""
    state = replace(load(), **changes)
    save(state)
    return state


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
