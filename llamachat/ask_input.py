"""What ``llamachat ask`` sends: the prompt from its arguments, stdin, the editor (``-e``)
and text files (``-f``), put together.

* words only: the words (as before);
* stdin only (no words, or ``-``): stdin (as before);
* words and text piped in (``cat notes.md | llamachat ask "summarize this"``): the words,
  a blank line, then the piped text, so the stored prompt shows both;
* ``-e`` and no words: the editor opens (on the piped text, if any) and what it saves is
  the prompt;
* each ``-f FILE`` after that, as its name and a fenced block.

This module must never import Textual.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from llamachat.ask_output import read_prompt
from llamachat.attach_files import TextFile, read_text_file, with_files


class AskInputError(ValueError):
    """The prompt cannot be put together; the message is the sentence to show."""


def stdin_piped() -> bool:
    """Whether stdin is a pipe or a file (something was piped or redirected in), rather
    than a terminal, ``/dev/null`` or nothing (a closed stdin, a test's captured one)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def read_files(paths: list[str]) -> list[TextFile]:
    """The text files of ``-f``; :class:`AskInputError` for the first that cannot be sent."""
    from llamachat.attach_files import FileRefused

    files = []
    for path in paths:
        try:
            files.append(read_text_file(Path(path).expanduser()))
        except FileRefused as error:
            raise AskInputError(f"{error} Nothing was sent.") from None
    return files


def gather_prompt(words: list[str], *, editor: bool, files: list[TextFile]) -> str | None:
    """The prompt ``ask`` sends (``None``: none was given). ``PromptTooLarge`` and
    ``KeyboardInterrupt`` from reading stdin pass through."""
    given = words and words != ["-"]
    piped = ""
    if given and stdin_piped():
        piped = read_prompt(["-"]) or ""
    if given:
        prompt: str | None = read_prompt(words)
        if piped.strip() and prompt is not None:
            prompt = f"{prompt}\n\n{piped}"
    elif editor:
        piped = (read_prompt(["-"]) or "") if stdin_piped() else ""
        prompt = _from_editor(piped)
    else:
        prompt = read_prompt(words)
    if files:
        return with_files(prompt or "", files)
    return prompt


def _from_editor(text: str) -> str:
    from llamachat.editor import EditorFailed, edit_text

    try:
        return edit_text(text, terminal=True)
    except EditorFailed as error:
        raise AskInputError(f"{error} Nothing was sent.") from None
