"""Reading an OpenAI chat-completion event stream (SSE) into provider events.

Every SSE case in PROTOCOLS.md section 1 is handled here: comments and
keep-alives, CRLF, events split across reads, a missing ``[DONE]``, usage in
any of its three places, errors inside a 200 stream in all three forms,
unknown fields kept in the final ``raw`` object, and literal ``</s>`` kept.
Reasoning arrives as ``reasoning_content``, ``reasoning`` or an inline
``<think>`` block and becomes :class:`ReasoningDelta` events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from llamachat.providers.base import Finished, ModelInfo, ProviderEvent, ReasoningDelta, TextDelta
from llamachat.providers.errors import ErrorContext, ErrorKind, ProviderError
from llamachat.providers.fields import (
    Malformed,
    empty_reply,
    first_choice,
    kind_of,
    malformed,
    unreadable_body,
)
from llamachat.providers.limits import StreamClock
from llamachat.providers.openai_completion import usage_event
from llamachat.providers.reply_errors import bad_response, stream_error
from llamachat.providers.sse import StreamStats
from llamachat.providers.thinking import ThinkSplitter
from llamachat.providers.wirejson import NestedTooDeep, loads, loads_each


def _nothing() -> None:
    return None


async def parse_chat_stream(
    events: AsyncIterator[ServerSentEvent],
    ctx: ErrorContext,
    model: ModelInfo | None = None,
    *,
    clock: StreamClock | None = None,
    stats: StreamStats | None = None,
) -> AsyncGenerator[ProviderEvent, None]:
    """The provider events of an OpenAI chat-completion SSE stream.

    Every field is type-checked: a value of the wrong type ends the reply with one
    sentence (the text so far is kept); informational ones (usage, reasoning) are ignored.
    Each piece of text tells ``clock`` the reply is progressing.
    """
    finish_reason: str | None = None
    done = False
    last: dict[str, Any] | None = None
    usage: Mapping[str, Any] | None = None
    progress = clock.progress if clock is not None else _nothing
    seen_event = got_text = False
    # Until the content is known not to open with <think>, it goes through the splitter.
    splitter: ThinkSplitter | None = ThinkSplitter()
    try:
        async for sse in events:
            seen_event = True
            data = sse.data
            if sse.event == "error":
                raise stream_error(ctx, data)
            if not data:
                continue
            if data[0] != "{" and data.strip() == "[DONE]":
                done = True
                break
            try:
                chunks: Iterable[Any] = (loads(data),)
            except NestedTooDeep as problem:
                raise malformed(ctx, "a stream event's ", problem, data) from None
            except ValueError:
                chunks, done = _several(data, ctx)
            for chunk in chunks:
                if type(chunk) is not dict:
                    continue
                if chunk.get("error"):
                    raise stream_error(ctx, data)
                try:
                    # The common case inline (this runs for every token); odd values to fields.py.
                    choices = chunk.get("choices")
                    if choices:
                        choice = choices[0] if type(choices) is list else None
                        if type(choice) is not dict:
                            first_choice(chunk)  # raises, saying what is wrong
                        assert choice is not None
                        delta = choice.get("delta")
                        if delta:
                            if type(delta) is not dict:
                                raise Malformed(f"'delta' was {kind_of(delta)}, not an object")
                            thought = delta.get("reasoning_content") or delta.get("reasoning")
                            if thought and type(thought) is str:
                                progress()
                                got_text = True
                                yield ReasoningDelta(thought)
                            content = delta.get("content")
                            if content:
                                if type(content) is not str:
                                    raise Malformed(f"'content' was {kind_of(content)}, not text")
                                progress()
                                got_text = True
                                if splitter is None:
                                    yield TextDelta(content)
                                else:
                                    for event in splitter.feed(content):
                                        yield event
                                    if splitter.passthrough:
                                        splitter = None
                        reason = choice.get("finish_reason")
                        if reason:
                            if type(reason) is not str:
                                raise Malformed(f"'finish_reason' was {kind_of(reason)}, not text")
                            progress()
                            finish_reason = reason[:64]
                            last = chunk
                    chunk_usage = chunk.get("usage")
                    if chunk_usage and type(chunk_usage) is dict:
                        usage = chunk_usage
                        last = chunk
                except Malformed as problem:
                    raise malformed(ctx, "a stream event's ", problem, data) from None
            if done:
                break
    except httpx.TransportError:
        if finish_reason is None:
            raise
        # The reply was complete; only the end marker was lost with the connection.
    if splitter is not None:
        for event in splitter.close():
            yield event
    if done:
        await _drain(events)
    if finish_reason is None and not done:
        raise _unfinished(ctx, seen_event=seen_event, got_text=got_text, stats=stats)
    if finish_reason is None and not got_text:
        raise empty_reply(ctx, what="a stream that ended before any text")
    if usage:
        yield usage_event(usage, model)
    yield Finished(finish_reason or "stop", last)


def _several(data: str, ctx: ErrorContext) -> tuple[list[Any], bool]:
    """The JSON values of an event that is not one value, and whether it held ``[DONE]``.

    SSE joins the ``data:`` lines of one event with a newline, and llama.cpp and some
    proxies send a chunk a line; others run objects together. Each is read in turn, up
    to a ``[DONE]`` line; only an event that is not JSON is an error.
    """
    parts: list[str] = []
    done = False
    for line in data.split("\n"):
        if line.strip() == "[DONE]":
            done = True
            break
        parts.append(line)
    text = "\n".join(parts)
    if done and not text.strip():
        return [], True
    try:
        return loads_each(text), done
    except NestedTooDeep as problem:
        raise malformed(ctx, "a stream event's ", problem, data) from None
    except ValueError:
        raise bad_response(ctx, "a stream event was not JSON", data) from None


def _unfinished(
    ctx: ErrorContext, *, seen_event: bool, got_text: bool, stats: StreamStats | None
) -> ProviderError:
    """Why a stream ended without its end: cut after some text, before any, or never a stream."""
    if got_text:
        return ProviderError(
            ErrorKind.STREAM_INCOMPLETE,
            f"The reply from {ctx.provider} stopped before it was complete: "
            "the text so far is kept; try again for the rest.",
            retryable=True,
        )
    if not seen_event and stats is not None:
        head = stats.head.lstrip()
        if not head or not head.startswith((":", "data", "event", "id", "retry")):
            return unreadable_body(ctx, stats.head)
    return ProviderError(
        ErrorKind.STREAM_INCOMPLETE,
        f"The reply from {ctx.provider} ended before any text arrived: try again.",
        retryable=True,
    )


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read what follows ``[DONE]`` so the connection goes back to the pool for reuse.

    A server that keeps the body open after ``[DONE]`` costs at most half a second.
    """
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(0.5):
            async for _ in events:
                pass
