"""Recalling earlier prompts with Up and Down, like a shell's history."""

from __future__ import annotations

from collections.abc import Callable

#: The most prompts read for one browse (this conversation's first, then everyone's).
RECALL_LIMIT = 200


class PromptHistory:
    """Earlier prompts, newest first, browsed from the draft being typed and back to it.

    ``load`` gives the prompts; it is asked again each time browsing starts, so a prompt
    sent a moment ago (here, in another tab, from ``ask``) is the first one recalled.
    """

    def __init__(self, load: Callable[[], list[str]] | None = None) -> None:
        self.load = load
        self._entries: list[str] = []
        #: The entry shown (``-1``: the draft, not browsing).
        self._at = -1
        self._draft = ""

    @property
    def browsing(self) -> bool:
        """Whether an earlier prompt is shown in place of the draft."""
        return self._at >= 0

    def older(self, current: str) -> str | None:
        """The prompt before the one shown (``current`` is kept as the draft when browsing
        starts); ``None`` when there is none."""
        if self._at < 0:
            self._entries = self.load() if self.load is not None else []
        at = self._at + 1
        while at < len(self._entries) and self._entries[at] == current:
            at += 1  # the same text again would look like nothing happened
        if at >= len(self._entries):
            return None
        if self._at < 0:
            self._draft = current
        self._at = at
        return self._entries[at]

    def newer(self) -> str | None:
        """The prompt after the one shown, the draft past the newest; ``None`` when the
        draft is shown already."""
        if self._at < 0:
            return None
        self._at -= 1
        return self._draft if self._at < 0 else self._entries[self._at]

    def reset(self) -> None:
        """Stop browsing: what the prompt shows now is the draft."""
        self._at, self._draft = -1, ""
