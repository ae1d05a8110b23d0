"""Writing untrusted text to a terminal: escaped there, unchanged into a pipe or a file.

A provider, model, title or error message can come from a server or an imported file
and hold escape sequences; on a terminal they are shown escaped (one line), so they
cannot rename the window or write the clipboard. Into a pipe the text passes as it is.
"""

from __future__ import annotations

import sys
from typing import TextIO

from llamachat.textsafety import escape_controls, one_line


def shown(text: str, stream: TextIO, limit: int = 400) -> str:
    """``text`` as it may be written to ``stream``: one escaped line on a terminal."""
    return one_line(text, limit) if stream.isatty() else text


def shown_text(text: str, stream: TextIO) -> str:
    """A body of text (a transcript, a reply) as it may be written to ``stream``: control
    characters escaped on a terminal, lines kept."""
    return escape_controls(text) if stream.isatty() else text


def say_error(message: str) -> None:
    """``llamachat: message`` on stderr, as one line (escaped on a terminal)."""
    flat = " ".join(message.split())
    print(f"llamachat: {shown(flat, sys.stderr, 2000)}", file=sys.stderr)
