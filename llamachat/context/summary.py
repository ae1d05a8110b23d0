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
#: Summary requests at most, for one overflow: a conversation grown far past its window
#: (imported, or kept under drop-oldest) is summarised a run at a time, oldest first.
MAX_CALLS = 8


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


def _clip(entry: str, budget: int) -> str:
    """The start of an entry too long for a request of its own."""
    return entry[: max(0, budget) * 3]


def chunks(turns: Sequence[Message], budget: int, scale: float = 1.0) -> list[list[str]]:
    """``turns`` as transcript entries, cut into runs of at most ``budget`` tokens each."""
    runs: list[list[str]] = [[]]
    used = 0
    for message in turns:
        entry = _entry(message)
        size = math.ceil((estimate_text(entry) + 2) * scale)
        if size > budget:
            entry, size = _clip(entry, int(budget / max(scale, 1.0))), budget
        if used + size > budget and runs[-1]:
            runs.append([])
            used = 0
        runs[-1].append(entry)
        used += size
    return [run for run in runs if run]


def _add(total: Usage | None, usage: Usage | None) -> Usage | None:
    if usage is None or total is None:
        return usage or total
    cost = None
    if total.cost_usd is not None or usage.cost_usd is not None:
        cost = (total.cost_usd or 0.0) + (usage.cost_usd or 0.0)
    return Usage(
        (total.prompt_tokens or 0) + (usage.prompt_tokens or 0),
        (total.completion_tokens or 0) + (usage.completion_tokens or 0),
        cost,
        total.cost_is_estimate or usage.cost_is_estimate,
    )


async def summarize(
    provider: Provider,
    model: str,
    previous: Message | None,
    turns: Sequence[Message],
    *,
    window: int,
    scale: float = 1.0,
    max_calls: int = MAX_CALLS,
) -> Summary:
    """Ask ``model`` for a summary of ``previous`` (an earlier summary) and ``turns``.

    Turns that do not fit one request are summarised a run at a time, oldest first,
    each run with the summary so far (at most ``max_calls`` requests; older runs beyond
    that are left out and counted). Each request is not streamed and asks for at most
    :func:`summary_cap` tokens. A failure is a :class:`ProviderError` whose sentence says
    the summary failed.
    """
    cap = summary_cap(window)
    instructions = ChatMessage("system", SUMMARY_INSTRUCTIONS)
    overhead = REQUEST_OVERHEAD + estimate_message(instructions) + 8
    budget = max(32, window - 2 * cap - overhead)  # the summary so far, the run, the reply
    runs = chunks(turns, budget, scale)
    skipped = runs[: max(0, len(runs) - max_calls)]
    runs = runs[len(skipped) :]
    left_out = sum(len(run) for run in skipped)
    running = previous.content if previous is not None else ""
    if running and estimate_text(running) * scale > cap:
        running = _clip(running, cap)  # a runaway summary: its start is kept
    total: Usage | None = None
    wanted = GenerationParams(max_tokens=cap, temperature=0.2)
    taken = provider.capabilities.params
    params = wanted.without(name for name in wanted.values() if name not in taken)
    for run in runs or [[]]:
        head = [f"{_LABELS['system']}: {running}"] if running else []
        text = "\n\n".join(head + run)
        request = ChatRequest((instructions, ChatMessage("user", text)), model, params, False)
        running, usage = await _ask(provider, model, request)
        total = _add(total, usage)
    return Summary(running, model, total, len(turns) - left_out, left_out)


async def _ask(provider: Provider, model: str, request: ChatRequest) -> tuple[str, Usage | None]:
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
    return summary, usage


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
