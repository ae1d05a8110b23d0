"""Summaries: when a conversation outgrows its window, the turns that no longer fit are
summarised by a model, and the summary starts a new branch.

The new branch is a sibling of the conversation's first message: the summary (a
``system`` message marked in ``raw``), copies of the turns that still fit, then the
new prompt. The original branch stays whole and is one step away with the usual
branch keys; the summary's own tokens and cost are stored on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import aclosing, suppress
from dataclasses import dataclass

from llamachat.context.fit import SUMMARY_MARK
from llamachat.context.policy import summary_cap
from llamachat.context.tokens import REQUEST_OVERHEAD, estimate_message, estimate_text
from llamachat.providers.base import (
    ChatMessage,
    ChatRequest,
    GenerationParams,
    Provider,
    TextDelta,
    Usage,
)
from llamachat.providers.errors import ErrorKind, ProviderError
from llamachat.store.db import Store, StoreError
from llamachat.store.models import Message, MessageStatus

SUMMARY_INSTRUCTIONS = (
    "You write summaries of conversations. Summarise the conversation below so that it can "
    "go on from your summary alone: keep names, facts, numbers, decisions, code identifiers, "
    "the person's preferences and open questions. Write only the summary, in the "
    "conversation's language."
)
_LABELS = {"user": "Person", "assistant": "Assistant", "system": "Earlier summary"}


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary a model wrote, what it covers and what it cost."""

    text: str
    model: str
    usage: Usage | None
    #: Stored turns it summarises (after any earlier summary it folds in).
    covered: int
    #: Older turns that did not fit the summarising request either (left out of it).
    left_out: int


def _entry(message: Message) -> str:
    return f"{_LABELS.get(message.role, message.role)}: {message.content}"


def transcript(
    previous: Message | None, turns: Sequence[Message], budget: int, scale: float = 1.0
) -> tuple[str, int]:
    """The text to summarise within ``budget`` tokens: an earlier summary, then the newest
    turns that fit; and how many (older) turns did not fit."""
    head = _entry(previous) if previous is not None else ""
    if head and estimate_text(head) * scale > budget // 2:
        head = head[: max(0, budget // 2) * 2]  # a runaway summary: its start is kept
    used = math.ceil(estimate_text(head) * scale)
    chosen: list[str] = []
    for message in reversed(turns):
        entry = _entry(message)
        size = math.ceil((estimate_text(entry) + 2) * scale)
        if used + size > budget and chosen:
            break
        if used + size > budget:  # even the newest turn alone is too long: its start
            entry = entry[: max(0, budget - used) * 3]
            size = budget - used
        chosen.append(entry)
        used += size
    chosen.reverse()
    text = "\n\n".join([head, *chosen] if head else chosen)
    return text, len(turns) - len(chosen)


async def summarize(
    provider: Provider,
    model: str,
    previous: Message | None,
    turns: Sequence[Message],
    *,
    window: int,
    scale: float = 1.0,
) -> Summary:
    """Ask ``model`` for a summary of ``previous`` (an earlier summary) and ``turns``.

    One request, not streamed, at most :func:`summary_cap` tokens long. A failure is a
    :class:`ProviderError` whose sentence says the summary failed.
    """
    cap = summary_cap(window)
    instructions = ChatMessage("system", SUMMARY_INSTRUCTIONS)
    overhead = REQUEST_OVERHEAD + estimate_message(instructions) + 8
    budget = max(32, int((window - cap - overhead) / max(scale, 1.0)))
    text, left_out = transcript(previous, turns, budget, scale)
    wanted = GenerationParams(max_tokens=cap, temperature=0.2)
    taken = provider.capabilities.params
    params = wanted.without(name for name in wanted.values() if name not in taken)
    request = ChatRequest((instructions, ChatMessage("user", text)), model, params, stream=False)
    parts: list[str] = []
    usage: Usage | None = None
    try:
        async with aclosing(provider.stream(request)) as events:
            async for event in events:
                if type(event) is TextDelta:
                    parts.append(event.text)
                elif isinstance(event, Usage):
                    usage = event
    except ProviderError as error:
        error.message = f"Summarising the earlier conversation failed: {error.message}"
        error.args = (error.message,)
        raise
    summary = "".join(parts).strip()
    if not summary:
        raise ProviderError(
            ErrorKind.EMPTY_REPLY,
            f"Summarising the earlier conversation failed: '{model}' on "
            f"{provider.display_name} wrote nothing; try again, or use drop-oldest.",
        )
    return Summary(summary, model, usage, len(turns) - left_out, left_out)


def _copy(store: Store, original: Message, parent_id: int, *, active: bool) -> Message:
    status = original.status
    if status in (MessageStatus.QUEUED, MessageStatus.STREAMING):
        status = MessageStatus.INTERRUPTED
    return store.add_message(
        original.conversation_id,
        original.role,
        original.content,
        parent_id=parent_id,
        images=original.images,
        status=status,
        provider=original.provider,
        model=original.model,
        params=original.params,
        created_at=original.created_at or None,
        make_active=active,
        finish_reason=original.finish_reason,
        reasoning=original.reasoning,
        reasoning_seconds=original.reasoning_seconds,
    )


def summary_branch(
    store: Store,
    summary: Summary,
    provider_name: str,
    kept: Sequence[Message],
    covers_until: int | None,
) -> Message:
    """Store ``summary`` as a new branch with copies of ``kept`` (ending with the prompt);
    the copy of the prompt, now the active leaf, is returned and the original prompt (a
    leaf with no reply yet) is removed, so the prompt is moved rather than doubled."""
    prompt = kept[-1]
    usage = summary.usage or Usage()
    root = store.add_message(
        prompt.conversation_id,
        "system",
        summary.text,
        parent_id=None,
        provider=provider_name,
        model=summary.model,
        make_active=False,
        raw={
            "llamachat": SUMMARY_MARK,
            "covers_until": covers_until,
            "covered": summary.covered,
            "left_out": summary.left_out,
        },
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
    )
    try:
        parent = root
        for message in kept[:-1]:
            parent = _copy(store, message, parent.id, active=False)
        moved = _copy(store, prompt, parent.id, active=True)
    except StoreError:
        with suppress(StoreError):
            store.delete_message(root.id)
        raise
    if not store.replies_to(prompt.id):
        with suppress(StoreError):
            store.delete_message(prompt.id)
    return moved
