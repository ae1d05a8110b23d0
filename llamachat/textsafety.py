"""Making untrusted text (model replies, server messages) safe for a terminal.

A reply may hold escape sequences: an OSC 52 sequence can write the clipboard,
others can move the cursor or retitle the window. Before untrusted text reaches
a terminal, every control character except newline and tab is shown escaped.
"""

from __future__ import annotations

import re

_ALLOWED = {"\n", "\t"}


def _escape_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        char = chr(code)
        if char not in _ALLOWED:
            table[code] = f"\\x{code:02x}"
    # Unicode line/paragraph separators and bidi overrides can disguise text.
    for code in (
        0x2028,
        0x2029,
        0x202A,
        0x202B,
        0x202C,
        0x202D,
        0x202E,
        0x2066,
        0x2067,
        0x2068,
        0x2069,
    ):
        table[code] = f"\\u{code:04x}"
    return table


_TABLE = _escape_table()
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control characters made visible (``\\x1b``); newline and tab kept."""
    if _CONTROL.search(text) is None:
        return text
    return text.translate(_TABLE)


def one_line(text: str, limit: int = 240) -> str:
    """``text`` reduced to one safe line of at most ``limit`` characters."""
    flat = " ".join(escape_controls(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat
