"""The line above the prompt: an error sentence, a retry countdown, an editing hint."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from llamachat.textsafety import escape_label


class Notice(Static):
    """One notice at a time; it quotes model names and server text, so it is shown escaped."""

    DEFAULT_CSS = """
    Notice { height: auto; max-height: 12; padding: 0 2; color: $text-muted; }
    Notice.-error { color: $error; }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        # Hidden from the start, not on mount: a notice shown before then (the keyless
        # welcome, on a loaded machine) must not be hidden by the mount.
        self.display = False
        #: The notice is a retry countdown, to clear when the retry is over.
        self.retrying = False
        self._said: str | None = None

    @property
    def shown(self) -> str | None:
        """The text of the notice on screen, if one is."""
        return self._said if self.display else None

    def say(self, text: str, *, error: bool = False, retry: bool = False) -> None:
        """Show ``text`` (``error``: in the error colour; ``retry``: a retry countdown)."""
        self.update(Text(escape_label(text)))
        self.set_class(error, "-error")
        self.display = True
        self.retrying = retry
        self._said = text

    def hide(self) -> None:
        """No notice."""
        self.display = False
        self.retrying = False
