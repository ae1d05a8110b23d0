"""The config file's ``[keymap]`` table: a binding's id, and the key (or keys) it moves to.

::

    [keymap]
    "app.new_chat" = "ctrl+k"
    "prompt.submit" = "ctrl+enter"      # Enter then adds a new line
    "message.copy" = "y,c"              # several keys, comma-separated

Every binding's id is listed by the help screen (F1) and the README. This module only
reads the table; which ids exist and which keys collide is the TUI's to say
(:mod:`llamachat.tui.keys`). It imports nothing from the rest of llamachat.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: One key as Textual names it: ``ctrl+k``, ``f5``, ``escape``, ``question_mark``, ``?``.
_KEY = re.compile(r"^(?:(?:ctrl|alt|shift|super|meta|hyper)\+)*(?:[a-z0-9_]+|[^\sa-zA-Z0-9,+])$")


def parse_keys(value: str) -> list[str] | None:
    """The keys of a keymap value (``"ctrl+k"`` or ``"y,c"``), or ``None`` if one is not a key."""
    keys = [key.strip() for key in value.split(",")]
    if not keys or any(not _KEY.match(key.lower()) for key in keys):
        return None
    return keys


def read_keymap(raw: Mapping[str, Any], path: Path) -> tuple[dict[str, str], list[str]]:
    """The ``[keymap]`` of a parsed config file, and a warning per entry that is ignored."""
    table = raw.get("keymap", {})
    if not isinstance(table, Mapping):
        return {}, [f'{path}: [keymap] must be a table of "binding.id" = "key" lines; ignored.']
    keymap: dict[str, str] = {}
    warnings: list[str] = []
    for binding_id, value in table.items():
        keys = parse_keys(value) if isinstance(value, str) else None
        if keys is None:
            warnings.append(
                f'{path}: [keymap] {binding_id} must be a key such as "ctrl+k" (or several, '
                "comma-separated); it is ignored."
            )
            continue
        keymap[str(binding_id)] = ",".join(keys)
    return keymap, warnings
