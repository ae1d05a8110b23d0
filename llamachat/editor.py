"""Composing a prompt in the person's own editor (``$VISUAL``, then ``$EDITOR``).

Used by the TUI (Ctrl+G, with the app suspended) and ``llamachat ask -e``. The draft is
written to a private temporary file, the editor is run on it, and what it saved is
read back. Every failure is an :class:`EditorFailed` whose message is one plain
sentence; the draft is then left as it was. Never imports Textual.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

#: Editors tried, in order, when neither ``$VISUAL`` nor ``$EDITOR`` is set.
FALLBACKS = ("nano", "vi")


class EditorFailed(RuntimeError):
    """The editor could not be run or did not finish well; the message says which."""


def editor_command() -> list[str]:
    """The editor to run: ``$VISUAL``, else ``$EDITOR`` (split as a shell would, so
    ``code --wait`` works), else the first of :data:`FALLBACKS` found."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:
                raise EditorFailed(f"${variable} ({value}) cannot be read as a command.") from None
            if words:
                return words
    for name in FALLBACKS:
        if shutil.which(name):
            return [name]
    raise EditorFailed("No editor found: set $VISUAL or $EDITOR to the editor you use.")


def edit_text(text: str, *, terminal: bool = False) -> str:
    """``text`` as the person left it after editing it in their editor.

    With ``terminal`` the editor runs on the terminal (``/dev/tty``, where there is
    one) whatever stdin and stdout are (``ask -e``, piped in or out). One trailing
    newline the editor adds is removed.
    """
    command = editor_command()
    shown = Path(command[0]).name
    handle, name = tempfile.mkstemp(prefix="llamachat-", suffix=".md")  # mode 0600
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        code = _run([*command, str(path)], shown, terminal=terminal)
        if code != 0:
            raise EditorFailed(f"The editor ({shown}) exited with status {code}: nothing changed.")
        try:
            edited = path.read_bytes().decode("utf-8", errors="replace")
        except OSError as error:
            raise EditorFailed(
                f"The edited text could not be read back: {error.strerror}."
            ) from None
    finally:
        path.unlink(missing_ok=True)
    return edited[:-1] if edited.endswith("\n") and not text.endswith("\n") else edited


def _run(command: list[str], shown: str, *, terminal: bool) -> int:
    tty = None
    try:
        if terminal:
            with suppress(OSError):  # no terminal: a windowed editor still works
                tty = open("/dev/tty", "r+b", buffering=0)  # noqa: SIM115 - closed below
        # The editor reads and draws on the terminal, not on a pipe it would be fed from
        # or its screen written into (``echo notes | llamachat ask -e > reply.md``).
        # With no terminal at all, what it prints goes to stderr, never into the reply.
        screen = tty if tty is not None else (sys.stderr if terminal else None)
        return subprocess.run(command, stdin=tty, stdout=screen, check=False).returncode
    except FileNotFoundError:
        raise EditorFailed(f"The editor {shown} was not found: check $VISUAL or $EDITOR.") from None
    except PermissionError:
        raise EditorFailed(f"The editor {shown} cannot be run (permission denied).") from None
    except OSError as error:
        raise EditorFailed(f"The editor {shown} could not be started: {error.strerror}.") from None
    finally:
        if tty is not None:
            tty.close()
