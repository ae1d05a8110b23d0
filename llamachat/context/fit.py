"""What a request sends: the system prompt, a summary if the branch has one, and the
newest turns that fit the window with room left for the reply.

Nothing is deleted: turns that do not fit are only left out of this request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llamachat.context.policy import reply_reserve
from llamachat.context.tokens import REQUEST_OVERHEAD, TokenCache, estimate_message
from llamachat.providers.base import ChatMessage
from llamachat.store.models import Message, MessageStatus

#: How a summary is introduced to the model, after the system prompt.
SUMMARY_HEADING = "Summary of the earlier conversation:"
#: ``raw`` of a stored summary: ``{"llamachat": SUMMARY_MARK, ...}``.
SUMMARY_MARK = "context-summary"


def is_summary(message: Message) -> bool:
    """Whether ``message`` is a summary written when a conversation outgrew its window."""
    return (
        message.role == "system"
        and isinstance(message.raw, dict)
        and message.raw.get("llamachat") == SUMMARY_MARK
    )


def split_path(path: Sequence[Message]) -> tuple[Message | None, list[Message]]:
    """The branch's newest summary (if any) and the turns after it that are sent.

    Failed replies and empty ones are left out; an interrupted reply's text is kept.
    Turns before a summary are covered by it and not sent.
    """
    summary: Message | None = None
    start = 0
    for index in range(len(path) - 1, -1, -1):
        if is_summary(path[index]):
            summary, start = path[index], index + 1
            break
    turns = [
        m
        for m in path[start:]
        if m.role == "user"
        or (m.role == "assistant" and m.content and m.status != MessageStatus.FAILED)
    ]
    return summary, turns


def system_message(system_prompt: str | None, summary: Message | None) -> ChatMessage | None:
    """The one system message: the prompt, then the summary under its heading."""
    parts = [system_prompt] if system_prompt else []
    if summary is not None and summary.content:
        parts.append(f"{SUMMARY_HEADING}\n{summary.content}")
    return ChatMessage("system", "\n\n".join(parts)) if parts else None


def sent_messages(path: Sequence[Message], system_prompt: str | None) -> list[ChatMessage]:
    """Every message a request for the branch ``path`` sends when nothing is left out."""
    summary, turns = split_path(path)
    head = system_message(system_prompt, summary)
    return ([head] if head else []) + [m.to_chat() for m in turns]


@dataclass(frozen=True, slots=True)
class Fit:
    """The messages to send, what was left out, and the estimated size of the request."""

    messages: tuple[ChatMessage, ...]
    kept: tuple[Message, ...]
    #: Stored turns not sent in this request, oldest first.
    left_out: tuple[Message, ...]
    summary: Message | None
    #: Estimated prompt tokens of ``messages`` (scaled).
    used: int
    window: int | None
    #: Tokens left free for the reply.
    reserve: int
    #: False when even the system prompt and the newest prompt leave no room for a reply.
    fits: bool

    @property
    def overflowing(self) -> bool:
        """Whether the whole branch does not fit."""
        return bool(self.left_out) or not self.fits


def fit(
    path: Sequence[Message],
    system_prompt: str | None,
    *,
    window: int | None,
    max_tokens: int | None = None,
    scale: float = 1.0,
    head_room: int = 0,
    cache: TokenCache | None = None,
) -> Fit:
    """The newest turns of ``path`` that fit ``window``, keeping room for the reply.

    ``head_room`` keeps more tokens free (for a summary still to be written). The
    newest turn (the prompt) is always kept; a kept history opens with a prompt, not
    a reply. Each message is estimated once (``cache`` keeps estimates across calls).
    """
    cache = cache if cache is not None else TokenCache()
    summary, turns = split_path(path)
    head = system_message(system_prompt, summary)
    sent = [m.to_chat() for m in turns]
    sizes = [math.ceil(cache.message(m, c) * scale) for m, c in zip(turns, sent, strict=True)]
    head_size = math.ceil((REQUEST_OVERHEAD + (estimate_message(head) if head else 0)) * scale)
    total = head_size + sum(sizes)
    heads = (head,) if head else ()
    if window is None:
        return Fit((*heads, *sent), tuple(turns), (), summary, total, None, 0, True)
    reserve = reply_reserve(window, max_tokens)
    budget = window - reserve - head_room
    if total <= budget:
        return Fit((*heads, *sent), tuple(turns), (), summary, total, window, reserve, True)
    if not turns:
        return Fit(heads, (), (), summary, head_size, window, reserve, head_size <= budget)
    used = head_size + sizes[-1]
    first = len(turns) - 1
    while first > 0 and used + sizes[first - 1] <= budget:
        first -= 1
        used += sizes[first]
    while first < len(turns) - 1 and turns[first].role != "user":
        used -= sizes[first]
        first += 1
    return Fit(
        (*heads, *sent[first:]),
        tuple(turns[first:]),
        tuple(turns[:first]),
        summary,
        used,
        window,
        reserve,
        head_size + sizes[-1] <= budget,
    )
