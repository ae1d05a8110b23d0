"""Inline reasoning: ``<think>...</think>`` at the start of a reply's content.

Some servers send a reasoning model's thoughts inside the content instead of a
field of their own. :class:`ThinkSplitter` turns such content, fed in pieces
as it streams, into :class:`ReasoningDelta` and :class:`TextDelta` events. The
tags may be cut anywhere across pieces (``<thi`` + ``nk>``); a ``<think>``
counts only at the very start (after optional whitespace); whatever follows
``</think>`` is answer text, and a reply that ends inside the thoughts keeps
them as reasoning. Each character is looked at a bounded number of times, so
the cost is linear in the length of the reply.
"""

from __future__ import annotations

from enum import Enum

from llamachat.providers.base import ProviderEvent, ReasoningDelta, TextDelta

OPEN = "<think>"
CLOSE = "</think>"


class _State(Enum):
    START = 1  # nothing but whitespace seen yet
    THINKING = 2  # inside <think>
    ANSWER = 3  # plain content from here on


class ThinkSplitter:
    """Splits streamed content into reasoning and answer text."""

    __slots__ = ("_carry", "_head", "_lead", "_state", "_trim")

    def __init__(self) -> None:
        self._state = _State.START
        self._lead = ""  # whitespace before the first other character
        self._head = ""  # the first characters, while they could still open <think>
        self._carry = ""  # the end of the thoughts so far, while it could start </think>
        self._trim = False  # drop whitespace at the start of the next section

    @property
    def passthrough(self) -> bool:
        """Whether everything from now on is answer text (the caller may stop feeding)."""
        return self._state is _State.ANSWER and not self._trim

    def feed(self, text: str) -> list[ProviderEvent]:
        """The events for the next piece of content."""
        if self._state is _State.ANSWER:
            return self._answer(text)
        if self._state is _State.START:
            return self._start(text)
        return self._thinking(text)

    def close(self) -> list[ProviderEvent]:
        """The events for what is still held back when the content ends."""
        events: list[ProviderEvent] = []
        if self._state is _State.START and (self._lead or self._head):
            events.append(TextDelta(self._lead + self._head))
        elif self._state is _State.THINKING and self._carry:
            events.append(ReasoningDelta(self._carry))
        self._lead = self._head = self._carry = ""
        self._state = _State.ANSWER
        return events

    def _start(self, text: str) -> list[ProviderEvent]:
        if not self._head:
            rest = text.lstrip()
            self._lead += text[: len(text) - len(rest)]
            text = rest
            if not text:
                return []
        self._head += text
        head = self._head
        if len(head) < len(OPEN) and OPEN.startswith(head):
            return []  # maybe the start of <think>: wait for more
        if head.startswith(OPEN):
            self._state, self._trim = _State.THINKING, True
            self._lead = self._head = ""
            return self._thinking(head[len(OPEN) :])
        self._state = _State.ANSWER
        whole = self._lead + head
        self._lead = self._head = ""
        return [TextDelta(whole)]

    def _thinking(self, text: str) -> list[ProviderEvent]:
        seen = self._carry + text
        end = seen.find(CLOSE)
        if end >= 0:
            events = self._reasoning(seen[:end])
            self._carry = ""
            self._state, self._trim = _State.ANSWER, True
            return events + self._answer(seen[end + len(CLOSE) :])
        keep = 0
        for size in range(min(len(CLOSE) - 1, len(seen)), 0, -1):
            if seen.endswith(CLOSE[:size]):
                keep = size
                break
        self._carry = seen[len(seen) - keep :] if keep else ""
        return self._reasoning(seen[: len(seen) - keep])

    def _reasoning(self, text: str) -> list[ProviderEvent]:
        if self._trim:
            text = text.lstrip()
            self._trim = not text
        return [ReasoningDelta(text)] if text else []

    def _answer(self, text: str) -> list[ProviderEvent]:
        if self._trim:
            text = text.lstrip()
            self._trim = not text
        return [TextDelta(text)] if text else []


def split_thinking(content: str) -> list[ProviderEvent]:
    """The events of a whole reply's content (a reply that was not streamed)."""
    splitter = ThinkSplitter()
    return splitter.feed(content) + splitter.close()
