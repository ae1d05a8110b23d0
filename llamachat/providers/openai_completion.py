"""Reading a whole (non-streaming) OpenAI chat completion, and the usage any reply ends with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llamachat.numbers import reported_cost
from llamachat.providers.base import Finished, ModelInfo, ProviderEvent, ReasoningDelta, Usage
from llamachat.providers.error_bodies import looks_like_html
from llamachat.providers.errors import ErrorContext
from llamachat.providers.fields import (
    Malformed,
    finish_reason,
    first_choice,
    malformed,
    object_field,
    optional_text,
    text_field,
    token_count,
    unreadable_body,
    usage_field,
)
from llamachat.providers.reply_errors import bad_response, stream_error
from llamachat.providers.thinking import split_thinking
from llamachat.providers.wirejson import NestedTooDeep, loads


def usage_event(usage: Mapping[str, Any], model: ModelInfo | None) -> Usage:
    """A :class:`Usage` from an OpenAI ``usage``; DeepInfra's ``estimated_cost`` is the cost.

    A count or cost that is not a sane number (negative, NaN, ``1e300``, text) is left unknown;
    so is a cost the tokens could not come to (:func:`reported_cost`), priced from the list instead.
    """
    prompt = token_count(usage.get("prompt_tokens"))
    completion = token_count(usage.get("completion_tokens"))
    cost = reported_cost(usage.get("estimated_cost"), prompt, completion)
    if cost is not None:
        return Usage(prompt, completion, cost)
    estimate = model.cost(Usage(prompt, completion)) if model else None
    return Usage(prompt, completion, estimate, cost_is_estimate=estimate is not None)


def parse_completion(
    body: str, ctx: ErrorContext, model: ModelInfo | None = None, status: int = 200
) -> list[ProviderEvent]:
    """The provider events of a whole (non-streaming) chat-completion reply, every field checked."""
    if not body.strip() or looks_like_html(body):
        raise unreadable_body(ctx, body, status)
    try:
        data = loads(body)
    except NestedTooDeep as problem:
        raise malformed(ctx, "the reply's ", problem, body) from None
    except ValueError:
        raise unreadable_body(ctx, body, status) from None
    if not isinstance(data, dict):
        raise bad_response(ctx, "the reply was not a JSON object", body)
    if data.get("error"):
        raise stream_error(ctx, body, mid_stream=False)
    try:
        choice = first_choice(data)
        if choice is None:
            raise bad_response(ctx, "the reply had no choices", body)
        message = object_field(choice, "message") or {}
        content = text_field(message, "content")
        reason = finish_reason(choice)
    except Malformed as problem:
        raise malformed(ctx, "the reply's ", problem, body) from None
    thought = optional_text(message, "reasoning_content") or optional_text(message, "reasoning")
    events: list[ProviderEvent] = []
    if thought:
        events.append(ReasoningDelta(thought))
    if content:
        events.extend(split_thinking(content))
    usage = usage_field(data)
    if usage:
        events.append(usage_event(usage, model))
    events.append(Finished(reason or "stop", data))
    return events
